package difftest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseScript(t *testing.T) {
	got, err := ParseScript("# c\n\nls-add sw0\n  lsp-set-addresses p1 \"00:00:00:00:00:01 10.0.0.1\" unknown\nacl-add sw0 to-lport 1 'ip4.src == $as' drop\n")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"ls-add", "sw0"},
		{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1", "unknown"},
		{"acl-add", "sw0", "to-lport", "1", "ip4.src == $as", "drop"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if _, err := ParseScript("ls-add 'sw0\n"); err == nil {
		t.Error("unterminated quote accepted")
	}
}

package openflow

import (
	"encoding/hex"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ofpPrint runs `ovs-ofctl ofp-print` on b, skipping the test when the tool
// is missing.
func ofpPrint(t *testing.T, b []byte) string {
	t.Helper()
	path, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		t.Skip("ovs-ofctl not installed")
	}
	cmd := exec.Command(path, "ofp-print", hex.EncodeToString(b))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ofp-print: %v\n%s%s", err, out, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("ofp-print warned about %x:\n%s", b, stderr.String())
	}
	return strings.TrimRight(string(out), "\n")
}

var cmpOpts = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

// checkMessage encodes m, compares ofp-print's rendering with want, and
// checks that decoding gives m back.
func checkMessage(t *testing.T, m Message, want string) []byte {
	t.Helper()
	b, err := Marshal(1, m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if got := ofpPrint(t, b); got != want {
		t.Errorf("ofp-print of %x:\n%s", b, cmp.Diff(want, got))
	}
	xid, back, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("unmarshal %x: %v", b, err)
	}
	if xid != 1 {
		t.Errorf("xid = %d, want 1", xid)
	}
	if d := cmp.Diff(m, back, cmpOpts); d != "" {
		t.Errorf("round trip (-sent +decoded):\n%s", d)
	}
	return b
}

// checkRoundTrip checks that m survives Marshal and Unmarshal.
func checkRoundTrip(t *testing.T, m Message) {
	t.Helper()
	b, err := Marshal(1, m)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	_, back, err := Unmarshal(b)
	if err != nil {
		t.Fatalf("unmarshal %x: %v", b, err)
	}
	if d := cmp.Diff(m, back, cmpOpts); d != "" {
		t.Errorf("round trip (-sent +decoded):\n%s", d)
	}
}

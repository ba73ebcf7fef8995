package ovsjson

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzAppendString: the output is valid JSON that decodes to s (with
// invalid UTF-8 replaced as encoding/json replaces it).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "\b\f\n\r\t\x00\x1f\x7f", "é€😀", "bad\xff\xfe", "\u2028<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString([]byte("x"), s)[1:]
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("AppendString(%q) = %s: not JSON: %v", s, b, err)
		}
		want := s
		if !utf8.ValidString(s) {
			j, _ := json.Marshal(s)
			json.Unmarshal(j, &want)
		}
		if got != want {
			t.Fatalf("AppendString(%q) = %s decodes to %q", s, b, got)
		}
	})
}

func TestAppendStringEscapes(t *testing.T) {
	got := string(AppendString(nil, "a\"\\\b\f\n\r\t\x01\xffz"))
	if want := `"a\"\\\b\f\n\r\t\u0001\ufffdz"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got := string(AppendUUID(nil, "0f")); got != `["uuid","0f"]` {
		t.Errorf("AppendUUID: %s", got)
	}
}

func TestIsUUID(t *testing.T) {
	for _, tc := range []struct {
		s            string
		any, lowered bool
	}{
		{"6b3f2a7e-0000-4000-8000-000000000001", true, true},
		{"6B3F2A7E-0000-4000-8000-00000000000A", true, false},
		{"6b3f2a7e-0000-4000-8000-00000000000", false, false},
		{"6b3f2a7e00000-4000-8000-000000000001", false, false},
		{"6b3f2a7e-0000-4000-8000-00000000000g", false, false},
		{"", false, false},
	} {
		if got := IsUUID(tc.s); got != tc.any {
			t.Errorf("IsUUID(%q) = %v", tc.s, got)
		}
		if got := IsLowerUUID(tc.s); got != tc.lowered {
			t.Errorf("IsLowerUUID(%q) = %v", tc.s, got)
		}
	}
}

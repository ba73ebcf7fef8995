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
		if ref := appendStringByByte(nil, s); string(b) != string(ref) {
			t.Fatalf("AppendString(%q) = %s, byte by byte %s", s, b, ref)
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

// appendStringByByte is AppendString as it was before its eight-byte
// fast path: the reference TestAppendStringWords compares with.
func appendStringByByte(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

// TestAppendStringWords puts each byte that must not be copied as it is
// at every position of strings up to three words long, alone and in
// pairs, so that the eight-byte scan finds it wherever it falls.
func TestAppendStringWords(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x1f", "\n", "\x7f", "é", "€", "😀", "\xff", "\xc3"}
	for n := range 25 {
		for p := range n + 1 {
			for _, sp := range specials {
				for _, sp2 := range []string{"", "\"", "é"} {
					base := []byte("abcdefghijklmnopqrstuvwxyz"[:n])
					s := string(base[:p]) + sp + string(base[p:]) + sp2
					if got, want := string(AppendString(nil, s)), string(appendStringByByte(nil, s)); got != want {
						t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
					}
				}
			}
		}
	}
}

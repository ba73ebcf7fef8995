package ovsjson

import "unicode/utf8"

// AppendString appends s as a JSON string: '"' and '\' escaped, \b \f
// \n \r \t as such, other control characters as \u00XX, and each byte
// of invalid UTF-8 as \ufffd (as encoding/json writes it), so that the
// result is always valid JSON. Everything else is written as it is.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = asciiRun(s, i); i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// asciiRun returns the index of the first byte from s[i] on that
// AppendString cannot copy as it is (a quote, a backslash, a control
// character or a byte of a multi-byte sequence), or len(s): eight bytes
// at a time, as plainRun does, while none is such a byte.
func asciiRun(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q, bs := w^('"'*ones), w^('\\'*ones)
		if (w|(w-0x20*ones)&^w|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	for i < len(s) && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// AppendUUID appends u as an RFC 7047 <uuid>: ["uuid","u"].
func AppendUUID(b []byte, u string) []byte {
	b = append(b, `["uuid","`...)
	b = append(b, u...)
	return append(b, `"]`...)
}

// IsUUID reports whether s is a UUID as RFC 7047's <uuid> writes it:
// 8-4-4-4-12 hexadecimal digits, in either case.
func IsUUID(s string) bool { return isUUID(s, true) }

// IsLowerUUID is IsUUID for lowercase digits only, the canonical form
// that ovsdb-server and libovsdb write.
func IsLowerUUID(s string) bool { return isUUID(s, false) }

func isUUID(s string, upper bool) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case upper && c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

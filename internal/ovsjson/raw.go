package ovsjson

import (
	"errors"
	"fmt"
)

// ErrSyntax is wrapped by every error of the raw scanner (Members,
// Elements): the bytes are not one valid JSON value.
var ErrSyntax = errors.New("invalid JSON")

// maxRawDepth bounds nesting in the raw scanner, as fastjson's parser does.
const maxRawDepth = 300

// Member is one member of a JSON object as raw bytes: Key is the text
// between the quotes, escapes left as they are; Value is the whole
// value.
type Member struct {
	Key, Value []byte
}

// Members splits the JSON object b into its members without building a
// tree, checking that b is exactly one valid JSON value (RFC 8259
// grammar, whitespace around it allowed). The slices alias b.
func Members(b []byte, out []Member) ([]Member, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return out, fmt.Errorf("%w: not an object", ErrSyntax)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return out, trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return out, errAt(b, i, "member name")
		}
		end, err := skipString(b, i)
		if err != nil {
			return out, err
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return out, errAt(b, i, "':'")
		}
		i = skipSpace(b, i+1)
		if end, err = skipValue(b, i, 1); err != nil {
			return out, err
		}
		out = append(out, Member{Key: key, Value: b[i:end]})
		i = skipSpace(b, end)
		if i < len(b) && b[i] == '}' {
			return out, trailing(b, i+1)
		}
		if i >= len(b) || b[i] != ',' {
			return out, errAt(b, i, "',' or '}'")
		}
		i = skipSpace(b, i+1)
	}
}

// Elements splits the JSON array b into its elements, as Members does
// for an object. The slices alias b.
func Elements(b []byte, out [][]byte) ([][]byte, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return out, fmt.Errorf("%w: not an array", ErrSyntax)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, trailing(b, i+1)
	}
	for {
		end, err := skipValue(b, i, 1)
		if err != nil {
			return out, err
		}
		out = append(out, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ']' {
			return out, trailing(b, i+1)
		}
		if i >= len(b) || b[i] != ',' {
			return out, errAt(b, i, "',' or ']'")
		}
		i = skipSpace(b, i+1)
	}
}

func trailing(b []byte, i int) error {
	if i = skipSpace(b, i); i != len(b) {
		return errAt(b, i, "end of input")
	}
	return nil
}

func errAt(b []byte, i int, want string) error {
	if i >= len(b) {
		return fmt.Errorf("%w: unexpected end of input, want %s", ErrSyntax, want)
	}
	return fmt.Errorf("%w: unexpected %q at offset %d, want %s", ErrSyntax, b[i], i, want)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the value starting at b[i]; depth is the
// nesting of the value's container.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, errAt(b, i, "a value")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		if depth >= maxRawDepth {
			return i, fmt.Errorf("%w: nested deeper than %d", ErrSyntax, maxRawDepth)
		}
		return skipContainer(b, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, errAt(b, i, "a value")
}

func skipContainer(b []byte, i, depth int) (int, error) {
	obj := b[i] == '{'
	closer := byte(']')
	if obj {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, nil
	}
	for {
		var err error
		if obj {
			if i >= len(b) || b[i] != '"' {
				return i, errAt(b, i, "member name")
			}
			if i, err = skipString(b, i); err != nil {
				return i, err
			}
			if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
				return i, errAt(b, i, "':'")
			}
			i = skipSpace(b, i+1)
		}
		if i, err = skipValue(b, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		if i >= len(b) || b[i] != ',' {
			return i, errAt(b, i, "',' or '"+string(closer)+"'")
		}
		i = skipSpace(b, i+1)
	}
}

// skipString returns the end of the string whose opening quote is b[i],
// checking escapes and rejecting control characters.
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		if i = plainRun(b, i); i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return i, fmt.Errorf("%w: control character %#x in string", ErrSyntax, c)
		case c == '\\':
			i++
			if i >= len(b) {
				return i, errAt(b, i, "an escape")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex4(b[i+1:i+5]) {
					return i, fmt.Errorf("%w: bad \\u escape at offset %d", ErrSyntax, i)
				}
				i += 4
			default:
				return i, fmt.Errorf("%w: bad escape \\%c", ErrSyntax, b[i])
			}
		}
	}
	return i, errAt(b, i, "'\"'")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

// skipNumber checks RFC 8259's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return i, fmt.Errorf("%w: bad number at offset %d", ErrSyntax, start)
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return i, fmt.Errorf("%w: bad number at offset %d", ErrSyntax, start)
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return i, fmt.Errorf("%w: bad number at offset %d", ErrSyntax, start)
		}
		i = j
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errAt(b, i, lit)
	}
	return i + len(lit), nil
}

package sbreplica

import (
	"bytes"
	"errors"

	"github.com/valyala/fastjson"
)

// The outer layers of a message (the JSON-RPC envelope, the table and
// row maps of <table-updates>) are walked in place by the functions
// here; only each row is parsed into fastjson values, with one reused
// parser. Parsing a whole initial reply at once would build millions of
// values in one growing slice: hundreds of MB for the controller bench.

var (
	errSyntax    = errors.New("malformed JSON")
	errNotObject = errors.New("expected a JSON object")
	errNotArray  = errors.New("expected a JSON array")
	errTooDeep   = errors.New("JSON nested too deep")
)

// maxNesting bounds the nesting inside one skipped value: an OVSDB
// <table-updates> nests about eight deep.
const maxNesting = 64

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i]
// ('"'), and whether it holds escapes.
func skipString(b []byte, i int) (int, bool, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false, errSyntax
		}
		q := j + k
		if !escaped(b, i, q) {
			return q + 1, bytes.IndexByte(b[i+1:q], '\\') >= 0, nil
		}
		j = q + 1
	}
}

// escaped reports whether the quote at b[q] is escaped: preceded by an
// odd run of backslashes after from.
func escaped(b []byte, from, q int) bool {
	n := 0
	for p := q - 1; p > from && b[p] == '\\'; p-- {
		n++
	}
	return n%2 == 1
}

// skipValue returns the index after the value that starts at b[i]. It
// checks brackets and strings; scalars are checked by whoever reads them.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		j, _, err := skipString(b, i)
		return j, err
	case '{', '[':
		var stack [maxNesting]byte
		n := 0
		for j := i; j < len(b); j++ {
			switch c := b[j]; c {
			case '"':
				k, _, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = k - 1
			case '{', '[':
				if n == maxNesting {
					return 0, errTooDeep
				}
				stack[n] = c + 2 // '{'+2 == '}', '['+2 == ']'
				n++
			case '}', ']':
				if n == 0 || stack[n-1] != c {
					return 0, errSyntax
				}
				n--
				if n == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
			j++
		}
		if !isLiteral(b[i:j]) {
			return 0, errSyntax
		}
		return j, nil
	}
}

// isLiteral reports whether tok is true, false, null or a JSON number.
func isLiteral(tok []byte) bool {
	switch string(tok) {
	case "true", "false", "null":
		return true
	}
	i := 0
	if i < len(tok) && tok[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || n > 1 && tok[start] == '0' {
		return false
	}
	if i < len(tok) && tok[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(tok)
}

// rawString returns the contents of the JSON string raw, unescaped.
func rawString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, false
	}
	end, esc, err := skipString(raw, 0)
	if err != nil || end != len(raw) {
		return nil, false
	}
	if !esc {
		return raw[1 : len(raw)-1], true
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(raw)
	if err != nil {
		return nil, false
	}
	s, err := v.StringBytes()
	return s, err == nil
}

// walkObject walks the object that starts at b[i], calling fn with each
// key and the index of its value; fn returns the index after the value.
// walkObject returns the index after the object.
func walkObject(b []byte, i int, fn func(key []byte, i int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '{' {
		return 0, errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errSyntax
		}
		j, _, err := skipString(b, i)
		if err != nil {
			return 0, err
		}
		key, ok := rawString(b[i:j])
		if !ok {
			return 0, errSyntax
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return 0, errSyntax
		}
		if i, err = fn(key, skipSpace(b, i+1)); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// walkArray walks the array that starts at b[i], calling fn with the
// position of each element and its index in b; fn returns the index
// after the element. walkArray returns the index after the array.
func walkArray(b []byte, i int, fn func(n, i int) (int, error)) (int, error) {
	if i >= len(b) || b[i] != '[' {
		return 0, errNotArray
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		var err error
		if i, err = fn(n, i); err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		return 0, errSyntax
	}
}

// members calls fn with each key and raw value of the object raw.
func members(raw []byte, fn func(key, val []byte) error) error {
	end, err := walkObject(raw, skipSpace(raw, 0), func(key []byte, i int) (int, error) {
		j, err := skipValue(raw, i)
		if err != nil {
			return 0, err
		}
		return j, fn(key, raw[i:j])
	})
	if err != nil {
		return err
	}
	return atEnd(raw, end)
}

// elements returns the raw values of the array raw.
func elements(raw []byte) ([][]byte, error) {
	var out [][]byte
	end, err := walkArray(raw, skipSpace(raw, 0), func(_, i int) (int, error) {
		j, err := skipValue(raw, i)
		if err != nil {
			return 0, err
		}
		out = append(out, raw[i:j])
		return j, nil
	})
	if err != nil {
		return nil, err
	}
	return out, atEnd(raw, end)
}

func atEnd(raw []byte, i int) error {
	if skipSpace(raw, i) != len(raw) {
		return errSyntax
	}
	return nil
}

// message is a JSON-RPC message with its members raw (nil when absent).
type message struct {
	id, method, params, result, err []byte
}

func parseMessage(b []byte) (message, error) {
	var m message
	err := members(b, func(key, val []byte) error {
		switch string(key) {
		case "id":
			m.id = val
		case "method":
			m.method = val
		case "params":
			m.params = val
		case "result":
			m.result = val
		case "error":
			m.err = val
		}
		return nil
	})
	return m, err
}

func isNull(raw []byte) bool { return raw == nil || string(raw) == "null" }

// methodName returns the message's method, "" for a reply.
func (m message) methodName() string {
	s, _ := rawString(m.method)
	return string(s)
}

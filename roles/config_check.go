package roles

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// checkKeys reports every key the file has but Config does not, and every
// value whose TOML type does not fit its field, before anything is decoded
// into Config. Children of a bad key are not reported again.
func checkKeys(md toml.MetaData, raw map[string]any) []*ConfigError {
	want := configKeys()
	var errs []*ConfigError
	var bad []string // keys already reported; their children are skipped
	for _, k := range md.Keys() {
		key := k.String()
		if underAny(key, bad) {
			continue
		}
		t, ok := want[key]
		if !ok {
			errs = append(errs, &ConfigError{Key: key, Err: unknownKey(key, want)})
			bad = append(bad, key)
			continue
		}
		if err := checkType(key, valueAt(raw, k), t); err != nil {
			errs = append(errs, err)
			bad = append(bad, key)
		}
	}
	return errs
}

// unknownKey says what the keys beside key could have been.
func unknownKey(key string, known map[string]reflect.Type) error {
	parent, _, nested := cutLast(key)
	where := "at the top level"
	if nested {
		where = "in [" + parent + "]"
	}
	var siblings []string
	for k := range known {
		if p, name, _ := cutLast(k); p == parent {
			siblings = append(siblings, name)
		}
	}
	if len(siblings) == 0 {
		return errors.New("unknown key")
	}
	slices.Sort(siblings)
	return fmt.Errorf("unknown key (known keys %s: %s)", where, strings.Join(siblings, ", "))
}

// cutLast splits "a.b.c" into "a.b" and "c"; without a dot, parent is ""
// and ok is false.
func cutLast(key string) (parent, name string, ok bool) {
	i := strings.LastIndex(key, ".")
	if i < 0 {
		return "", key, false
	}
	return key[:i], key[i+1:], true
}

func underAny(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
}

func valueAt(raw map[string]any, k toml.Key) any {
	var v any = raw
	for _, part := range k {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// checkType checks v, a value from an untyped decode, against the Go type
// it will be decoded into.
func checkType(key string, v any, t reflect.Type) *ConfigError {
	if t.Kind() == reflect.Slice {
		elems, ok := v.([]any)
		if !ok {
			return typeError(key, v, "array of strings")
		}
		for i, e := range elems {
			if err := checkType(fmt.Sprintf("%s[%d]", key, i), e, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	}
	want := map[reflect.Kind]string{
		reflect.String: "string",
		reflect.Int:    "integer",
		reflect.Struct: "table",
	}[t.Kind()]
	if tomlType(v) != want {
		return typeError(key, v, want)
	}
	return nil
}

func typeError(key string, v any, want string) *ConfigError {
	return &ConfigError{Key: key, Err: fmt.Errorf("wrong type: want %s, got %s", want, tomlType(v))}
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	case []map[string]any:
		return "array of tables"
	}
	return "date/time"
}

// lineIndex maps dotted keys to the line that defines them.
type lineIndex map[string]int

// find returns the line of key (array elements as "key[i]"), or of its
// nearest written parent, or 0.
func (l lineIndex) find(key string) int {
	if n, ok := l[key]; ok {
		return n
	}
	key, _, _ = strings.Cut(key, "[")
	for key != "" {
		if n, ok := l[key]; ok {
			return n
		}
		i := strings.LastIndex(key, ".")
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

var (
	bareKey     = regexp.MustCompile(`^[A-Za-z0-9_-]+(\s*\.\s*[A-Za-z0-9_-]+)*$`)
	tableHeader = regexp.MustCompile(`^\[\[?\s*([A-Za-z0-9_.\s-]+?)\s*\]\]?`)
	dotSpaces   = regexp.MustCompile(`\s*\.\s*`)
)

// keyLines finds where each key is written. BurntSushi/toml keeps key
// positions private, so this is a small line scanner: it knows table
// headers, bare (dotted) keys and multi-line strings, which covers every
// key Config has. Keys it cannot place fall back to their parent's line.
func keyLines(data []byte) lineIndex {
	idx := lineIndex{}
	set := func(key string, n int) {
		if _, ok := idx[key]; !ok {
			idx[key] = n
		}
	}
	table, closer := "", ""
	var arr *arrayScan
	for i, line := range strings.Split(string(data), "\n") {
		n, s := i+1, strings.TrimSpace(line)
		if arr != nil {
			if arr.scan(line, n, set) {
				arr = nil
			}
			continue
		}
		if closer != "" {
			if strings.Contains(s, closer) {
				closer = ""
			}
			continue
		}
		if m := tableHeader.FindStringSubmatch(s); m != nil {
			table = dotSpaces.ReplaceAllString(m[1], ".")
			set(table, n)
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || !bareKey.MatchString(k) {
			continue
		}
		key := dotSpaces.ReplaceAllString(k, ".")
		if table != "" {
			key = table + "." + key
		}
		set(key, n)
		if v = strings.TrimSpace(v); strings.HasPrefix(v, "[") {
			arr = &arrayScan{key: key}
			if arr.scan(v, n, set) {
				arr = nil
			}
			continue
		}
		closer = openMultiline(v)
	}
	return idx
}

// arrayScan follows an array value over its lines and records the line on
// which each element starts, as "key[i]".
type arrayScan struct {
	key     string
	depth   int  // bracket depth; 1 is inside the array itself
	n       int  // index of the next element
	want    bool // the next value starts an element
	inStr   byte // the open string's quote, or 0
	escaped bool
}

// scan reads one line of the array and reports whether the array ended.
func (a *arrayScan) scan(line string, n int, set func(string, int)) bool {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if a.inStr != 0 {
			switch {
			case a.escaped:
				a.escaped = false
			case c == '\\' && a.inStr == '"':
				a.escaped = true
			case c == a.inStr:
				a.inStr = 0
			}
			continue
		}
		switch {
		case c == '#':
			return false
		case c == ' ' || c == '\t' || c == '\r':
			continue
		case c == ',' && a.depth == 1:
			a.want = true
			continue
		case c == ']':
			a.depth--
			if a.depth == 0 {
				return true
			}
			continue
		}
		if a.want && a.depth == 1 {
			set(fmt.Sprintf("%s[%d]", a.key, a.n), n)
			a.n++
			a.want = false
		}
		switch c {
		case '[':
			a.depth++
			a.want = a.depth == 1
		case '"', '\'':
			a.inStr = c
		}
	}
	return false
}

// openMultiline returns the delimiter that closes a multi-line string left
// open at the end of value, or "".
func openMultiline(value string) string {
	for _, d := range []string{`"""`, `'''`} {
		if strings.Count(value, d)%2 == 1 {
			return d
		}
	}
	return ""
}

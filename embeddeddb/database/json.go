package database

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// Symbols resolves named UUIDs inside one transaction.
type Symbols interface {
	// Resolve returns the UUID bound to name, binding a fresh one on first use.
	Resolve(name string) string
}

// ParseUUIDValue parses ["uuid", "<uuid>"] (and, with sym, ["named-uuid", name]).
func ParseUUIDValue(v *fastjson.Value, sym Symbols) (string, bool) {
	if v.Type() != fastjson.TypeArray {
		return "", false
	}
	arr := v.GetArray()
	if len(arr) != 2 || arr[0].Type() != fastjson.TypeString || arr[1].Type() != fastjson.TypeString {
		return "", false
	}
	tag, s := arr[0].GetStringBytes(), arr[1].GetStringBytes()
	switch string(tag) {
	case "uuid":
		if ovsjson.IsUUID(string(s)) {
			return strings.ToLower(string(s)), true
		}
	case "named-uuid":
		if sym != nil && isID(string(s)) {
			return sym.Resolve(string(s)), true
		}
	}
	return "", false
}

// isID reports whether s is an <id> as RFC 7047 defines it.
func isID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func parseAtom(bt *BaseType, v *fastjson.Value, sym Symbols) (Atom, *Error) {
	switch bt.Type {
	case TypeInteger:
		if v.Type() == fastjson.TypeNumber {
			if n, err := v.Int64(); err == nil {
				return Atom{N: n}, nil
			}
		}
		return Atom{}, syntaxErr(SortedJSON(v), "expected integer")
	case TypeReal:
		if v.Type() == fastjson.TypeNumber {
			f, err := v.Float64()
			if err == nil && !math.IsInf(f, 0) {
				return RealAtom(f), nil
			}
		}
		return Atom{}, syntaxErr(SortedJSON(v), "expected real")
	case TypeBoolean:
		switch v.Type() {
		case fastjson.TypeTrue:
			return Atom{N: 1}, nil
		case fastjson.TypeFalse:
			return Atom{}, nil
		}
		return Atom{}, syntaxErr(SortedJSON(v), "expected boolean")
	case TypeString:
		if s, err := v.StringBytes(); err == nil {
			if !utf8.Valid(s) {
				return Atom{}, syntaxErr(SortedJSON(v), "string is not valid UTF-8")
			}
			return Atom{S: string(s)}, nil
		}
		return Atom{}, syntaxErr(SortedJSON(v), "expected string")
	default:
		if u, ok := ParseUUIDValue(v, sym); ok {
			return Atom{S: u}, nil
		}
		return Atom{}, syntaxErr(SortedJSON(v), "expected uuid")
	}
}

// parseDatum parses a column value in RFC 7047 notation and checks the
// column's set size and every atom's constraints (except references,
// which are checked at commit).
func parseDatum(c *Column, v *fastjson.Value, sym Symbols) (Datum, *Error) {
	d, err := parseDatumShape(c, v, sym)
	if err != nil {
		return Datum{}, err
	}
	if err := c.checkSize(d, v); err != nil {
		return Datum{}, err
	}
	return d, c.checkAtoms(d)
}

func parseDatumShape(c *Column, v *fastjson.Value, sym Symbols) (Datum, *Error) {
	if c.Value != nil {
		return parseMap(c, v, sym)
	}
	// Check types first: fastjson's accessors allocate an error on mismatch.
	if v.Type() == fastjson.TypeArray {
		if arr := v.GetArray(); len(arr) == 2 && arr[0].Type() == fastjson.TypeString && string(arr[0].GetStringBytes()) == "set" {
			return parseSet(c, arr[1], sym)
		}
	}
	a, err := parseAtom(&c.Key, v, sym)
	if err != nil {
		return Datum{}, err
	}
	if src, ok := sym.(atomSource); ok {
		return Datum{Keys: src.oneAtom(a)}, nil
	}
	return Datum{Keys: []Atom{a}}, nil
}

func parseSet(c *Column, v *fastjson.Value, sym Symbols) (Datum, *Error) {
	elems, err := v.Array()
	if err != nil {
		return Datum{}, syntaxErr(SortedJSON(v), "expected [\"set\", <array>]")
	}
	d := Datum{Keys: make([]Atom, 0, len(elems))}
	for _, e := range elems {
		a, err := parseAtom(&c.Key, e, sym)
		if err != nil {
			return Datum{}, err
		}
		d.Keys = append(d.Keys, a)
	}
	n := len(d.Keys)
	d.sortDedup(c.Key.Type, nil)
	if len(d.Keys) != n {
		return Datum{}, errorf(TagOVSDB, "set contains duplicate value")
	}
	return d, nil
}

func parseMap(c *Column, v *fastjson.Value, sym Symbols) (Datum, *Error) {
	arr, err := v.Array()
	if err != nil || len(arr) != 2 {
		return Datum{}, syntaxErr(SortedJSON(v), "expected [\"map\", <array>]")
	}
	tag, err := arr[0].StringBytes()
	pairs, err2 := arr[1].Array()
	if err != nil || string(tag) != "map" || err2 != nil {
		return Datum{}, syntaxErr(SortedJSON(v), "expected [\"map\", <array>]")
	}
	// Keys and values share one allocation; each has its own capacity,
	// so that an append to one never writes into the other.
	both := make([]Atom, 2*len(pairs))
	d := Datum{Keys: both[:0:len(pairs)], Values: both[len(pairs) : len(pairs) : 2*len(pairs)]}
	for _, p := range pairs {
		kv, err := p.Array()
		if err != nil || len(kv) != 2 {
			return Datum{}, syntaxErr(SortedJSON(p), "expected <pair>")
		}
		k, perr := parseAtom(&c.Key, kv[0], sym)
		if perr != nil {
			return Datum{}, perr
		}
		val, perr := parseAtom(c.Value, kv[1], sym)
		if perr != nil {
			return Datum{}, perr
		}
		d.Keys = append(d.Keys, k)
		d.Values = append(d.Values, val)
	}
	if d.sortDedup(c.Key.Type, c.Value) {
		return Datum{}, errorf(TagOVSDB, "map contains duplicate key")
	}
	return d, nil
}

func (c *Column) checkSize(d Datum, v *fastjson.Value) *Error {
	if len(d.Keys) >= c.Min && len(d.Keys) <= c.Max {
		return nil
	}
	maxN := strconv.Itoa(c.Max)
	if c.Max == math.MaxInt {
		maxN = "4294967295"
	}
	syntax := ""
	if v != nil {
		syntax = v.String()
	}
	kind := "set"
	if c.Value != nil {
		kind = "map"
	}
	return syntaxErr(syntax, "%s must have %d to %s members but %d are present", kind, c.Min, maxN, len(d.Keys))
}

// AppendAtom appends a as JSON.
func AppendAtom(b []byte, t AtomicType, a Atom) []byte {
	switch t {
	case TypeInteger:
		return strconv.AppendInt(b, a.N, 10)
	case TypeReal:
		return strconv.AppendFloat(b, a.Real(), 'g', -1, 64)
	case TypeBoolean:
		return strconv.AppendBool(b, a.N != 0)
	case TypeString:
		return ovsjson.AppendString(b, a.S)
	default:
		return ovsjson.AppendUUID(b, a.S)
	}
}

// AppendDatum appends d in RFC 7047 notation: a scalar or one-element set
// as its atom, other sets as ["set",[...]], maps as ["map",[[k,v],...]].
func (c *Column) AppendDatum(b []byte, d Datum) []byte {
	if c.Value != nil {
		b = append(b, `["map",[`...)
		for i := range d.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = AppendAtom(b, c.Key.Type, d.Keys[i])
			b = append(b, ',')
			b = AppendAtom(b, c.Value.Type, d.Values[i])
			b = append(b, ']')
		}
		return append(b, "]]"...)
	}
	if len(d.Keys) == 1 {
		return AppendAtom(b, c.Key.Type, d.Keys[0])
	}
	b = append(b, `["set",[`...)
	for i, k := range d.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendAtom(b, c.Key.Type, k)
	}
	return append(b, "]]"...)
}

// SortedJSON renders v compactly with object members sorted by name, as
// ovsdb-server quotes requests in its error messages.
func SortedJSON(v *fastjson.Value) string {
	return string(appendSorted(nil, v))
}

func appendSorted(b []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o := v.GetObject()
		type kv struct {
			k string
			v *fastjson.Value
		}
		var kvs []kv
		o.Visit(func(k []byte, v *fastjson.Value) { kvs = append(kvs, kv{string(k), v}) })
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b = append(b, '{')
		for i, e := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = ovsjson.AppendString(b, e.k)
			b = append(b, ':')
			b = appendSorted(b, e.v)
		}
		return append(b, '}')
	case fastjson.TypeArray:
		b = append(b, '[')
		for i, e := range v.GetArray() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendSorted(b, e)
		}
		return append(b, ']')
	}
	return v.MarshalTo(b)
}

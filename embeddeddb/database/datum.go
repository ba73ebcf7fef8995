package database

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Atom is one OVSDB atomic value. Its type comes from the column: S holds
// strings and UUIDs (lowercase canonical text), N holds integers, booleans
// (0 or 1) and reals (as IEEE 754 bits).
type Atom struct {
	S string
	N int64
}

// RealAtom returns the atom for a real.
func RealAtom(f float64) Atom { return Atom{N: int64(math.Float64bits(f))} }

// BoolAtom returns the atom for a boolean.
func BoolAtom(b bool) Atom {
	if b {
		return Atom{N: 1}
	}
	return Atom{}
}

// Real returns the atom's real value.
func (a Atom) Real() float64 { return math.Float64frombits(uint64(a.N)) }

// Bool returns the atom's boolean value.
func (a Atom) Bool() bool { return a.N != 0 }

// ZeroUUID is the default value of a uuid column.
const ZeroUUID = "00000000-0000-0000-0000-000000000000"

func compareAtoms(t AtomicType, a, b Atom) int {
	switch t {
	case TypeInteger, TypeBoolean:
		return cmp.Compare(a.N, b.N)
	case TypeReal:
		return cmp.Compare(a.Real(), b.Real())
	default:
		return strings.Compare(a.S, b.S)
	}
}

func defaultAtom(t AtomicType) Atom {
	if t == TypeUUID {
		return Atom{S: ZeroUUID}
	}
	return Atom{}
}

// Datum is a column's value: a set of keys in ascending order and, for
// maps, the value of each key at the same index. Scalars are sets of one.
// A Datum stored in a committed row is never modified.
type Datum struct {
	Keys   []Atom
	Values []Atom
}

// Len returns the number of elements.
func (d Datum) Len() int { return len(d.Keys) }

// ScalarDatum returns a one-element datum.
func ScalarDatum(a Atom) Datum { return Datum{Keys: []Atom{a}} }

// defaultDatum returns the value a column has when nothing sets it.
func defaultDatum(c *Column) Datum {
	if c.Min == 0 {
		return Datum{}
	}
	d := Datum{Keys: []Atom{defaultAtom(c.Key.Type)}}
	if c.Value != nil {
		d.Values = []Atom{defaultAtom(c.Value.Type)}
	}
	return d
}

// Equal reports whether two datums of column c hold the same value.
func (c *Column) Equal(a, b Datum) bool {
	if len(a.Keys) != len(b.Keys) {
		return false
	}
	for i := range a.Keys {
		if compareAtoms(c.Key.Type, a.Keys[i], b.Keys[i]) != 0 {
			return false
		}
		if c.Value != nil && compareAtoms(c.Value.Type, a.Values[i], b.Values[i]) != 0 {
			return false
		}
	}
	return true
}

// compareDatums orders datums of column c (for the relational operators
// RFC 7047 allows on scalars, and for canonical ordering).
func (c *Column) compareDatums(a, b Datum) int {
	for i := 0; i < len(a.Keys) && i < len(b.Keys); i++ {
		if r := compareAtoms(c.Key.Type, a.Keys[i], b.Keys[i]); r != 0 {
			return r
		}
		if c.Value != nil {
			if r := compareAtoms(c.Value.Type, a.Values[i], b.Values[i]); r != 0 {
				return r
			}
		}
	}
	return cmp.Compare(len(a.Keys), len(b.Keys))
}

// find returns the index of key k, or -1.
func (d Datum) find(t AtomicType, k Atom) int {
	i, ok := slices.BinarySearchFunc(d.Keys, k, func(x, y Atom) int { return compareAtoms(t, x, y) })
	if !ok {
		return -1
	}
	return i
}

// sortDedup sorts keys (carrying values along). It reports whether a map
// had a duplicate key; duplicate set elements are merged.
func (d *Datum) sortDedup(kt AtomicType, vt *BaseType) (dupKey bool) {
	if len(d.Keys) < 2 {
		return false
	}
	if vt == nil {
		slices.SortFunc(d.Keys, func(x, y Atom) int { return compareAtoms(kt, x, y) })
		d.Keys = slices.CompactFunc(d.Keys, func(x, y Atom) bool { return compareAtoms(kt, x, y) == 0 })
		return false
	}
	if strictlySorted(kt, d.Keys) {
		return false // the usual case: clients send maps in key order
	}
	idx := make([]int, len(d.Keys))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int { return compareAtoms(kt, d.Keys[i], d.Keys[j]) })
	keys := make([]Atom, 0, len(idx))
	vals := make([]Atom, 0, len(idx))
	for n, i := range idx {
		if n > 0 && compareAtoms(kt, d.Keys[i], keys[len(keys)-1]) == 0 {
			dupKey = true
			continue
		}
		keys = append(keys, d.Keys[i])
		vals = append(vals, d.Values[i])
	}
	d.Keys, d.Values = keys, vals
	return dupKey
}

// strictlySorted reports whether keys are in increasing order with no
// two equal.
func strictlySorted(kt AtomicType, keys []Atom) bool {
	for i := 1; i < len(keys); i++ {
		if compareAtoms(kt, keys[i-1], keys[i]) >= 0 {
			return false
		}
	}
	return true
}

// union returns a ∪ b; for maps, keys already in a keep a's value.
func (c *Column) union(a, b Datum) Datum {
	out := Datum{Keys: slices.Clone(a.Keys)}
	if c.Value != nil {
		out.Values = slices.Clone(a.Values)
	}
	for i, k := range b.Keys {
		if a.find(c.Key.Type, k) >= 0 {
			continue
		}
		out.Keys = append(out.Keys, k)
		if c.Value != nil {
			out.Values = append(out.Values, b.Values[i])
		}
	}
	out.sortDedup(c.Key.Type, c.Value)
	return out
}

// subtract removes from a the elements of b. For maps, b may be a set of
// keys (byKey) or a map whose pairs must match exactly.
func (c *Column) subtract(a, b Datum, byKey bool) Datum {
	out := Datum{}
	for i, k := range a.Keys {
		j := b.find(c.Key.Type, k)
		if j >= 0 && (c.Value == nil || byKey || compareAtoms(c.Value.Type, a.Values[i], b.Values[j]) == 0) {
			continue
		}
		out.Keys = append(out.Keys, k)
		if c.Value != nil {
			out.Values = append(out.Values, a.Values[i])
		}
	}
	return out
}

// includes reports whether every element of b is in a.
func (c *Column) includes(a, b Datum) bool {
	for i, k := range b.Keys {
		j := a.find(c.Key.Type, k)
		if j < 0 {
			return false
		}
		if c.Value != nil && compareAtoms(c.Value.Type, a.Values[j], b.Values[i]) != 0 {
			return false
		}
	}
	return true
}

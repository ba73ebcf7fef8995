package lflow

import (
	"fmt"
	"sort"
	"strings"
)

// Match is one atom of a normalised expression: a Field (never a
// subfield or predicate) compared under a mask, a string field compared
// with a port name, or a match function such as is_chassis_resident.
type Match struct {
	Field *Symbol // nil for a function
	Value U128    // already masked
	Mask  U128
	Str   string // string field value, or the function argument
	Func  string // "is_chassis_resident" when Field is nil
	Neg   bool   // the function is negated
}

// Conj is a conjunction of matches with at most one Match per field (per
// function argument for functions), sorted by field name.
type Conj []Match

func (m Match) key() string {
	if m.Field == nil {
		return m.Func + "(" + m.Str + ")"
	}
	return m.Field.Name
}

// merge returns m and o combined, or false when they cannot both hold.
func (m Match) merge(o Match) (Match, bool) {
	switch {
	case m.Field == nil:
		return m, m.Neg == o.Neg
	case m.Field.String:
		return m, m.Str == o.Str
	}
	common := m.Mask.And(o.Mask)
	if !m.Value.Xor(o.Value).And(common).IsZero() {
		return m, false
	}
	m.Value, m.Mask = m.Value.Or(o.Value), m.Mask.Or(o.Mask)
	return m, true
}

// implies reports whether m holding means o holds (both on one key).
func (m Match) implies(o Match) bool {
	if m.Field == nil || m.Field.String {
		return m == o
	}
	return o.Mask.And(m.Mask.Not()).IsZero() && m.Value.Xor(o.Value).And(o.Mask).IsZero()
}

// mergeConj combines two conjunctions, or returns false when they
// contradict each other.
func mergeConj(a, b Conj) (Conj, bool) {
	out := make(Conj, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].key() < b[j].key()):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].key() < a[i].key():
			out = append(out, b[j])
			j++
		default:
			m, ok := a[i].merge(b[j])
			if !ok {
				return nil, false
			}
			out = append(out, m)
			i, j = i+1, j+1
		}
	}
	return out, true
}

// consistent reports whether a and b can hold together: mergeConj
// without building the result.
func consistent(a, b Conj) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ka, kb := a[i].key(), b[j].key()
		switch {
		case ka < kb:
			i++
		case kb < ka:
			j++
		default:
			if _, ok := a[i].merge(b[j]); !ok {
				return false
			}
			i, j = i+1, j+1
		}
	}
	return true
}

// implies reports whether every packet matching c also matches o.
func (c Conj) implies(o Conj) bool {
	for _, om := range o {
		k := om.key()
		i := sort.Search(len(c), func(i int) bool { return c[i].key() >= k })
		if i == len(c) || c[i].key() != k || !c[i].implies(om) {
			return false
		}
	}
	return true
}

// String renders the conjunction; an empty one is "1".
func (c Conj) String() string {
	if len(c) == 0 {
		return "1"
	}
	parts := make([]string, len(c))
	for i, m := range c {
		parts[i] = m.String()
	}
	return strings.Join(parts, " && ")
}

// String renders a match the way a human would write it: whole fields,
// CIDR prefixes and bit ranges by name, anything else as value/mask.
func (m Match) String() string {
	switch {
	case m.Field == nil && m.Neg:
		return "!" + m.Func + "(" + quote(m.Str) + ")"
	case m.Field == nil:
		return m.Func + "(" + quote(m.Str) + ")"
	case m.Field.String:
		return m.Field.Name + " == " + quote(m.Str)
	}
	if r, ok := registerView(m); ok {
		return r
	}
	return formatMasked(m.Field, m.Value, m.Mask)
}

// registerView renders a match on a wide register that stays within one
// 32-bit register in terms of that register: reg0[0..7] == 5 rather
// than xxreg0[96..103] == 5.
func registerView(m Match) (string, bool) {
	lo, hi := m.Mask.TrailingZeros(), m.Mask.Len()-1
	for _, r := range registerNames {
		s := Symbols[r]
		if s.Parent == m.Field.Name && s.Lo <= lo && hi <= s.Hi {
			v := Symbol{Name: s.Name, Width: s.Width, Format: Hexadecimal}
			return formatMasked(&v, m.Value.Rsh(s.Lo), m.Mask.Rsh(s.Lo)), true
		}
	}
	return "", false
}

var registerNames = []string{"reg0", "reg1", "reg2", "reg3", "reg4", "reg5", "reg6", "reg7", "reg8", "reg9"}

func formatMasked(f *Symbol, value, mask U128) string {
	m := Match{Value: value, Mask: mask}
	w := f.Width
	full := Ones(w)
	if m.Mask == full {
		return f.Name + " == " + formatInt(m.Value, f.Format)
	}
	lo := m.Mask.TrailingZeros()
	hi := m.Mask.Len() - 1
	if m.Mask == BitRange(lo, hi) {
		if hi == w-1 && (f.Format == IPv4 || f.Format == IPv6) {
			return fmt.Sprintf("%s == %s/%d", f.Name, formatInt(m.Value, f.Format), w-lo)
		}
		return fmt.Sprintf("%s == %s", Ref{Sym: f, Lo: lo, Hi: hi, Sliced: true}, smallFormat(m.Value.Rsh(lo), hi-lo+1))
	}
	return f.Name + " == " + formatInt(m.Value, f.Format) + "/" + formatInt(m.Mask, f.Format)
}

func smallFormat(v U128, width int) string {
	if width <= 16 {
		return v.Dec()
	}
	return v.Hex()
}

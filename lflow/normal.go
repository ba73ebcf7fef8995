package lflow

import (
	"errors"
	"slices"
	"strings"
)

// Term is one disjunct of a normalised expression: every match in Conj,
// and for each dimension one of its alternatives. A dimension comes from
// a set (ip4.src == {a, b, c}, $as, @pg, a relational operator, a
// predicate like ip) that is ANDed with other conditions; the controller
// may emit it as one OpenFlow conjunctive-match dimension instead of
// multiplying the flows out.
type Term struct {
	Conj Conj
	Dims [][]Conj
}

// Size is how many flows the term would take as a cross product.
func (t Term) Size() int {
	n := 1
	for _, d := range t.Dims {
		n *= len(d)
	}
	return n
}

// String renders the term; dimensions appear as parenthesized
// disjunctions.
func (t Term) String() string {
	var parts []string
	if len(t.Conj) > 0 || len(t.Dims) == 0 {
		parts = append(parts, t.Conj.String())
	}
	for _, d := range t.Dims {
		alts := make([]string, len(d))
		for i, c := range d {
			alts[i] = c.String()
			if len(c) > 1 {
				alts[i] = "(" + alts[i] + ")"
			}
		}
		parts = append(parts, "("+strings.Join(alts, " || ")+")")
	}
	return strings.Join(parts, " && ")
}

// Normalize expands e's predicates and prerequisites, pushes negations
// down, turns every comparison into bitwise matches and returns the
// result in disjunctive normal form. An empty result never matches; a
// single empty Term always matches.
func Normalize(e Expr, syms Symtab) ([]Term, error) {
	a := &annotator{syms: syms}
	b, err := a.lower(e, false)
	if err != nil {
		return nil, err
	}
	return normalizeLowered(b)
}

// normalizeLowered is Normalize after lowering.
func normalizeLowered(b bexpr) ([]Term, error) {
	terms, err := dnf(b)
	if err != nil {
		return nil, err
	}
	out := terms[:0]
	for _, t := range terms {
		if t, ok := t.settle(); ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// maxTerms bounds the disjuncts Normalize may produce before dimensions
// are multiplied out, so that no match can exhaust memory.
const maxTerms = 1 << 16

func dnf(b bexpr) ([]Term, error) {
	switch b := b.(type) {
	case Match:
		return []Term{{Conj: Conj{b}}}, nil
	case bBool:
		if b {
			return []Term{{}}, nil
		}
		return nil, nil
	case bMatches:
		// As for a bOr of Matches, with one slice for all the terms and
		// one for their matches.
		if len(b) > maxTerms {
			return nil, ErrTooManyFlows
		}
		if len(b) == 0 {
			return nil, nil
		}
		out, conj := make([]Term, len(b)), slices.Clone(Conj(b))
		for i := range out {
			out[i].Conj = conj[i : i+1 : i+1]
		}
		return out, nil
	case bOr:
		var out []Term
		for _, x := range b {
			d, err := dnf(x)
			if err != nil {
				return nil, err
			}
			if out = append(out, d...); len(out) > maxTerms {
				return nil, ErrTooManyFlows
			}
		}
		return out, nil
	case bAnd:
		return dnfAnd(b)
	}
	return nil, nil
}

func dnfAnd(and bAnd) ([]Term, error) {
	acc := []Term{{}}
	for _, x := range and {
		if m, ok := x.(Match); ok {
			// product(acc, dnf(m)) without building dnf(m)'s term.
			if acc = andMatch(acc, m); len(acc) == 0 {
				return nil, nil
			}
			continue
		}
		if ms, ok := x.(bMatches); ok && len(ms) > 1 {
			// A set: one dimension of its matches, without building a
			// term for each first (dnf(ms) is flat).
			if len(ms) > maxTerms {
				return nil, ErrTooManyFlows
			}
			dim, conj := make([]Conj, len(ms)), slices.Clone(Conj(ms))
			for i := range dim {
				dim[i] = conj[i : i+1 : i+1]
			}
			for i := range acc {
				acc[i].Dims = append(acc[i].Dims, dim)
			}
			continue
		}
		d, err := dnf(x)
		switch {
		case err != nil:
			return nil, err
		case len(d) == 0:
			return nil, nil
		case len(d) > 1 && flat(d):
			dim := make([]Conj, len(d))
			for i, t := range d {
				dim[i] = t.Conj
			}
			for i := range acc {
				acc[i].Dims = append(acc[i].Dims, dim)
			}
		default:
			if len(acc)*len(d) > maxTerms {
				return nil, ErrTooManyFlows
			}
			acc = product(acc, d)
		}
	}
	return acc, nil
}

// andMatch ANDs m into every term of acc, dropping those it
// contradicts, as product(acc, []Term{{Conj: Conj{m}}}) does.
func andMatch(acc []Term, m Match) []Term {
	out := acc[:0]
	for _, t := range acc {
		c, ok := mergeConj(t.Conj, Conj{m})
		if !ok {
			continue
		}
		t.Conj = c
		out = append(out, t)
	}
	return out
}

// flat reports whether every term is a plain conjunction.
func flat(d []Term) bool {
	for _, t := range d {
		if len(t.Dims) > 0 {
			return false
		}
	}
	return true
}

// product distributes a over b, dropping contradictory combinations.
func product(a, b []Term) []Term {
	var out []Term
	for _, x := range a {
		for _, y := range b {
			c, ok := mergeConj(x.Conj, y.Conj)
			if !ok {
				continue
			}
			dims := append(append([][]Conj{}, x.Dims...), y.Dims...)
			out = append(out, Term{Conj: c, Dims: dims})
		}
	}
	return out
}

// settle drops dimension alternatives that contradict the term's fixed
// matches, folds one-alternative dimensions into them, and removes
// dimensions that always hold. It returns false if the term can never
// match.
func (t Term) settle() (Term, bool) {
	for changed := true; changed; {
		changed = false
		var dims [][]Conj
		for _, d := range t.Dims {
			alts := compatible(t.Conj, d)
			switch {
			case len(alts) > 1 && slices.ContainsFunc(dims, func(o []Conj) bool { return sameAlts(o, alts) }):
				// The same dimension twice, from two prerequisites.
			case len(alts) == 0:
				return t, false
			case len(alts) == 1:
				t.Conj, _ = mergeConj(t.Conj, alts[0])
				changed = true
			case anyImplied(t.Conj, alts):
				// Always satisfied: drop the dimension.
			default:
				dims = append(dims, alts)
			}
		}
		t.Dims = dims
	}
	return t, true
}

// sameAlts reports whether two dimensions have the same alternatives
// in the same order.
func sameAlts(a, b []Conj) bool {
	return slices.EqualFunc(a, b, func(x, y Conj) bool { return slices.Equal(x, y) })
}

// compatible returns the alternatives of d consistent with c: d itself
// when all are (a set of 10,000 addresses was copied on each pass).
func compatible(c Conj, d []Conj) []Conj {
	for i, alt := range d {
		if consistent(c, alt) {
			continue
		}
		out := slices.Clone(d[:i])
		for _, alt := range d[i+1:] {
			if consistent(c, alt) {
				out = append(out, alt)
			}
		}
		return out
	}
	return d
}

// anyImplied reports whether the fixed matches already satisfy one of the
// alternatives, making the dimension redundant.
func anyImplied(c Conj, alts []Conj) bool {
	for _, a := range alts {
		if c.implies(a) {
			return true
		}
	}
	return false
}

// ErrTooManyFlows is returned by Flows when the cross product of a
// normalised expression exceeds the caller's limit, and by Normalize when
// an expression has more than 65536 disjuncts even with sets kept as
// dimensions.
var ErrTooManyFlows = errors.New("match expands to too many flows")

// Flows multiplies out every term's dimensions and returns the minimal
// list of conjunctions: contradictory combinations are dropped, as are
// conjunctions that another one already covers. It stops with
// ErrTooManyFlows once more than max conjunctions would be produced.
func Flows(terms []Term, max int) ([]Conj, error) {
	var all []Conj
	for _, t := range terms {
		acc := []Term{{Conj: t.Conj}}
		for _, d := range t.Dims {
			alts := make([]Term, len(d))
			for i, c := range d {
				alts[i] = Term{Conj: c}
			}
			if acc = product(acc, alts); len(acc) > max {
				return nil, ErrTooManyFlows
			}
		}
		for _, a := range acc {
			all = append(all, a.Conj)
		}
		if len(all) > max {
			return nil, ErrTooManyFlows
		}
	}
	return minimal(all), nil
}

// minimal removes every conjunction implied by another one (keeping the
// first of equal ones).
func minimal(cs []Conj) []Conj {
	var out []Conj
	for i, c := range cs {
		redundant := false
		for j, o := range cs {
			if i != j && c.implies(o) && (!o.implies(c) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, c)
		}
	}
	return out
}

package lflow

import (
	"fmt"
	"reflect"
	"sync"
)

// bexpr is an expression over Matches only: the result of pushing
// negations down, expanding predicates, adding prerequisites and turning
// every comparison into bitwise matches.
type bexpr interface{}

type (
	bAnd  []bexpr
	bOr   []bexpr
	bBool bool
	// bMatches is a bOr of plain Matches, what a comparison with a set
	// lowers to, without boxing each match.
	bMatches []Match
)

// annotator expands expressions against one symbol table.
type annotator struct {
	syms  Symtab
	depth int
}

// lower translates e, negated when neg is set.
func (a *annotator) lower(e Expr, neg bool) (bexpr, error) {
	switch e := e.(type) {
	case And:
		return a.lowerList([]Expr(e), neg, neg)
	case Or:
		return a.lowerList([]Expr(e), neg, !neg)
	case Not:
		return a.lower(e.X, !neg)
	case Bool:
		return bBool(bool(e) != neg), nil
	case Call:
		return Match{Func: e.Name, Str: e.Arg, Neg: neg}, nil
	case Pred:
		x, err := a.expand(e.Sym.Name, e.Sym.Expansion)
		if err != nil {
			return nil, err
		}
		if neg && a.nominal(x) {
			return nil, fmt.Errorf("nominal predicate %s may only be tested positively, e.g. `%s' or `%s == 1' but not `!%s' or `%s == 0'",
				e.Sym.Name, e.Sym.Name, e.Sym.Name, e.Sym.Name, e.Sym.Name)
		}
		return a.lower(x, neg)
	case Cmp:
		return a.lowerCmp(e, neg)
	}
	return nil, fmt.Errorf("unexpected expression %T", e)
}

func (a *annotator) lowerList(terms []Expr, neg, or bool) (bexpr, error) {
	out := make([]bexpr, len(terms))
	for i, t := range terms {
		x, err := a.lower(t, neg)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	if or {
		return bOr(out), nil
	}
	return bAnd(out), nil
}

// expand parses a predicate's expansion or a prerequisite.
func (a *annotator) expand(name, text string) (Expr, error) {
	if a.depth > 32 {
		return nil, fmt.Errorf("recursive expansion of %s", name)
	}
	x, err := parseExpansion(a.syms, text)
	if err != nil {
		return nil, fmt.Errorf("expansion of %s: %v", name, err)
	}
	return x, nil
}

// expansions holds parsed expansions and prerequisites: a handful of
// texts ("ip4", "eth.type == 0x800") are expanded for nearly every
// comparison of every match, and parsing them each time was a fifth of
// normalising. Lowering only reads an Expr, so one parse is shared.
// Entries are per symbol table and hold the table, so that its address
// is not reused while cached; a table must not change once used.
var expansions sync.Map // expansionKey -> expansion

type expansionKey struct {
	syms uintptr
	text string
}

type expansion struct {
	syms Symtab
	x    Expr
	err  error
}

func parseExpansion(syms Symtab, text string) (Expr, error) {
	key := expansionKey{reflect.ValueOf(syms).Pointer(), text}
	if e, ok := expansions.Load(key); ok {
		return e.(expansion).x, e.(expansion).err
	}
	x, err := ParseExpr(text, syms, nil)
	expansions.Store(key, expansion{syms, x, err})
	return x, err
}

// nominal reports whether an expansion refers to a nominal field or
// predicate, which makes the predicate it defines nominal too.
func (a *annotator) nominal(e Expr) bool {
	switch e := e.(type) {
	case And:
		return a.anyNominal(e)
	case Or:
		return a.anyNominal(e)
	case Not:
		return a.nominal(e.X)
	case Cmp:
		base, _, _ := a.syms.Base(e.Field.Sym)
		return base.Level == Nominal || e.Field.Sym.Level == Nominal
	case Pred:
		x, err := a.expand(e.Sym.Name, e.Sym.Expansion)
		return err == nil && a.nominal(x)
	}
	return false
}

func (a *annotator) anyNominal(es []Expr) bool {
	for _, x := range es {
		if a.nominal(x) {
			return true
		}
	}
	return false
}

var negated = map[Kind]Kind{Eq: Ne, Ne: Eq, Lt: Ge, Ge: Lt, Gt: Le, Le: Gt}

func (a *annotator) lowerCmp(c Cmp, neg bool) (bexpr, error) {
	op := c.Op
	if neg {
		op = negated[op]
	}
	base, off, _ := a.syms.Base(c.Field.Sym)
	if op == Ne && (base.Level == Nominal || c.Field.Sym.Level == Nominal) {
		return nil, fmt.Errorf("nominal field %s may only be tested for equality (taking enclosing `!' operators into account)", c.Field.Sym.Name)
	}
	x := compare(base, off+c.Field.Lo, c.Field.Width(), op, c.Values)
	pre, err := a.prereqs(c.Field.Sym)
	if err != nil || len(pre) == 0 {
		return x, err
	}
	return append(bAnd{x}, pre...), nil
}

// prereqs lowers the prerequisites of sym and of the fields it lives in.
func (a *annotator) prereqs(sym *Symbol) (bAnd, error) {
	var out bAnd
	for s := sym; s != nil; s = a.syms[s.Parent] {
		if s.Prereq == "" {
			continue
		}
		x, err := a.expand(s.Name, s.Prereq)
		if err != nil {
			return nil, err
		}
		a.depth++
		b, err := a.lower(x, false)
		a.depth--
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// compare lowers "f[off..off+width-1] OP values" to matches on field f.
func compare(f *Symbol, off, width int, op Kind, values []Const) bexpr {
	if f.String {
		if len(values) == 1 {
			return eqMatch(f, off, width, values[0])
		}
		or := make(bMatches, len(values))
		for i, v := range values {
			or[i] = Match{Field: f, Str: v.Str}
		}
		return or
	}
	at := func(v, m U128) Match {
		m = m.And(Ones(width))
		return Match{Field: f, Value: v.And(m).Lsh(off), Mask: m.Lsh(off)}
	}
	switch op {
	case Eq:
		if len(values) == 1 {
			return eqMatch(f, off, width, values[0])
		}
		or := make(bMatches, len(values))
		for i, v := range values {
			or[i] = at(v.Value, v.mask(width))
		}
		return or
	case Ne:
		var and bAnd
		for _, v := range values {
			and = append(and, notEqual(v.Value, v.mask(width), at))
		}
		return and
	}
	return relational(values[0].Value, width, op, at)
}

// eqMatch is the match "f[off..off+width-1] == v" lowers to, as
// compare builds it.
func eqMatch(f *Symbol, off, width int, v Const) Match {
	if f.String {
		return Match{Field: f, Str: v.Str}
	}
	m := v.mask(width).And(Ones(width))
	return Match{Field: f, Value: v.Value.And(m).Lsh(off), Mask: m.Lsh(off)}
}

func orOf(or bOr) bexpr {
	if len(or) == 1 {
		return or[0]
	}
	return or
}

// notEqual is "some bit under the mask differs": one match per mask bit.
func notEqual(v, m U128, at func(v, m U128) Match) bexpr {
	var or bOr
	for i := 0; i < 128; i++ {
		if !m.Bit(i) {
			continue
		}
		bit := U128{Lo: 1}.Lsh(i)
		or = append(or, at(v.Not().And(bit), bit))
	}
	return orOf(or)
}

// relational expands an ordering comparison into prefix matches, the way
// ovn-sb(5) promises: each disjunct fixes the bits above some position
// and decides the comparison at that bit. The pieces are
// ovn-controller's: "x > c" has one per zero bit of c, "x < c" one per
// one bit, and ">=" and "<=" add c itself, so that compiled flows are
// the same as its flows.
func relational(c U128, width int, op Kind, at func(v, m U128) Match) bexpr {
	switch {
	case op == Ge && c.IsZero(), op == Le && c == Ones(width):
		return bBool(true)
	}
	var or bOr
	if op == Ge || op == Le {
		or = append(or, at(c, Ones(width)))
	}
	greater := op == Gt || op == Ge
	for i := width - 1; i >= 0; i-- {
		if c.Bit(i) == greater {
			continue
		}
		above := c.And(BitRange(i+1, width-1))
		if greater {
			above = above.Or(U128{Lo: 1}.Lsh(i))
		}
		or = append(or, at(above, BitRange(i, width-1)))
	}
	if len(or) == 0 {
		return bBool(false)
	}
	return orOf(or)
}

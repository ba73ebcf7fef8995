package lflow

import (
	"encoding/binary"
)

// A Normalizer is Compile with a memory of shapes: most matches
// ovn-northd writes differ from many others only in the port name or
// address they compare a field with (one lflow per port), and
// normalising each from scratch was most of compiling them.
//
// A comparison "field == constant" that is not negated and whose field
// (the field it lives in, after expanding predicates and prerequisites)
// appears nowhere else in the match takes no part in merging,
// contradiction or implication during normalisation: its one match
// lands in the result unchanged, wherever the rest of the expression
// puts it. Such a constant is a parameter of the match's shape; the
// normal form of a shape is computed once, from its first match, and
// later matches get it with their own parameters' matches put in. Every
// other constant is part of what identifies the shape.
//
// A set "field == {c1, c2, ...}" (not negated) whose field appears
// nowhere else is a parameter too, each constant in its own place:
// its matches become one dimension (or are multiplied into the terms)
// and never merge with, contradict or imply another, so the normal form
// of a shape with the same number of constants is the same with the
// other constants put in. ovn-northd writes one such match per router
// port (ip6.dst == {<LLA>, <solicited-node address>} for ND), which
// otherwise were each a shape of their own.
//
// A Normalizer is not safe for concurrent use.
type Normalizer struct {
	syms      Symtab
	templates map[string]*template
	key       []byte // scratch
	cands     []cand // scratch: the candidate parameters of the match at hand
	buf       *TermBuf
	used      bool // the last Normalize's result is in buf
}

// NewNormalizer returns a Normalizer for matches over syms.
func NewNormalizer(syms Symtab) *Normalizer {
	return &Normalizer{syms: syms, templates: map[string]*template{}}
}

const (
	maxTemplates = 1024 // shapes remembered; all are forgotten past this
	maxVariants  = 16   // variants of a shape remembered
	// maxShapeKey bounds the shapes remembered: a match with a large
	// set is its own shape, which would only keep a large normal form
	// alive after its set changed.
	maxShapeKey = 4096
	// maxSetParam bounds the sets that are parameters: finding where
	// each constant sits takes time in the square of their number, and
	// a large set is better its own shape (see maxShapeKey).
	maxSetParam = 8
)

// cand is a candidate parameter: the values of a positive comparison of
// a field with one constant or with a set of them.
type cand struct {
	field      *Symbol // the field the compared symbol lives in
	off, width int
	values     []Const // one, or a set's
}

// template is a shape: which candidates are parameters, and the normal
// form for each combination of the other candidates' values.
type template struct {
	param    []bool
	variants map[string]*variant
}

// variant is the normal form of a shape and where each parameter's
// matches sit in it.
type variant struct {
	terms     []Term
	err       error
	positions [][]position // per parameter and value, in order
}

// position is where a match sits in a []Term: Terms[term].Conj[index]
// when dim < 0, else Terms[term].Dims[dim][alt][index].
type position struct{ term, dim, alt, index int }

// Compile parses and normalises a match as Compile does. The result is
// shared with later calls: callers must not modify it.
func (n *Normalizer) Compile(match string, sets Sets) ([]Term, error) {
	e, err := ParseExpr(match, n.syms, sets)
	if err != nil {
		return nil, err
	}
	return n.Normalize(e)
}

// CompileIn is Compile that puts the terms it builds for this match
// (the normal form of its shape with its parameters put in) in buf, and
// says so: they are then the caller's until buf.Reset, and no one
// else's. Other results are shared with later calls, as Compile's.
func (n *Normalizer) CompileIn(match string, sets Sets, buf *TermBuf) (terms []Term, inBuf bool, err error) {
	e, err := ParseExpr(match, n.syms, sets)
	if err != nil {
		return nil, false, err
	}
	n.buf = buf
	defer func() { n.buf = nil }()
	terms, err = n.Normalize(e)
	return terms, n.used, err
}

// Normalize is Normalize(e, syms) for the Normalizer's symbol table.
func (n *Normalizer) Normalize(e Expr) ([]Term, error) {
	n.used = false
	n.key, n.cands = n.key[:0], n.cands[:0]
	n.shape(e, false)
	if len(n.key) > maxShapeKey {
		return Normalize(e, n.syms)
	}
	t, ok := n.templates[string(n.key)]
	var lowered bexpr
	if !ok {
		b, err := (&annotator{syms: n.syms}).lower(e, false)
		if err != nil {
			return nil, err
		}
		lowered = b
		t = &template{param: n.params(b), variants: map[string]*variant{}}
		if len(n.templates) >= maxTemplates {
			clear(n.templates)
		}
		n.templates[string(n.key)] = t
	}
	n.key = n.key[:0]
	for i, c := range n.cands {
		if !t.param[i] {
			for _, v := range c.values {
				n.key = appendConst(n.key, v)
			}
		}
	}
	v, ok := t.variants[string(n.key)]
	if !ok {
		v = n.variant(e, lowered, t)
		if len(t.variants) < maxVariants {
			t.variants[string(n.key)] = v
		}
	}
	if v.err != nil {
		return nil, v.err
	}
	return n.substitute(v, t)
}

// shape appends to n.key what identifies e's shape and collects its
// candidate parameters, in order.
func (n *Normalizer) shape(e Expr, neg bool) {
	switch e := e.(type) {
	case And:
		n.key = binary.AppendUvarint(append(n.key, '&'), uint64(len(e)))
		for _, x := range e {
			n.shape(x, neg)
		}
	case Or:
		n.key = binary.AppendUvarint(append(n.key, '|'), uint64(len(e)))
		for _, x := range e {
			n.shape(x, neg)
		}
	case Not:
		n.key = append(n.key, '!')
		n.shape(e.X, !neg)
	case Bool:
		if e {
			n.key = append(n.key, '1')
		} else {
			n.key = append(n.key, '0')
		}
	case Pred:
		n.key = appendString(append(n.key, 'p'), e.Sym.Name)
	case Call:
		n.key = appendString(appendString(append(n.key, 'f'), e.Name), e.Arg)
	case Cmp:
		n.key = appendString(append(n.key, 'c'), e.Field.Sym.Name)
		n.key = binary.AppendUvarint(n.key, uint64(e.Field.Lo))
		n.key = binary.AppendUvarint(n.key, uint64(e.Field.Hi))
		n.key = append(n.key, byte(e.Op))
		n.key = binary.AppendUvarint(n.key, uint64(len(e.Values)))
		if e.Op == Eq && len(e.Values) > 0 && len(e.Values) <= maxSetParam && !neg {
			base, off, _ := n.syms.Base(e.Field.Sym)
			n.cands = append(n.cands, cand{field: base, off: off + e.Field.Lo, width: e.Field.Width(), values: e.Values})
			n.key = append(n.key, '?')
			return
		}
		for _, v := range e.Values {
			n.key = appendConst(n.key, v)
		}
	default:
		n.key = append(n.key, 'x') // no other kinds; Normalize reports them
	}
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendConst appends what lowering reads of a constant.
func appendConst(b []byte, c Const) []byte {
	if c.IsStr {
		return appendString(append(b, 's'), c.Str)
	}
	b = append(b, 'i')
	b = binary.BigEndian.AppendUint64(b, c.Value.Hi)
	b = binary.BigEndian.AppendUint64(b, c.Value.Lo)
	if c.Masked {
		b = append(b, 'm')
		b = binary.BigEndian.AppendUint64(b, c.Mask.Hi)
		b = binary.BigEndian.AppendUint64(b, c.Mask.Lo)
	}
	return b
}

// params decides which candidates are parameters: those whose field
// has no match in the lowered expression but their own, and whose
// constants give distinct matches (so that each one's place in the
// normal form can be found).
func (n *Normalizer) params(b bexpr) []bool {
	count := map[*Symbol]int{}
	countFields(b, count)
	out := make([]bool, len(n.cands))
	for i, c := range n.cands {
		out[i] = count[c.field] == len(c.values) && c.distinct()
	}
	return out
}

// distinct reports whether c's constants give distinct matches.
func (c cand) distinct() bool {
	for i := 1; i < len(c.values); i++ {
		mi := eqMatch(c.field, c.off, c.width, c.values[i])
		for j := range i {
			if eqMatch(c.field, c.off, c.width, c.values[j]) == mi {
				return false
			}
		}
	}
	return true
}

func countFields(b bexpr, count map[*Symbol]int) {
	switch b := b.(type) {
	case Match:
		if b.Field != nil {
			count[b.Field]++
		}
	case bAnd:
		for _, x := range b {
			countFields(x, count)
		}
	case bOr:
		for _, x := range b {
			countFields(x, count)
		}
	case bMatches:
		for _, m := range b {
			count[m.Field]++
		}
	}
}

// variant normalises e (lowered to b, or nil when not yet) and records
// where its parameters' matches are.
func (n *Normalizer) variant(e Expr, b bexpr, t *template) *variant {
	var err error
	if b == nil {
		b, err = (&annotator{syms: n.syms}).lower(e, false)
	}
	var terms []Term
	if err == nil {
		terms, err = normalizeLowered(b)
	}
	if err != nil {
		return &variant{err: err}
	}
	v := &variant{terms: terms}
	for i, c := range n.cands {
		if !t.param[i] {
			continue
		}
		for _, val := range c.values {
			v.positions = append(v.positions, positionsOf(terms, eqMatch(c.field, c.off, c.width, val)))
		}
	}
	return v
}

// positionsOf returns where match m sits in terms.
func positionsOf(terms []Term, m Match) []position {
	var ps []position
	for ti, term := range terms {
		for k, x := range term.Conj {
			if x == m {
				ps = append(ps, position{ti, -1, 0, k})
			}
		}
		for d, dim := range term.Dims {
			for a, alt := range dim {
				for k, x := range alt {
					if x == m {
						ps = append(ps, position{ti, d, a, k})
					}
				}
			}
		}
	}
	return ps
}

// substitute returns the variant's terms with the parameters of the
// match at hand in place of its first match's. Only the slices that
// change are copied.
func (n *Normalizer) substitute(v *variant, t *template) ([]Term, error) {
	var out []Term
	p := 0
	for i, c := range n.cands {
		if !t.param[i] {
			continue
		}
		for _, val := range c.values {
			ps := v.positions[p]
			p++
			if len(ps) == 0 {
				continue
			}
			m := eqMatch(c.field, c.off, c.width, val)
			first := ps[0]
			if v.terms[first.term].match(first) == m {
				continue // the same value as the first match's
			}
			if out == nil {
				out = cloneTerms(v.terms, n.buf)
				n.used = n.buf != nil
			}
			for _, pos := range ps {
				out[pos.term].set(pos, m)
			}
		}
	}
	if out == nil {
		return v.terms, nil
	}
	return out, nil
}

func (t Term) match(p position) Match {
	if p.dim < 0 {
		return t.Conj[p.index]
	}
	return t.Dims[p.dim][p.alt][p.index]
}

// set puts m at p in terms that cloneTerms made.
func (t *Term) set(p position, m Match) {
	if p.dim < 0 {
		t.Conj[p.index] = m
		return
	}
	t.Dims[p.dim][p.alt][p.index] = m
}

// TermBuf is memory a Normalizer's caller lends it for terms it uses
// only until it calls Reset (see CompileIn): most lflows' matches are
// their own, and the copy of the normal form of their shape with their
// parameters put in was the largest garbage of normalising them. The
// zero TermBuf is ready to use.
type TermBuf struct {
	matches []Match
	conjs   []Conj
	dims    [][]Conj
	terms   []Term
}

// maxTermBuf bounds the matches a TermBuf keeps across a Reset.
const maxTermBuf = 1 << 14

// Reset makes everything the TermBuf lent out its own again.
func (b *TermBuf) Reset() {
	clear(b.matches)
	clear(b.conjs)
	clear(b.dims)
	clear(b.terms)
	b.matches, b.conjs, b.dims, b.terms = b.matches[:0], b.conjs[:0], b.dims[:0], b.terms[:0]
	if cap(b.matches) > maxTermBuf {
		*b = TermBuf{}
	}
}

// lend returns an empty slice with room for n elements from the chunk
// *s, which it replaces with a larger one when full (what was lent
// from the old one stays where it is).
func lend[T any](s *[]T, n int) []T {
	if cap(*s)-len(*s) < n {
		*s = make([]T, 0, max(2*cap(*s), n, 64))
	}
	i := len(*s)
	*s = (*s)[:i+n]
	return (*s)[i : i : i+n]
}

// cloneTerms copies terms and everything in them, in four allocations
// (none from buf, when it has room): copying each slice a parameter's
// match sits in as it was put in took twice as many bytes for the
// common per-port match with two.
func cloneTerms(terms []Term, buf *TermBuf) []Term {
	nm, nc, nd := 0, 0, 0
	for _, t := range terms {
		nm += len(t.Conj)
		nd += len(t.Dims)
		for _, d := range t.Dims {
			nc += len(d)
			for _, alt := range d {
				nm += len(alt)
			}
		}
	}
	var matches []Match
	var conjs []Conj
	var dims [][]Conj
	var out []Term
	if buf != nil {
		matches, conjs, dims = lend(&buf.matches, nm), lend(&buf.conjs, nc), lend(&buf.dims, nd)
		out = lend(&buf.terms, len(terms))[:len(terms)]
	} else {
		matches, conjs, dims = make([]Match, 0, nm), make([]Conj, 0, nc), make([][]Conj, 0, nd)
		out = make([]Term, len(terms))
	}
	take := func(c Conj) Conj {
		if c == nil {
			return nil
		}
		i := len(matches)
		matches = append(matches, c...)
		return matches[i:len(matches):len(matches)]
	}
	for i, t := range terms {
		out[i].Conj = take(t.Conj)
		if t.Dims == nil {
			continue
		}
		di := len(dims)
		for _, d := range t.Dims {
			ci := len(conjs)
			for _, alt := range d {
				conjs = append(conjs, take(alt))
			}
			dims = append(dims, conjs[ci:len(conjs):len(conjs)])
		}
		out[i].Dims = dims[di:len(dims):len(dims)]
	}
	return out
}

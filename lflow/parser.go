package lflow

import (
	"fmt"
	"sync"
)

// parser walks a token slice; it is shared by the match and action
// grammars.
type parser struct {
	toks []Token
	i    int
	syms Symtab
	sets Sets
}

// parsers recycles parsers with their token slices: a parser copies
// what it keeps out of its tokens, so both can serve the next parse
// once release returns them, and a parse allocates neither (a full
// compile of the controller's SB parses some 100,000 texts).
var parsers = sync.Pool{New: func() any { return new(parser) }}

// maxPooledTokens bounds the slices kept for reuse, so that one huge
// text does not pin a huge buffer.
const maxPooledTokens = 1024

func newParser(s string, syms Symtab, sets Sets) (*parser, error) {
	p := parsers.Get().(*parser)
	toks, err := lexInto(p.toks[:0], s)
	p.toks, p.i, p.syms, p.sets = toks, 0, syms, sets
	if err != nil {
		p.release()
		return nil, err
	}
	return p, nil
}

// release hands the parser back; p must not be used afterwards.
func (p *parser) release() {
	clear(p.toks) // drop the strings they refer to
	if cap(p.toks) > maxPooledTokens {
		p.toks = nil
	}
	p.toks, p.syms, p.sets = p.toks[:0], nil, nil
	parsers.Put(p)
}

func (p *parser) peek() Token { return p.toks[p.i] }
func (p *parser) peekAt(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.toks[p.i]
	if t.Kind != EOF {
		p.i++
	}
	return t
}

func (p *parser) accept(k Kind) bool {
	if p.peek().Kind == k {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(k Kind) error {
	if p.accept(k) {
		return nil
	}
	return p.syntaxError("`" + kindText[k] + "'")
}

// syntaxError reports the current token and what was expected there.
func (p *parser) syntaxError(expecting string) error {
	t := p.peek()
	if t.Kind == EOF {
		return errAt(t.Pos, "syntax error at end of input expecting %s", expecting)
	}
	return errAt(t.Pos, "syntax error at `%s' expecting %s", t, expecting)
}

// ref parses a field reference with an optional bit range.
func (p *parser) ref() (Ref, error) {
	t := p.peek()
	sym, ok := p.syms[t.Text]
	if t.Kind != Ident || !ok {
		return Ref{}, p.syntaxError("field name")
	}
	p.next()
	r := Ref{Sym: sym, Lo: 0, Hi: sym.Width - 1}
	if p.peek().Kind != LSquare {
		return r, nil
	}
	return p.slice(r, t.Pos)
}

func (p *parser) slice(r Ref, pos int) (Ref, error) {
	p.next()
	lo, err := p.smallInt()
	if err != nil {
		return r, err
	}
	hi := lo
	if p.accept(Ellipsis) {
		if hi, err = p.smallInt(); err != nil {
			return r, err
		}
	}
	if err := p.expect(RSquare); err != nil {
		return r, err
	}
	switch {
	case r.Sym.Kind == Predicate || r.Sym.String:
		return r, errAt(pos, "cannot index %s, which is not an integer field", r.Sym.Name)
	case r.Sym.Level == Nominal:
		return r, errAt(pos, "cannot index nominal field %s", r.Sym.Name)
	case lo > hi:
		return r, errAt(pos, "invalid bit range %d..%d", lo, hi)
	case hi >= r.Sym.Width:
		return r, errAt(pos, "bit %d is out of range for %d-bit field %s", hi, r.Sym.Width, r.Sym.Name)
	}
	r.Lo, r.Hi, r.Sliced = lo, hi, true
	return r, nil
}

func (p *parser) smallInt() (int, error) {
	t := p.peek()
	if t.Kind != Int || t.Const.Masked || t.Const.Value.Hi != 0 || t.Const.Value.Lo > 1<<20 {
		return 0, p.syntaxError("small integer")
	}
	p.next()
	return int(t.Const.Value.Lo), nil
}

// String renders a reference: reg0, reg0[5], reg0[0..15].
func (r Ref) String() string {
	switch {
	case !r.Sliced:
		return r.Sym.Name
	case r.Lo == r.Hi:
		return fmt.Sprintf("%s[%d]", r.Sym.Name, r.Lo)
	}
	return fmt.Sprintf("%s[%d..%d]", r.Sym.Name, r.Lo, r.Hi)
}

package lflow

// ParseExpr parses a match expression. Named sets are resolved through
// sets, which may be nil when the match uses none.
func ParseExpr(s string, syms Symtab, sets Sets) (Expr, error) {
	p, err := newParser(s, syms, sets)
	if err != nil {
		return nil, err
	}
	defer p.release()
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.peek().Kind != EOF {
		return nil, p.syntaxError("`&&' or `||'")
	}
	return e, nil
}

func (p *parser) expr() (Expr, error) {
	first, _, err := p.unary()
	if err != nil {
		return nil, err
	}
	op := p.peek().Kind
	if op != AndAnd && op != OrOr {
		return first, nil
	}
	terms := []Expr{first}
	for p.accept(op) {
		t, _, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if k := p.peek().Kind; k == AndAnd || k == OrOr {
		return nil, errAt(p.peek().Pos, "&& and || must be parenthesized when used together")
	}
	if op == AndAnd {
		return And(terms), nil
	}
	return Or(terms), nil
}

// unary parses an operand of && or ||; paren reports whether it was
// parenthesized, since ! may not apply to a bare comparison.
func (p *parser) unary() (e Expr, paren bool, err error) {
	if t := p.peek(); t.Kind == Bang {
		p.next()
		x, paren, err := p.unary()
		if err != nil {
			return nil, false, err
		}
		if c, ok := x.(Cmp); ok && !c.Bare && !paren {
			return nil, false, errAt(t.Pos, "missing parentheses around operand of !")
		}
		return Not{x}, false, nil
	}
	return p.primary()
}

func (p *parser) primary() (Expr, bool, error) {
	t := p.peek()
	switch t.Kind {
	case LParen:
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, false, err
		}
		return e, true, p.expect(RParen)
	case Int, String:
		e, err := p.constFirst()
		return e, false, err
	case Ident:
		if p.peekAt(1).Kind == LParen && p.syms[t.Text] == nil {
			e, err := p.call()
			return e, false, err
		}
		e, err := p.fieldFirst()
		return e, false, err
	}
	return nil, false, p.syntaxError("field name or constant")
}

func (p *parser) call() (Expr, error) {
	t := p.next()
	if t.Text != "is_chassis_resident" {
		return nil, errAt(t.Pos, "unknown function %s", t.Text)
	}
	p.next()
	arg := p.peek()
	if arg.Kind != String {
		return nil, p.syntaxError("string")
	}
	p.next()
	return Call{Name: t.Text, Arg: arg.Text}, p.expect(RParen)
}

func isRelop(k Kind) bool { return k >= Eq && k <= Ge }

// flip turns "c OP field" into "field flip(OP) c".
func flip(k Kind) Kind {
	switch k {
	case Lt:
		return Gt
	case Le:
		return Ge
	case Gt:
		return Lt
	case Ge:
		return Le
	}
	return k
}

// constFirst parses the literals 0 and 1, "c OP field" and the range form
// "c1 OP field OP c2".
func (p *parser) constFirst() (Expr, error) {
	t := p.next()
	if !isRelop(p.peek().Kind) {
		c := t.Const
		if t.Kind == Int && !c.Masked && c.Value.Hi == 0 && c.Value.Lo <= 1 {
			return Bool(c.Value.Lo == 1), nil
		}
		return nil, p.syntaxError("relational operator")
	}
	op := flip(p.next().Kind)
	ref, err := p.ref()
	if err != nil {
		return nil, err
	}
	left, err := p.cmp(ref, op, nil, []Const{item(t).Const}, false, t.Pos)
	if err != nil || !isRelop(p.peek().Kind) {
		return left, err
	}
	op2 := p.next().Kind
	vt := p.peek()
	if vt.Kind != Int && vt.Kind != String {
		return nil, p.syntaxError("constant")
	}
	p.next()
	right, err := p.cmp(ref, op2, nil, []Const{item(vt).Const}, false, vt.Pos)
	if err != nil {
		return nil, err
	}
	return And{left, right}, nil
}

func item(t Token) Item {
	switch t.Kind {
	case String:
		return Item{Const: StrConst(t.Text)}
	case AddrSet:
		return Item{Set: "$" + t.Text}
	case PortGroup:
		return Item{Set: "@" + t.Text}
	}
	return Item{Const: t.Const}
}

func (p *parser) fieldFirst() (Expr, error) {
	pos := p.peek().Pos
	ref, err := p.ref()
	if err != nil {
		return nil, err
	}
	if !isRelop(p.peek().Kind) {
		return p.bare(ref, pos)
	}
	op := p.next().Kind
	vpos := p.peek().Pos
	items, values, braces, err := p.items()
	if err != nil {
		return nil, err
	}
	return p.cmp(ref, op, items, values, braces, vpos)
}

// bare handles a field or predicate mentioned without an operator.
func (p *parser) bare(ref Ref, pos int) (Expr, error) {
	switch {
	case ref.Sym.Kind == Predicate:
		return Pred{ref.Sym}, nil
	case ref.Sym.String || ref.Width() != 1:
		return nil, errAt(pos, "explicit `!= 0' is required for inequality test of multibit field against 0")
	}
	one := IntConst(U128{Lo: 1}, Decimal)
	return Cmp{Field: ref, Op: Eq, Values: []Const{one}, Bare: true}, nil
}

// items parses the right side of a comparison: the items as written
// when it names a set, else (items nil) its constants.
func (p *parser) items() (items []Item, values []Const, braces bool, err error) {
	braces = p.accept(LBrace)
	k := p.peek().Kind
	n, sets := 1, k == AddrSet || k == PortGroup
	if braces {
		n, sets = 0, false
		for _, t := range p.toks[p.i:] {
			if !isValueToken(t.Kind) && t.Kind != Comma {
				break
			}
			if t.Kind != Comma {
				n++
				sets = sets || t.Kind == AddrSet || t.Kind == PortGroup
			}
		}
	}
	if sets {
		items = make([]Item, 0, n)
	} else if n > 0 {
		values = make([]Const, 0, n)
	}
	for !braces || !p.accept(RBrace) {
		t := p.peek()
		if !isValueToken(t.Kind) {
			return nil, nil, false, p.syntaxError("constant")
		}
		p.next()
		it := item(t)
		if sets {
			items = append(items, it)
		} else {
			values = append(values, it.Const)
		}
		if !braces {
			break
		}
		p.accept(Comma)
	}
	return items, values, braces, nil
}

func isValueToken(k Kind) bool { return k == Int || k == String || k == AddrSet || k == PortGroup }

package lflow

import "fmt"

// ParseActions parses an actions string. An empty string (or one holding
// only comments) parses to no actions, which drops the packet.
func ParseActions(s string, syms Symtab) ([]Action, error) {
	p, err := newParser(s, syms, nil)
	if err != nil {
		return nil, err
	}
	defer p.release()
	acts, err := p.actions()
	if err != nil {
		return nil, err
	}
	if p.peek().Kind != EOF {
		return nil, p.syntaxError("action")
	}
	return acts, nil
}

// actions parses "action; action; ..." up to the end or a closing brace.
func (p *parser) actions() ([]Action, error) {
	acts := make([]Action, 0, p.countActions())
	for k := p.peek().Kind; k != EOF && k != RBrace; k = p.peek().Kind {
		a, err := p.action()
		if err != nil {
			return nil, err
		}
		if err := p.expect(Semicolon); err != nil {
			return nil, err
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// countActions returns how many actions the list from here has, about:
// the semicolons before the closing brace or the end.
func (p *parser) countActions() int {
	n, depth := 0, 0
	for _, t := range p.toks[p.i:] {
		switch t.Kind {
		case LBrace:
			depth++
		case RBrace:
			if depth == 0 {
				return n
			}
			depth--
		case Semicolon:
			if depth == 0 {
				n++
			}
		}
	}
	return n
}

func (p *parser) action() (Action, error) {
	t := p.peek()
	if t.Kind != Ident {
		return nil, p.syntaxError("action")
	}
	if _, ok := actionShapes[t.Text]; ok {
		// Some actions share their name with a predicate (arp, icmp4,
		// nd_ns): what follows the name tells them apart.
		switch _, isSym := p.syms[t.Text]; {
		case !isSym, p.peekAt(1).Kind == LParen, p.peekAt(1).Kind == LBrace, p.peekAt(1).Kind == Semicolon:
			p.next()
			return p.op(nil, t)
		}
	}
	if _, ok := p.syms[t.Text]; !ok {
		return nil, errAt(t.Pos, "unknown action or field %s", t.Text)
	}
	return p.fieldAction()
}

// fieldAction parses an action that starts with a field: assignment,
// move, exchange, decrement, or "R = name(...)".
func (p *parser) fieldAction() (Action, error) {
	pos := p.peek().Pos
	dst, err := p.ref()
	if err != nil {
		return nil, err
	}
	switch p.next().Kind {
	case Swap:
		return p.exchange(dst, pos)
	case MinusMinus:
		if dst.Sym.Name != "ip.ttl" || dst.Sliced {
			return nil, errAt(pos, "only ip.ttl may be decremented")
		}
		return Decrement{dst}, nil
	case Equals:
		return p.assign(dst, pos)
	}
	p.i--
	return nil, p.syntaxError("`=', `<->' or `--'")
}

func (p *parser) exchange(a Ref, pos int) (Action, error) {
	b, err := p.ref()
	if err != nil {
		return nil, err
	}
	if err := checkMove(a, b); err != nil {
		return nil, errAt(pos, "%v", err)
	}
	if err := checkWritable(b); err != nil {
		return nil, errAt(pos, "%v", err)
	}
	return Exchange{a, b}, nil
}

func (p *parser) assign(dst Ref, pos int) (Action, error) {
	t := p.peek()
	if shape, ok := actionShapes[t.Text]; t.Kind == Ident && ok && shape.result != never {
		p.next()
		return p.op(&dst, t)
	}
	src, err := p.value()
	if err != nil {
		return nil, err
	}
	if err := checkAssign(dst, src); err != nil {
		return nil, errAt(pos, "%v", err)
	}
	return Assign{dst, src}, nil
}

func checkWritable(r Ref) error {
	switch {
	case r.Sym.Kind == Predicate:
		return fmt.Errorf("predicate %s may not be assigned", r.Sym.Name)
	case r.Sym.ReadOnly:
		return fmt.Errorf("field %s is read-only", r.Sym.Name)
	}
	return nil
}

func checkMove(dst, src Ref) error {
	if err := checkWritable(dst); err != nil {
		return err
	}
	switch {
	case src.Sym.Kind == Predicate:
		return fmt.Errorf("predicate %s may not be the source of a move", src.Sym.Name)
	case dst.Sym.String != src.Sym.String:
		return fmt.Errorf("cannot move between string field and integer field (%s, %s)", dst, src)
	case dst.Width() != src.Width():
		return fmt.Errorf("cannot move %d-bit %s to %d-bit %s", src.Width(), src, dst.Width(), dst)
	}
	return nil
}

func checkAssign(dst Ref, src Value) error {
	switch src.Kind {
	case RefValue:
		return checkMove(dst, src.Ref)
	case ConstValue:
	default:
		return fmt.Errorf("%s may only be assigned a constant, a field or an action's result", dst)
	}
	if err := checkWritable(dst); err != nil {
		return err
	}
	c := src.Const
	switch {
	case dst.Sym.String != c.IsStr && dst.Sym.String:
		return fmt.Errorf("string field %s may not be assigned integer %s", dst, c)
	case dst.Sym.String != c.IsStr:
		return fmt.Errorf("integer field %s may not be assigned string %s", dst, c)
	case c.Masked:
		return fmt.Errorf("masked constant %s may not be assigned", c)
	case !c.IsStr && c.Value.Len() > dst.Width():
		return fmt.Errorf("constant %s does not fit in %d-bit field %s", c, dst.Width(), dst)
	}
	return nil
}

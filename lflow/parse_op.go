package lflow

import "fmt"

// op parses a named action after its name: arguments, body and checks.
func (p *parser) op(result *Ref, name Token) (Action, error) {
	shape := actionShapes[name.Text]
	o := Op{Result: result, Name: name.Text}
	if err := checkResult(shape, result, name); err != nil {
		return nil, err
	}
	if p.peek().Kind == LParen {
		if shape.args == never {
			return nil, p.syntaxError("`;'")
		}
		if err := p.opArgs(&o, shape); err != nil {
			return nil, err
		}
	} else if shape.args == required {
		return nil, p.syntaxError("`(' after " + name.Text)
	}
	if p.peek().Kind == LBrace {
		if shape.body == never {
			return nil, p.syntaxError("`;'")
		}
		p.next()
		body, err := p.actions()
		if err != nil {
			return nil, err
		}
		o.HasBody, o.Body = true, body
		if err := p.expect(RBrace); err != nil {
			return nil, err
		}
	} else if shape.body == required {
		return nil, p.syntaxError("`{' after " + name.Text)
	}
	if err := checkOp(o); err != nil {
		return nil, errAt(name.Pos, "%s: %v", name.Text, err)
	}
	if result == nil && !o.Parens && !o.HasBody {
		if a, ok := plainOps[o.Name]; ok {
			return a, nil
		}
	}
	return o, nil
}

// plainOps holds each named action written alone ("next;", "output;")
// as an Action, shared by every parse that has it: Actions are values,
// which no one modifies, and boxing a new Op for each was a tenth of
// what parsing actions allocated.
var plainOps = map[string]Action{}

func init() {
	for name := range actionShapes {
		plainOps[name] = Op{Name: name}
	}
}

func checkResult(shape shape, result *Ref, name Token) error {
	switch {
	case result == nil && shape.result == required:
		return errAt(name.Pos, "%s must be assigned to a field: R = %s(...)", name.Text, name.Text)
	case result == nil:
		return nil
	case shape.result == never:
		return errAt(name.Pos, "%s does not return a value", name.Text)
	case shape.bits != 0 && result.Width() != shape.bits:
		return errAt(name.Pos, "%s needs a %d-bit destination, not %d-bit %s", name.Text, shape.bits, result.Width(), result)
	}
	return checkWritable(*result)
}

func (p *parser) opArgs(o *Op, shape shape) error {
	p.next()
	o.Parens = true
	if shape.lb {
		lb, err := p.lbArgs()
		o.LB = lb
		return err
	}
	for p.peek().Kind != RParen {
		a, err := p.arg()
		if err != nil {
			return err
		}
		o.Args = append(o.Args, a)
		if !p.accept(Comma) {
			break
		}
	}
	return p.expect(RParen)
}

func (p *parser) arg() (Arg, error) {
	v, err := p.value()
	if err != nil {
		return Arg{}, err
	}
	if !p.accept(Equals) {
		return Arg{Value: v}, nil
	}
	w, err := p.value()
	if err != nil {
		return Arg{}, err
	}
	return Arg{Key: &v, Value: w}, nil
}

// value parses a constant, field, bare word or braced list.
func (p *parser) value() (Value, error) {
	t := p.peek()
	switch t.Kind {
	case Int:
		p.next()
		if p.peek().Kind != Minus {
			return Value{Kind: ConstValue, Const: t.Const}, nil
		}
		p.next()
		hi := p.peek()
		if hi.Kind != Int || hi.Const.Masked || t.Const.Masked {
			return Value{}, p.syntaxError("integer after `-'")
		}
		p.next()
		high := hi.Const
		return Value{Kind: RangeValue, Const: t.Const, High: &high}, nil
	case String:
		p.next()
		return Value{Kind: ConstValue, Const: StrConst(t.Text)}, nil
	case Ident:
		if sym, ok := p.syms[t.Text]; ok && sym.Kind != Predicate {
			r, err := p.ref()
			return Value{Kind: RefValue, Ref: r}, err
		}
		p.next()
		return Value{Kind: WordValue, Word: t.Text}, nil
	case LBrace:
		return p.list()
	}
	return Value{}, p.syntaxError("constant, field or name")
}

func (p *parser) list() (Value, error) {
	p.next()
	v := Value{Kind: ListValue}
	for !p.accept(RBrace) {
		x, err := p.value()
		if err != nil {
			return v, err
		}
		v.List = append(v.List, x)
		p.accept(Comma)
	}
	return v, nil
}

// lbArgs parses "[backends=]ip[:port],...[; option[=value]]...)".
func (p *parser) lbArgs() (*LB, error) {
	lb := &LB{}
	if p.peek().Kind == Ident && p.peek().Text == "backends" && p.peekAt(1).Kind == Equals {
		p.next()
		p.next()
	}
	for p.peek().Kind == Int || p.peek().Kind == LSquare {
		b, err := p.backend()
		if err != nil {
			return nil, err
		}
		lb.Backends = append(lb.Backends, b)
		if !p.accept(Comma) {
			break
		}
	}
	for len(lb.Backends) == 0 && len(lb.Options) == 0 && p.peek().Kind == Ident || p.accept(Semicolon) {
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		lb.Options = append(lb.Options, a)
	}
	return lb, p.expect(RParen)
}

func (p *parser) backend() (Backend, error) {
	bracket := p.accept(LSquare)
	t := p.peek()
	if t.Kind != Int || (t.Const.Format != IPv4 && t.Const.Format != IPv6) || t.Const.Masked ||
		(bracket && t.Const.Format != IPv6) {
		return Backend{}, p.syntaxError("IP address")
	}
	p.next()
	b := Backend{IP: t.Const}
	if bracket {
		if err := p.expect(RSquare); err != nil {
			return b, err
		}
	}
	if !p.accept(Colon) {
		return b, nil
	}
	if bracket == (t.Const.Format == IPv4) {
		return b, errAt(t.Pos, "an IPv6 backend with a port must be written [address]:port")
	}
	port, err := p.smallInt()
	if err != nil || port == 0 || port > 65535 {
		return b, fmt.Errorf("invalid port: %w", errAt(t.Pos, "port must be 1..65535"))
	}
	b.Port = port
	return b, nil
}

package lflow

import (
	"fmt"
	"slices"
)

// cmp resolves the named sets among items, if any (else the right side
// is values), and type-checks the comparison.
func (p *parser) cmp(ref Ref, op Kind, items []Item, values []Const, braces bool, pos int) (Expr, error) {
	if items != nil {
		var err error
		if values, err = p.resolve(items, pos); err != nil {
			return nil, err
		}
	}
	if ref.Sym.Kind == Predicate {
		return predCmp(ref.Sym, op, values, pos)
	}
	c := Cmp{Field: ref, Op: op, Items: items, Values: values, Braces: braces}
	if err := checkCmp(c); err != nil {
		return nil, errAt(pos, "%v", err)
	}
	return c, nil
}

func (p *parser) resolve(items []Item, pos int) ([]Const, error) {
	if len(items) == 1 && items[0].Set != "" {
		// One set: its members as they are, shared with the caller's
		// cache (ConstSets); Values are never modified, and the clip
		// makes an append copy them.
		vs, err := p.members(items[0].Set, pos)
		return slices.Clip(vs), err
	}
	out := make([]Const, 0, len(items))
	for _, it := range items {
		if it.Set == "" {
			out = append(out, it.Const)
			continue
		}
		vs, err := p.members(it.Set, pos)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

func (p *parser) members(set string, pos int) ([]Const, error) {
	name := set[1:]
	if set[0] == '@' {
		var ports []string
		ok := p.sets != nil
		if ok {
			ports, ok = p.sets.PortGroup(name)
		}
		if !ok {
			return nil, errAt(pos, "unknown port group %s", set)
		}
		out := make([]Const, len(ports))
		for i, port := range ports {
			out[i] = StrConst(port)
		}
		return out, nil
	}
	if cs, ok := p.sets.(ConstSets); ok {
		out, ok, err := cs.AddressSetConsts(name)
		switch {
		case !ok:
			return nil, errAt(pos, "unknown address set %s", set)
		case err != nil:
			return nil, errAt(pos, "address set %s: %v", set, err)
		}
		return out, nil
	}
	var addrs []string
	ok := p.sets != nil
	if ok {
		addrs, ok = p.sets.AddressSet(name)
	}
	if !ok {
		return nil, errAt(pos, "unknown address set %s", set)
	}
	out, err := ParseConsts(addrs)
	if err != nil {
		return nil, errAt(pos, "address set %s: %v", set, err)
	}
	return out, nil
}

// ParseConsts parses address set members, stopping at the first that
// is not a constant.
func ParseConsts(members []string) ([]Const, error) {
	out := make([]Const, len(members))
	for i, a := range members {
		c, err := ParseConst(a)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// predCmp turns "pred == 1" into pred and "pred == 0" into !pred.
func predCmp(sym *Symbol, op Kind, values []Const, pos int) (Expr, error) {
	if len(values) != 1 || values[0].IsStr || values[0].Masked ||
		values[0].Value.Len() > 1 || (op != Eq && op != Ne) {
		return nil, errAt(pos, "predicate %s may only be compared with 0 or 1 using == or !=", sym.Name)
	}
	if (op == Eq) == values[0].Value.Bit(0) {
		return Pred{sym}, nil
	}
	return Not{Pred{sym}}, nil
}

func checkCmp(c Cmp) error {
	sym := c.Field.Sym
	if sym.ActionOnly {
		return fmt.Errorf("field %s may not be used in a match", sym.Name)
	}
	if sym.String {
		return checkString(c)
	}
	for _, v := range c.Values {
		if err := checkInt(c, v); err != nil {
			return err
		}
	}
	return nil
}

func checkString(c Cmp) error {
	if c.Op != Eq && c.Op != Ne {
		return fmt.Errorf("only == and != may be used with string field %s", c.Field.Sym.Name)
	}
	for _, v := range c.Values {
		if !v.IsStr {
			return fmt.Errorf("string field %s may not be compared with integer %s", c.Field.Sym.Name, v)
		}
	}
	return nil
}

func checkInt(c Cmp, v Const) error {
	sym, w := c.Field.Sym, c.Field.Width()
	switch {
	case v.IsStr:
		return fmt.Errorf("integer field %s may not be compared with string %s", sym.Name, v)
	case v.Value.Len() > w || (v.Masked && v.Mask.Len() > w):
		return fmt.Errorf("constant %s does not fit in %d-bit field %s", v, w, c.Field)
	case sym.Level == Nominal && v.Masked && !c.Field.Sliced:
		return fmt.Errorf("nominal field %s may not be masked", sym.Name)
	case c.Op == Eq || c.Op == Ne:
		return nil
	case sym.Level == Nominal:
		return fmt.Errorf("only == and != may be used with nominal field %s", sym.Name)
	case v.Masked:
		return fmt.Errorf("masked constant %s may not be used with a relational operator", v)
	case len(c.Values) != 1:
		return fmt.Errorf("only == and != may be used with a set of values")
	}
	return nil
}

package lflow

import "strings"

// FormatExpr renders e in canonical text: single spaces around binary
// operators, fields before constants, parentheses only where the grammar
// needs them.
func FormatExpr(e Expr) string {
	var b strings.Builder
	formatExpr(&b, e)
	return b.String()
}

func formatExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case And:
		formatJoin(b, []Expr(e), " && ")
	case Or:
		formatJoin(b, []Expr(e), " || ")
	case Not:
		b.WriteString("!")
		formatOperand(b, e.X, true)
	case Bool:
		if e {
			b.WriteString("1")
		} else {
			b.WriteString("0")
		}
	case Pred:
		b.WriteString(e.Sym.Name)
	case Call:
		b.WriteString(e.Name + "(" + quote(e.Arg) + ")")
	case Cmp:
		formatCmp(b, e)
	}
}

func formatJoin(b *strings.Builder, terms []Expr, sep string) {
	for i, t := range terms {
		if i > 0 {
			b.WriteString(sep)
		}
		formatOperand(b, t, false)
	}
}

// formatOperand parenthesizes nested And/Or, and comparisons under !.
func formatOperand(b *strings.Builder, e Expr, negated bool) {
	paren := false
	switch e := e.(type) {
	case And, Or:
		paren = true
	case Cmp:
		paren = negated && !e.Bare
	}
	if paren {
		b.WriteString("(")
	}
	formatExpr(b, e)
	if paren {
		b.WriteString(")")
	}
}

var opText = map[Kind]string{Eq: "==", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">="}

func formatCmp(b *strings.Builder, c Cmp) {
	b.WriteString(c.Field.String())
	if c.Bare {
		return
	}
	b.WriteString(" " + opText[c.Op] + " ")
	items := c.Items
	if items == nil {
		items = make([]Item, len(c.Values))
		for i, v := range c.Values {
			items[i] = Item{Const: v}
		}
	}
	if !c.Braces && len(items) == 1 {
		b.WriteString(items[0].String())
		return
	}
	b.WriteString("{")
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.String())
	}
	b.WriteString("}")
}

// String renders an item as written.
func (it Item) String() string {
	if it.Set != "" {
		return it.Set
	}
	return it.Const.String()
}

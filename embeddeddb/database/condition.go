package database

import (
	"math"

	"github.com/valyala/fastjson"
)

// Function is a condition function of RFC 7047 section 5.1.
type Function uint8

// The condition functions.
const (
	FuncLT Function = iota
	FuncLE
	FuncEQ
	FuncNE
	FuncGE
	FuncGT
	FuncIncludes
	FuncExcludes
)

var functionNames = map[string]Function{
	"<": FuncLT, "<=": FuncLE, "==": FuncEQ, "!=": FuncNE, ">=": FuncGE, ">": FuncGT,
	"includes": FuncIncludes, "excludes": FuncExcludes,
}

// Clause is one condition: column, function, value. A clause with a nil
// Column is a boolean literal (monitor_cond allows true and false).
type Clause struct {
	Column  *Column
	Func    Function
	Arg     Datum
	Literal bool
}

// Condition is a list of clauses over one table. For select, update,
// mutate, delete and wait they are all required (AND); for monitor_cond any
// one suffices (OR), per ovsdb-server(7).
type Condition struct {
	Clauses []Clause
	Any     bool
}

// ParseWhere parses a "where" array for table t. sym may be nil.
func ParseWhere(t *Table, v *fastjson.Value, sym Symbols) (*Condition, *Error) {
	return parseConditionList(t, v, sym, false)
}

// ParseMonitorCondition parses a monitor_cond "where" array: clauses are
// OR'ed and may be the literals true and false. A missing condition is true.
func ParseMonitorCondition(t *Table, v *fastjson.Value) (*Condition, *Error) {
	if v == nil || v.Type() == fastjson.TypeArray && len(v.GetArray()) == 0 {
		// No clauses at all means true, as ovsdb-server (and ovsdb-idl) read it.
		return &Condition{Any: true, Clauses: []Clause{{Literal: true}}}, nil
	}
	return parseConditionList(t, v, nil, true)
}

func parseConditionList(t *Table, v *fastjson.Value, sym Symbols, any bool) (*Condition, *Error) {
	arr, err := v.Array()
	if err != nil {
		return nil, syntaxErr(SortedJSON(v), "Parsing where clause: expected array")
	}
	cond := &Condition{Any: any, Clauses: make([]Clause, 0, len(arr))}
	for _, cv := range arr {
		cl, perr := parseClause(t, cv, sym, any)
		if perr != nil {
			return nil, perr
		}
		cond.Clauses = append(cond.Clauses, cl)
	}
	return cond, nil
}

func parseClause(t *Table, v *fastjson.Value, sym Symbols, allowLiteral bool) (Clause, *Error) {
	if allowLiteral {
		switch v.Type() {
		case fastjson.TypeTrue:
			return Clause{Literal: true}, nil
		case fastjson.TypeFalse:
			return Clause{Literal: false}, nil
		}
	}
	arr, err := v.Array()
	if err != nil || len(arr) != 3 {
		return Clause{}, syntaxErr(SortedJSON(v), "Parse error in condition.")
	}
	name, err1 := arr[0].StringBytes()
	fn, err2 := arr[1].StringBytes()
	if err1 != nil || err2 != nil {
		return Clause{}, syntaxErr(SortedJSON(v), "Parse error in condition.")
	}
	c := t.LookupColumn(string(name))
	if c == nil {
		return Clause{}, &Error{Tag: TagUnknownColumn, Details: "No column " + string(name) + " in table " + t.Name + ".", Syntax: SortedJSON(v)}
	}
	f, ok := functionNames[string(fn)]
	if !ok {
		return Clause{}, &Error{Tag: TagUnknownFunction, Details: "No function named " + string(fn) + "."}
	}
	if f <= FuncGT && f != FuncEQ && f != FuncNE && !orderable(c) {
		return Clause{}, syntaxErr(SortedJSON(v), "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", fn, c.Name, typeText(c))
	}
	arg, perr := parseDatumShape(c, arr[2], sym)
	if perr != nil {
		return Clause{}, perr
	}
	if f != FuncIncludes && f != FuncExcludes {
		if perr := c.checkSize(arg, arr[2]); perr != nil {
			return Clause{}, perr
		}
	}
	return Clause{Column: c, Func: f, Arg: arg}, nil
}

func orderable(c *Column) bool {
	return c.Value == nil && c.Max == 1 && (c.Key.Type == TypeInteger || c.Key.Type == TypeReal)
}

func typeText(c *Column) string {
	if c.Value != nil {
		return "map"
	}
	if c.Max != 1 || c.Min != 1 {
		return "set of " + c.Key.Type.String()
	}
	return c.Key.Type.String()
}

// Match reports whether r satisfies the condition.
func (cond *Condition) Match(r *Row) bool {
	if cond.Any {
		for i := range cond.Clauses {
			if cond.Clauses[i].match(r) {
				return true
			}
		}
		return false
	}
	for i := range cond.Clauses {
		if !cond.Clauses[i].match(r) {
			return false
		}
	}
	return true
}

// IsTrue reports whether the condition matches every row.
func (cond *Condition) IsTrue() bool {
	if !cond.Any {
		for _, cl := range cond.Clauses {
			if cl.Column != nil || !cl.Literal {
				return false
			}
		}
		return true
	}
	for _, cl := range cond.Clauses {
		if cl.Column == nil && cl.Literal {
			return true
		}
	}
	return false
}

// UUIDs returns the row UUIDs the condition is limited to when it is a
// conjunction containing `_uuid == X`; ok is false otherwise.
func (cond *Condition) UUIDs() (uuid string, ok bool) {
	if cond.Any {
		return "", false
	}
	for _, cl := range cond.Clauses {
		if cl.Column == UUIDColumn && cl.Func == FuncEQ && len(cl.Arg.Keys) == 1 {
			return cl.Arg.Keys[0].S, true
		}
	}
	return "", false
}

func (cl *Clause) match(r *Row) bool {
	if cl.Column == nil {
		return cl.Literal
	}
	c := cl.Column
	d := r.Get(c)
	switch cl.Func {
	case FuncEQ:
		return c.Equal(d, cl.Arg)
	case FuncNE:
		return !c.Equal(d, cl.Arg)
	case FuncIncludes:
		return c.includes(d, cl.Arg)
	case FuncExcludes:
		return c.excludesAll(d, cl.Arg)
	}
	if len(d.Keys) != 1 || len(cl.Arg.Keys) != 1 {
		return false
	}
	if c.Key.Type == TypeInteger {
		return cmpOrdered(d.Keys[0].N, cl.Arg.Keys[0].N, cl.Func)
	}
	x, y := d.Keys[0].Real(), cl.Arg.Keys[0].Real()
	if math.IsNaN(x) || math.IsNaN(y) {
		return false
	}
	return cmpOrdered(x, y, cl.Func)
}

func cmpOrdered[T int64 | float64](x, y T, f Function) bool {
	switch f {
	case FuncLT:
		return x < y
	case FuncLE:
		return x <= y
	case FuncGE:
		return x >= y
	default:
		return x > y
	}
}

// excludesAll reports whether no element of b is in a.
func (c *Column) excludesAll(a, b Datum) bool {
	for i, k := range b.Keys {
		j := a.find(c.Key.Type, k)
		if j < 0 {
			continue
		}
		if c.Value == nil || compareAtoms(c.Value.Type, a.Values[j], b.Values[i]) == 0 {
			return false
		}
	}
	return true
}

package database

import (
	"fmt"
	"math"

	"github.com/valyala/fastjson"
)

type mutation struct {
	col *Column
	op  string
	arg Datum
}

func (tx *txn) opMutate(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, cond, err := tx.tableWhere(obj, op)
	if err != nil {
		return nil, err
	}
	mv := obj.Get("mutations")
	if mv == nil {
		return nil, tx.opErr(op, "Required 'mutations' member is missing.")
	}
	arr, e := mv.Array()
	if e != nil {
		return nil, tx.opErr(op, "Type mismatch for member 'mutations'.")
	}
	muts := make([]mutation, 0, len(arr))
	for _, m := range arr {
		mu, err := tx.parseMutation(t, m)
		if err != nil {
			return nil, err
		}
		muts = append(muts, mu)
	}
	rows := tx.matches(t, cond)
	for _, r := range rows {
		m := tx.modifiable(t, r.UUID)
		tx.tables[t.Index].rows[r.UUID].mutated = true
		for _, mu := range muts {
			d, err := mu.apply(m.Cols[mu.col.Index])
			if err != nil {
				return nil, err
			}
			m.Cols[mu.col.Index] = d
		}
	}
	return appendCount(out, len(rows)), nil
}

func (tx *txn) parseMutation(t *Table, v *fastjson.Value) (mutation, *Error) {
	arr, e := v.Array()
	if e != nil || len(arr) != 3 {
		return mutation{}, syntaxErr(SortedJSON(v), "Parse error in mutation.")
	}
	name, e1 := arr[0].StringBytes()
	mop, e2 := arr[1].StringBytes()
	if e1 != nil || e2 != nil {
		return mutation{}, syntaxErr(SortedJSON(v), "Parse error in mutation.")
	}
	c := t.LookupColumn(string(name))
	if c == nil {
		return mutation{}, &Error{Tag: TagUnknownColumn, Syntax: SortedJSON(v), Details: fmt.Sprintf("No column %s in table %s.", name, t.Name)}
	}
	if c.Index < 0 || !c.Mutable {
		return mutation{}, &Error{Tag: TagConstraint, Syntax: SortedJSON(v),
			Details: fmt.Sprintf("Cannot mutate immutable column %s in table %s.", c.Name, t.Name)}
	}
	mu := mutation{col: c, op: string(mop)}
	switch mu.op {
	case "+=", "-=", "*=", "/=", "%=":
		if c.Value != nil || (c.Key.Type != TypeInteger && c.Key.Type != TypeReal) || mu.op == "%=" && c.Key.Type != TypeInteger {
			return mutation{}, syntaxErr(SortedJSON(v), "Type mismatch: \"%s\" operator may not be applied to column %s of type %s.", mop, c.Name, typeText(c))
		}
		a, err := parseAtom(&c.Key, arr[2], tx)
		if err != nil {
			return mutation{}, err
		}
		mu.arg = ScalarDatum(a)
	case "insert", "delete":
		argCol := &Column{Key: c.Key, Value: c.Value, Min: 0, Max: math.MaxInt}
		if mu.op == "delete" && c.Value != nil && !isMapNotation(arr[2]) {
			// A map's delete takes either a map or a set of keys.
			argCol.Value = nil
			mu.op = "delete-keys"
		}
		d, err := parseDatumShape(argCol, arr[2], tx)
		if err != nil {
			return mutation{}, err
		}
		mu.arg = d
	default:
		return mutation{}, &Error{Tag: TagUnknownMutator, Details: fmt.Sprintf("No mutator named %s.", mop)}
	}
	return mu, nil
}

func (mu mutation) apply(d Datum) (Datum, *Error) {
	c := mu.col
	var out Datum
	switch mu.op {
	case "insert":
		out = c.union(d, mu.arg)
	case "delete":
		out = c.subtract(d, mu.arg, false)
	case "delete-keys":
		out = c.subtract(d, mu.arg, true)
	default:
		var err *Error
		out, err = mu.arith(d)
		if err != nil {
			return Datum{}, err
		}
	}
	if err := c.checkAtoms(out); err != nil {
		return Datum{}, err
	}
	if len(out.Keys) < c.Min || len(out.Keys) > c.Max {
		return Datum{}, errorf(TagConstraint, "Attempted to store %d elements in %s.", len(out.Keys), c.english())
	}
	return out, nil
}

func (mu mutation) arith(d Datum) (Datum, *Error) {
	c := mu.col
	out := Datum{Keys: make([]Atom, len(d.Keys))}
	arg := mu.arg.Keys[0]
	for i, k := range d.Keys {
		if c.Key.Type == TypeInteger {
			n, err := intArith(mu.op, k.N, arg.N)
			if err != nil {
				return Datum{}, err
			}
			out.Keys[i] = Atom{N: n}
			continue
		}
		f, err := realArith(mu.op, k.Real(), arg.Real())
		if err != nil {
			return Datum{}, err
		}
		out.Keys[i] = RealAtom(f)
	}
	n := len(out.Keys)
	out.sortDedup(c.Key.Type, nil)
	if len(out.Keys) != n {
		return Datum{}, errorf(TagConstraint, "Result of \"%s\" operation contains duplicate values.", mu.op)
	}
	return out, nil
}

func intArith(op string, x, y int64) (int64, *Error) {
	rangeErr := errorf(TagRange, "Result of \"%s\" operation is out of range.", op)
	switch op {
	case "+=":
		r := x + y
		if (r > x) != (y > 0) {
			return 0, rangeErr
		}
		return r, nil
	case "-=":
		r := x - y
		if (r < x) != (y > 0) {
			return 0, rangeErr
		}
		return r, nil
	case "*=":
		if x == 0 || y == 0 {
			return 0, nil
		}
		r := x * y
		if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
			return 0, rangeErr
		}
		return r, nil
	case "/=", "%=":
		if y == 0 {
			return 0, errorf(TagDomain, "Division by zero.")
		}
		if x == math.MinInt64 && y == -1 {
			if op == "%=" {
				return 0, nil
			}
			return 0, rangeErr
		}
		if op == "/=" {
			return x / y, nil
		}
		return x % y, nil
	}
	return 0, rangeErr
}

func realArith(op string, x, y float64) (float64, *Error) {
	var r float64
	switch op {
	case "+=":
		r = x + y
	case "-=":
		r = x - y
	case "*=":
		r = x * y
	case "/=":
		if y == 0 {
			return 0, errorf(TagDomain, "Division by zero.")
		}
		r = x / y
	}
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, errorf(TagRange, "Result of \"%s\" operation is out of range.", op)
	}
	return r, nil
}

func isMapNotation(v *fastjson.Value) bool {
	arr, err := v.Array()
	return err == nil && len(arr) == 2 && string(arr[0].GetStringBytes()) == "map"
}

// english describes the column's type as ovsdb-server's messages do, e.g.
// "set of 1 or more strings" or "map from string to integer".
func (c *Column) english() string {
	if c.Value != nil {
		return "map from " + c.Key.Type.String() + " to " + c.Value.Type.String()
	}
	plural := c.Key.Type.String() + "s"
	switch {
	case c.Min == 0 && c.Max == 1:
		return "optional " + c.Key.Type.String()
	case c.Max == math.MaxInt && c.Min == 0:
		return "set of " + plural
	case c.Max == math.MaxInt:
		return fmt.Sprintf("set of %d or more %s", c.Min, plural)
	case c.Min == 0:
		return fmt.Sprintf("set of up to %d %s", c.Max, plural)
	}
	return fmt.Sprintf("set of %d to %d %s", c.Min, c.Max, plural)
}

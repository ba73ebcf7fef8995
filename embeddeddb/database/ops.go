package database

import (
	"fmt"
	"strings"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

func (tx *txn) opInsert(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, err := tx.table(obj, op)
	if err != nil {
		return nil, err
	}
	uuid, err := tx.insertUUID(t, obj, op)
	if err != nil {
		return nil, err
	}
	r := tx.newRow(t, uuid)
	if rv := obj.Get("row"); rv != nil {
		if err := tx.parseRow(t, rv, r, true); err != nil {
			return nil, err
		}
	}
	return tx.addInsert(t, r, out), nil
}

// addInsert records the insert of r into t, whose columns are parsed, and
// appends its result.
func (tx *txn) addInsert(t *Table, r *Row, out []byte) []byte {
	tt := tx.tt(t)
	rc := tx.newChange(RowChange{UUID: r.UUID, New: r})
	if prev, ok := tt.rows[r.UUID]; ok {
		// Deleted earlier in this transaction and inserted again.
		rc.Old = prev.Old
		prev.New = r
	} else {
		tt.rows[r.UUID] = rc
		tt.order = append(tt.order, rc)
	}
	out = append(out, `{"uuid":`...)
	out = ovsjson.AppendUUID(out, r.UUID)
	return append(out, '}')
}

func (tx *txn) insertUUID(t *Table, obj *fastjson.Object, op *fastjson.Value) (string, *Error) {
	var uuid string
	if uv := obj.Get("uuid"); uv != nil {
		s, e := uv.StringBytes()
		if e != nil || !ovsjson.IsUUID(string(s)) {
			return "", tx.opErr(op, "Type mismatch for member 'uuid'.")
		}
		uuid = strings.ToLower(string(s))
		if tx.db.tables[t.Index].rows[uuid] != nil || tx.touched(t, uuid) {
			return "", &Error{Tag: TagDuplicateUUID, Syntax: SortedJSON(uv),
				Details: "This UUID would duplicate a UUID already present within the table or deleted within the same transaction."}
		}
	}
	nv := obj.Get("uuid-name")
	if nv == nil {
		if uuid == "" {
			uuid = tx.db.NewUUID()
		}
		return uuid, nil
	}
	name, e := nv.StringBytes()
	if e != nil || !isID(string(name)) {
		return "", tx.opErr(op, "Type mismatch for member 'uuid-name'.")
	}
	sym, ok := tx.symbols[string(name)]
	if ok && sym.created {
		return "", &Error{Tag: TagDuplicateUUIDName, Syntax: SortedJSON(nv),
			Details: "This \"uuid-name\" appeared on an earlier \"insert\" operation."}
	}
	if !ok {
		if uuid == "" {
			uuid = tx.db.NewUUID()
		}
		sym = tx.newSymbol(string(name), uuid)
	}
	sym.created = true
	return sym.uuid, nil
}

func (tx *txn) touched(t *Table, uuid string) bool {
	if tt := tx.tables[t.Index]; tt != nil {
		_, ok := tt.rows[uuid]
		return ok
	}
	return false
}

// parseRow parses a <row> into r. For updates, immutable columns are refused.
func (tx *txn) parseRow(t *Table, rv *fastjson.Value, r *Row, insert bool) *Error {
	o, e := rv.Object()
	if e != nil {
		return syntaxErr(SortedJSON(rv), "Type mismatch for member 'row'.")
	}
	var err *Error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		c := t.byName[string(k)]
		if c == nil {
			if string(k) == "_uuid" || string(k) == "_version" {
				err = &Error{Tag: TagConstraint, Syntax: SortedJSON(rv),
					Details: fmt.Sprintf("Cannot update immutable column %s in table %s.", k, t.Name)}
				return
			}
			err = unknownColumn(t, string(k), rv)
			return
		}
		if !insert && !c.Mutable {
			err = &Error{Tag: TagConstraint, Syntax: SortedJSON(rv),
				Details: fmt.Sprintf("Cannot update immutable column %s in table %s.", c.Name, t.Name)}
			return
		}
		d, perr := parseDatum(c, v, tx)
		if perr != nil {
			err = perr
			return
		}
		r.Cols[c.Index] = d
	})
	return err
}

func (tx *txn) columnsOf(t *Table, obj *fastjson.Object, op *fastjson.Value) ([]*Column, *Error) {
	cv := obj.Get("columns")
	if cv == nil {
		cols := make([]*Column, 0, len(t.Columns)+2)
		cols = append(cols, UUIDColumn, VersionColumn)
		return append(cols, t.Columns...), nil
	}
	arr, e := cv.Array()
	if e != nil {
		return nil, tx.opErr(op, "Type mismatch for member 'columns'.")
	}
	cols := make([]*Column, 0, len(arr))
	for _, v := range arr {
		s, e := v.StringBytes()
		if e != nil {
			return nil, syntaxErr(SortedJSON(v), "array of column names expected")
		}
		c := t.LookupColumn(string(s))
		if c == nil {
			return nil, syntaxErr(SortedJSON(cv), "%s is not a valid column name", s)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// AppendRow appends r as a JSON object holding the given columns.
func AppendRow(b []byte, r *Row, cols []*Column) []byte {
	b = append(b, '{')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = ovsjson.AppendString(b, c.Name)
		b = append(b, ':')
		b = c.AppendDatum(b, r.Get(c))
	}
	return append(b, '}')
}

func (tx *txn) opSelect(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, cond, cols, err := tx.selection(obj, op)
	if err != nil {
		return nil, err
	}
	out = append(out, `{"rows":[`...)
	for i, r := range tx.matches(t, cond) {
		if i > 0 {
			out = append(out, ',')
		}
		out = AppendRow(out, r, cols)
	}
	return append(out, "]}"...), nil
}

func (tx *txn) opUpdate(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, cond, err := tx.tableWhere(obj, op)
	if err != nil {
		return nil, err
	}
	rv := obj.Get("row")
	if rv == nil {
		return nil, tx.opErr(op, "Required 'row' member is missing.")
	}
	// Parse once into a scratch row to learn which columns are set.
	scratch := &Row{Cols: make([]Datum, len(t.Columns))}
	if err := tx.parseRowChecked(t, rv, scratch, op); err != nil {
		return nil, err
	}
	set := setColumns(t, rv)
	rows := tx.matches(t, cond)
	for _, r := range rows {
		m := tx.modifiable(t, r.UUID)
		for _, c := range set {
			m.Cols[c.Index] = scratch.Cols[c.Index]
		}
	}
	return appendCount(out, len(rows)), nil
}

func (tx *txn) parseRowChecked(t *Table, rv *fastjson.Value, r *Row, op *fastjson.Value) *Error {
	if err := tx.parseRow(t, rv, r, false); err != nil {
		if err.Tag == TagConstraint && strings.HasPrefix(err.Details, "Cannot update") {
			err.Syntax = op.String()
		}
		return err
	}
	return nil
}

func setColumns(t *Table, rv *fastjson.Value) []*Column {
	var cols []*Column
	rv.GetObject().Visit(func(k []byte, _ *fastjson.Value) {
		cols = append(cols, t.byName[string(k)])
	})
	return cols
}

func (tx *txn) opDelete(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, cond, err := tx.tableWhere(obj, op)
	if err != nil {
		return nil, err
	}
	rows := tx.matches(t, cond)
	for _, r := range rows {
		tx.deleteRow(t, r.UUID)
	}
	return appendCount(out, len(rows)), nil
}

func (tx *txn) opWait(obj *fastjson.Object, op *fastjson.Value, out []byte) ([]byte, *Error) {
	t, cond, cols, err := tx.selection(obj, op)
	if err != nil {
		return nil, err
	}
	timeout := int64(-1)
	if tv := obj.Get("timeout"); tv != nil {
		n, e := tv.Int64()
		if e != nil || n < 0 {
			return nil, tx.opErr(op, "Type mismatch for member 'timeout'.")
		}
		timeout = n
	}
	var until string
	if uv := obj.Get("until"); uv != nil {
		until = string(uv.GetStringBytes())
	}
	if until != "==" && until != "!=" {
		return nil, tx.opErr(op, "Type mismatch for member 'until'.")
	}
	want, err := tx.waitRows(t, obj.Get("rows"), cols, op)
	if err != nil {
		return nil, err
	}
	got := tx.matches(t, cond)
	equal := sameRows(got, want, cols)
	if equal == (until == "==") {
		return append(out, "{}"...), nil
	}
	if timeout == 0 || timeout >= 0 && tx.elapsed >= timeout {
		return nil, &Error{Tag: TagTimedOut, Details: "\"where\" clause test failed"}
	}
	tx.blocked = true
	tx.waitMs = timeout
	return nil, nil
}

func (tx *txn) waitRows(t *Table, rv *fastjson.Value, cols []*Column, op *fastjson.Value) ([]*Row, *Error) {
	if rv == nil {
		return nil, tx.opErr(op, "Required 'rows' member is missing.")
	}
	arr, e := rv.Array()
	if e != nil {
		return nil, tx.opErr(op, "Type mismatch for member 'rows'.")
	}
	rows := make([]*Row, 0, len(arr))
	for _, v := range arr {
		o, e := v.Object()
		if e != nil {
			return nil, syntaxErr(SortedJSON(v), "Type mismatch for member 'rows'.")
		}
		r := t.NewRow("")
		var perr *Error
		o.Visit(func(k []byte, cv *fastjson.Value) {
			if perr != nil {
				return
			}
			c := t.LookupColumn(string(k))
			if c == nil {
				perr = unknownColumn(t, string(k), v)
				return
			}
			d, err := parseDatum(c, cv, tx)
			if err != nil {
				perr = err
				return
			}
			switch c.Index {
			case uuidIndex:
				r.UUID = d.Keys[0].S
			case versionIndex:
				r.versionText = d.Keys[0].S
			default:
				r.Cols[c.Index] = d
			}
		})
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// sameRows compares two multisets of rows projected onto cols.
func sameRows(a, b []*Row, cols []*Column) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if used[j] {
				continue
			}
			eq := true
			for _, c := range cols {
				if !c.Equal(x.Get(c), y.Get(c)) {
					eq = false
					break
				}
			}
			if eq {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

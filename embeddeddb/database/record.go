package database

import (
	"fmt"
	"strconv"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// AppendRecord appends the commit as a transaction record of the OVSDB
// standalone file format (man 5 ovsdb): inserted rows with their
// non-default columns, modified rows with the columns that changed (full
// new values), deleted rows as null. Ephemeral columns are not stored.
func (c *Commit) AppendRecord(b []byte, dateMs int64) []byte {
	start := len(b)
	b = append(b, '{')
	stored := false
	for _, tc := range c.Tables {
		mark := len(b)
		b = ovsjson.AppendString(b, tc.Table.Name)
		b = append(b, ":{"...)
		n := 0
		for _, rc := range tc.Rows {
			if rc.Old == nil && rc.New == nil || !storedChange(tc.Table, rc.Old, rc.New) {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = ovsjson.AppendString(b, rc.UUID)
			b = append(b, ':')
			b = appendRecordRow(b, tc.Table, rc.Old, rc.New)
		}
		if n == 0 {
			b = b[:mark]
			continue
		}
		stored = true
		b = append(b, "},"...)
	}
	if !stored {
		// Only ephemeral columns changed: nothing to store.
		return b[:start]
	}
	if c.Comment != "" {
		b = append(b, `"_comment":`...)
		b = ovsjson.AppendString(b, c.Comment)
		b = append(b, ',')
	}
	b = append(b, `"_date":`...)
	b = strconv.AppendInt(b, dateMs, 10)
	return append(b, '}')
}

// storedChange reports whether a row change touches a stored column.
func storedChange(t *Table, old, new *Row) bool {
	if old == nil || new == nil {
		return true
	}
	for i, c := range t.Columns {
		if !c.Ephemeral && !c.Equal(old.Cols[i], new.Cols[i]) {
			return true
		}
	}
	return false
}

func appendRecordRow(b []byte, t *Table, old, new *Row) []byte {
	if new == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	n := 0
	for i, c := range t.Columns {
		if c.Ephemeral {
			continue
		}
		if old == nil && c.IsDefault(new.Cols[i]) || old != nil && c.Equal(old.Cols[i], new.Cols[i]) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = ovsjson.AppendString(b, c.Name)
		b = append(b, ':')
		b = c.AppendDatum(b, new.Cols[i])
	}
	return append(b, '}')
}

// AppendSnapshot appends one record holding every row, as a compacted
// database file stores it.
func (db *Database) AppendSnapshot(b []byte, dateMs int64) []byte {
	c := &Commit{}
	for _, td := range db.tables {
		if len(td.rows) == 0 {
			continue
		}
		tc := &TableChanges{Table: td.t, Rows: make([]*RowChange, 0, len(td.rows))}
		for u, r := range td.rows {
			tc.Rows = append(tc.Rows, &RowChange{UUID: u, New: r})
		}
		c.Tables = append(c.Tables, tc)
	}
	return c.AppendRecord(b, dateMs)
}

// ApplyRecord replays one transaction record from a database file. Records
// written with "_is_diff" (as ovsdb-server 2.15 and later write them) carry
// update2-style differences for modified rows.
func (db *Database) ApplyRecord(rec []byte) error { return db.applyRecord(rec, false) }

// FinishReplay drops what ApplyRecord keeps from one record to the next
// for speed: a parser that references the last record and so the whole
// buffer it was read into (the file, when loading). Call it after the
// last ApplyRecord.
func (db *Database) FinishReplay() { db.recParser = fastjson.Parser{} }

// Convert returns a database holding old's rows under schema to: tables and
// columns that to lacks are dropped, new columns take their defaults, and
// every kept value must satisfy to's constraints. This is what happens when
// a file written with an older schema is opened.
func Convert(old *Database, to *Schema) (*Database, error) {
	db := New(to)
	if err := db.applyRecord(old.AppendSnapshot(nil, 0), true); err != nil {
		return nil, fmt.Errorf("convert %s %s to %s: %w", old.schema.Name, old.schema.Version, to.Version, err)
	}
	db.FinishReplay()
	return db, nil
}

func (db *Database) applyRecord(rec []byte, convert bool) error {
	v, err := db.recParser.ParseBytes(rec)
	if err != nil {
		return fmt.Errorf("parse record: %w", err)
	}
	obj, err := v.Object()
	if err != nil {
		return fmt.Errorf("record is not a JSON object")
	}
	isDiff := obj.Get("_is_diff") != nil && obj.Get("_is_diff").Type() == fastjson.TypeTrue
	var changes []*TableChanges
	var ferr error
	obj.Visit(func(k []byte, tv *fastjson.Value) {
		if ferr != nil || len(k) > 0 && k[0] == '_' {
			return
		}
		t := db.schema.Table(string(k))
		if t == nil && convert {
			return
		}
		if t == nil {
			ferr = fmt.Errorf("record names unknown table %s", k)
			return
		}
		tc, err := db.recordTable(t, tv, isDiff, convert)
		if err != nil {
			ferr = fmt.Errorf("table %s: %w", t.Name, err)
			return
		}
		changes = append(changes, tc)
	})
	if ferr != nil {
		return ferr
	}
	db.apply(changes)
	return nil
}

func (db *Database) recordTable(t *Table, tv *fastjson.Value, isDiff, convert bool) (*TableChanges, error) {
	rows, err := tv.Object()
	if err != nil {
		return nil, fmt.Errorf("not an object")
	}
	tc := &TableChanges{Table: t}
	var ferr error
	rows.Visit(func(k []byte, rv *fastjson.Value) {
		if ferr != nil {
			return
		}
		u := string(k)
		if !ovsjson.IsUUID(u) {
			ferr = fmt.Errorf("bad row uuid %q", u)
			return
		}
		old := db.tables[t.Index].rows[u]
		rc := &RowChange{UUID: u, Old: old}
		if rv.Type() != fastjson.TypeNull {
			rc.New, ferr = db.recordRow(t, u, old, rv, isDiff, convert)
		}
		tc.Rows = append(tc.Rows, rc)
	})
	return tc, ferr
}

func (db *Database) recordRow(t *Table, u string, old *Row, rv *fastjson.Value, isDiff, convert bool) (*Row, error) {
	var r *Row
	if old != nil {
		r = old.clone()
	} else {
		r = t.NewRow(u)
	}
	r.version = nextVersion()
	o, err := rv.Object()
	if err != nil {
		return nil, fmt.Errorf("row %s is not an object", u)
	}
	var ferr error
	o.Visit(func(k []byte, cv *fastjson.Value) {
		if ferr != nil {
			return
		}
		c := t.Column(string(k))
		if c == nil && convert {
			return
		}
		if c == nil {
			ferr = fmt.Errorf("row %s: unknown column %s", u, k)
			return
		}
		argCol := c
		if isDiff && old != nil && !(c.Value == nil && c.Max == 1) {
			argCol = &Column{Key: c.Key, Value: c.Value, Min: 0, Max: int(^uint(0) >> 1)}
		}
		var d Datum
		var perr *Error
		if convert {
			d, perr = parseDatum(c, cv, nil)
		} else {
			d, perr = parseDatumShape(argCol, cv, nil)
		}
		if perr != nil {
			ferr = fmt.Errorf("row %s column %s: %w", u, c.Name, perr)
			return
		}
		if isDiff && old != nil {
			d = c.ApplyDiff(r.Cols[c.Index], d)
		}
		r.Cols[c.Index] = d
	})
	return r, ferr
}

package database

import (
	"fmt"
	"sort"
)

// precommit checks and completes the transaction as ovsdb-server does
// before committing: garbage collection of unreferenced rows in non-root
// tables, strong reference integrity, removal of weak references to rows
// that no longer exist, row limits and unique indexes. It returns the
// commit, or nil if nothing changed.
func (tx *txn) precommit() (*Commit, *Error) {
	if err := tx.checkRBAC(); err != nil {
		return nil, err
	}
	if err := tx.collectGarbage(); err != nil {
		return nil, err
	}
	if err := tx.checkStrongRefs(); err != nil {
		return nil, err
	}
	if err := tx.removeWeakRefs(); err != nil {
		return nil, err
	}
	if err := tx.checkMaxRows(); err != nil {
		return nil, err
	}
	if err := tx.checkIndexes(); err != nil {
		return nil, err
	}
	return tx.buildCommit(), nil
}

// refDeltas returns, per table index, the change this transaction makes to
// the strong reference count of each referenced row.
func (tx *txn) refDeltas() []map[string]int32 {
	var deltas []map[string]int32
	add := func(t *Table, r *Row, d int32) {
		for _, c := range t.refColumns {
			forEachRef(c, r.Cols[c.Index], func(bt *BaseType, u string) {
				if bt.Weak {
					return
				}
				i := bt.RefTable.Index
				if deltas == nil {
					deltas = make([]map[string]int32, len(tx.tables))
				}
				if deltas[i] == nil {
					deltas[i] = map[string]int32{}
				}
				deltas[i][u] += d
			})
		}
	}
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		for _, rc := range tt.order {
			if rc.Old != nil {
				add(t, rc.Old, -1)
			}
			if rc.New != nil {
				add(t, rc.New, 1)
			}
		}
	}
	return deltas
}

func (tx *txn) refCount(deltas []map[string]int32, t *Table, uuid string) int32 {
	n := tx.db.tables[t.Index].strongRefs[uuid]
	if deltas != nil && deltas[t.Index] != nil {
		n += deltas[t.Index][uuid]
	}
	return n
}

// collectGarbage deletes rows of non-root tables that nothing references
// strongly, repeating until no more go.
func (tx *txn) collectGarbage() *Error {
	for {
		deltas := tx.refDeltas()
		var victims []struct {
			t *Table
			u string
		}
		consider := func(t *Table, u string) {
			if t.IsRoot || tx.lookup(t, u) == nil || tx.refCount(deltas, t, u) > 0 {
				return
			}
			victims = append(victims, struct {
				t *Table
				u string
			}{t, u})
		}
		for i, tt := range tx.tables {
			if tt == nil {
				continue
			}
			t := tx.db.schema.Tables[i]
			for _, rc := range tt.order {
				if rc.New != nil {
					consider(t, rc.UUID)
				}
			}
		}
		for i, d := range deltas {
			t := tx.db.schema.Tables[i]
			for u, n := range d {
				if n < 0 && !tx.touched(t, u) {
					consider(t, u)
				}
			}
		}
		if len(victims) == 0 {
			tx.deltas = deltas // what checkStrongRefs needs: nothing changes before it
			return nil
		}
		for _, v := range victims {
			if tx.lookup(v.t, v.u) != nil {
				tx.deleteRow(v.t, v.u)
			}
		}
	}
}

// checkStrongRefs refuses references to rows that do not exist and
// deletions of rows that are still referenced.
func (tx *txn) checkStrongRefs() *Error {
	deltas := tx.deltas
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		for _, rc := range tt.order {
			if rc.New == nil {
				if n := tx.refCount(deltas, t, rc.UUID); n > 0 && rc.Old != nil {
					return errorf(TagReferential, "cannot delete %s row %s because of %d remaining reference(s)", t.Name, rc.UUID, n)
				}
				continue
			}
			if err := tx.checkRowRefs(t, rc.New); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tx *txn) checkRowRefs(t *Table, r *Row) *Error {
	var err *Error
	for _, c := range t.refColumns {
		forEachRef(c, r.Cols[c.Index], func(bt *BaseType, u string) {
			if err == nil && !bt.Weak && tx.lookup(bt.RefTable, u) == nil {
				err = errorf(TagReferential, "Table %s column %s row %s references nonexistent row %s in table %s.",
					t.Name, c.Name, r.UUID, u, bt.RefTable.Name)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// removeWeakRefs drops weak references to rows that do not exist after the
// transaction, from changed rows and from rows that referred to deleted ones.
func (tx *txn) removeWeakRefs() *Error {
	var deleted map[*Table]map[string]bool
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		for _, rc := range tt.order {
			if rc.New == nil && rc.Old != nil {
				if deleted == nil {
					deleted = map[*Table]map[string]bool{}
				}
				if deleted[t] == nil {
					deleted[t] = map[string]bool{}
				}
				deleted[t][rc.UUID] = true
			}
		}
	}
	for i, tt := range tx.tables {
		if tt == nil || !tx.db.schema.Tables[i].hasWeak {
			continue
		}
		t := tx.db.schema.Tables[i]
		for n := 0; n < len(tt.order); n++ {
			if rc := tt.order[n]; rc.New != nil {
				if err := tx.pruneWeak(t, rc.UUID); err != nil {
					return err
				}
			}
		}
	}
	if deleted == nil {
		return nil
	}
	referrers := tx.weakReferrers(deleted)
	tables := make([]*Table, 0, len(referrers))
	for t := range referrers {
		tables = append(tables, t)
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].Index < tables[j].Index })
	for _, t := range tables {
		for _, u := range referrers[t] {
			if err := tx.pruneWeak(t, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// weakReferrers finds committed rows, untouched by the transaction, that
// hold weak references to deleted rows.
func (tx *txn) weakReferrers(deleted map[*Table]map[string]bool) map[*Table][]string {
	out := map[*Table][]string{}
	if deleted == nil {
		return out
	}
	seen := map[*Table]bool{}
	for target := range deleted {
		for _, c := range target.refsIn {
			owner := c.table
			if seen[owner] || !hasWeakTo(c, target) {
				continue
			}
			seen[owner] = true
			for u, r := range tx.db.tables[owner.Index].rows {
				if tx.touched(owner, u) {
					continue
				}
				if rowRefsDeleted(owner, r, deleted) {
					out[owner] = append(out[owner], u)
				}
			}
		}
	}
	return out
}

func hasWeakTo(c *Column, target *Table) bool {
	return c.Key.RefTable == target && c.Key.Weak || c.Value != nil && c.Value.RefTable == target && c.Value.Weak
}

func rowRefsDeleted(t *Table, r *Row, deleted map[*Table]map[string]bool) bool {
	found := false
	for _, c := range t.refColumns {
		forEachRef(c, r.Cols[c.Index], func(bt *BaseType, u string) {
			if bt.Weak && deleted[bt.RefTable][u] {
				found = true
			}
		})
	}
	return found
}

// pruneWeak removes from one row the weak references to missing rows.
func (tx *txn) pruneWeak(t *Table, uuid string) *Error {
	r := tx.lookup(t, uuid)
	if r == nil {
		return nil
	}
	for _, c := range t.refColumns {
		d := r.Cols[c.Index]
		keep := func(bt *BaseType, a Atom) bool {
			return bt.RefTable == nil || !bt.Weak || tx.lookup(bt.RefTable, a.S) != nil
		}
		nd := Datum{}
		removed := 0
		for i, k := range d.Keys {
			if !keep(&c.Key, k) || c.Value != nil && !keep(c.Value, d.Values[i]) {
				removed++
				continue
			}
			nd.Keys = append(nd.Keys, k)
			if c.Value != nil {
				nd.Values = append(nd.Values, d.Values[i])
			}
		}
		if removed == 0 {
			continue
		}
		if len(nd.Keys) < c.Min {
			return errorf(TagConstraint, "Deletion of %d weak reference(s) to deleted (or never-existing) rows from column \"%s\" in \"%s\" row %s caused this column to become empty, but constraints on this column disallow an empty column.",
				removed, c.Name, t.Name, uuid)
		}
		m := tx.modifiable(t, uuid)
		m.Cols[c.Index] = nd
		r = m
	}
	return nil
}

func (tx *txn) checkMaxRows() *Error {
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		if t.MaxRows == int(^uint(0)>>1) {
			continue
		}
		n := len(tx.db.tables[i].rows)
		for _, rc := range tt.order {
			if rc.Old == nil && rc.New != nil {
				n++
			} else if rc.Old != nil && rc.New == nil {
				n--
			}
		}
		if n > t.MaxRows {
			return errorf(TagConstraint, "transaction causes \"%s\" table to contain %d rows, greater than the schema-defined limit of %d row(s)", t.Name, n, t.MaxRows)
		}
	}
	return nil
}

func (tx *txn) checkIndexes() *Error {
	for i, tt := range tx.tables {
		t := tx.db.schema.Tables[i]
		if tt == nil || len(t.Indexes) == 0 {
			continue
		}
		var buf []byte
		for x, idx := range t.Indexes {
			pending := make(map[string]string, len(tt.order))
			for _, rc := range tt.order {
				if rc.New == nil {
					continue
				}
				buf = appendIndexKey(buf[:0], t, idx, rc.New)
				if other, ok := pending[string(buf)]; ok {
					return tx.indexErr(t, idx, rc.New, other, rc.UUID)
				}
				pending[string(buf)] = rc.UUID
				if owner, ok := tx.db.tables[i].indexes[x][string(buf)]; ok && owner != rc.UUID && !tx.touched(t, owner) {
					return tx.indexErr(t, idx, rc.New, owner, rc.UUID)
				}
			}
		}
	}
	return nil
}

func (tx *txn) indexErr(t *Table, idx []int, r *Row, first, second string) *Error {
	var vals, cols []byte
	for n, ci := range idx {
		if n > 0 {
			vals = append(vals, ", "...)
			cols = append(cols, ", "...)
		}
		c := t.Columns[ci]
		for k, a := range r.Cols[ci].Keys {
			if k > 0 {
				vals = append(vals, ' ')
			}
			vals = append(vals, atomText(c.Key.Type, a)...)
		}
		cols = append(cols, c.Name...)
	}
	return &Error{Tag: TagConstraint, Details: fmt.Sprintf(
		"Transaction causes multiple rows in \"%s\" table to have identical values (%s) for index on column \"%s\".  First row, with UUID %s, %s.  Second row, with UUID %s, %s.",
		t.Name, vals, cols, first, tx.rowHistory(t, first), second, tx.rowHistory(t, second))}
}

// rowHistory says what the transaction did to a row, for index errors.
func (tx *txn) rowHistory(t *Table, uuid string) string {
	if tt := tx.tables[t.Index]; tt != nil {
		if rc, ok := tt.rows[uuid]; ok {
			if rc.Old == nil {
				return "was inserted by this transaction"
			}
			return "existed in the database before this transaction and was modified by this transaction"
		}
	}
	return "existed in the database before this transaction and was not modified by the transaction"
}

// buildCommit drops rows that did not really change, stamps new versions
// and returns the commit, or nil if nothing changed.
// commitAlloc is a commit with room for its first table's changes and
// that table's first row change, so that the commit of a one-row
// transaction, the most common kind, is one allocation, not four.
type commitAlloc struct {
	c        Commit
	tc       TableChanges
	tcs      [1]*TableChanges
	rows     [1]*RowChange
	rowsUsed bool
}

func (tx *txn) buildCommit() *Commit {
	a := &commitAlloc{}
	c := &a.c
	c.Durable, c.Comment = tx.durable, string(tx.comment)
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		var rows []*RowChange
		for _, rc := range tt.order {
			if rc.Old == nil && rc.New == nil {
				continue
			}
			if rc.Old != nil && rc.New != nil && sameContent(t, rc.Old, rc.New) {
				continue
			}
			if rc.New != nil {
				rc.New.version = nextVersion()
			}
			if rows == nil && !a.rowsUsed {
				rows, a.rowsUsed = a.rows[:0], true
			}
			rows = append(rows, rc)
		}
		if len(rows) == 0 {
			continue
		}
		var tc *TableChanges
		if c.Tables == nil {
			tc, c.Tables = &a.tc, a.tcs[:0]
		} else {
			tc = new(TableChanges)
		}
		*tc = TableChanges{Table: t, Rows: rows}
		c.Tables = append(c.Tables, tc)
	}
	if len(c.Tables) == 0 {
		return nil
	}
	c.ID = tx.db.NewUUID()
	return c
}

func sameContent(t *Table, a, b *Row) bool {
	for i, c := range t.Columns {
		if !c.Equal(a.Cols[i], b.Cols[i]) {
			return false
		}
	}
	return true
}

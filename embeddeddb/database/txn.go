package database

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"
)

// Session is what the transaction engine asks of the client connection.
type Session interface {
	// HasLock reports whether the session holds the named lock.
	HasLock(name string) bool
	// ReadOnly reports whether the session may only read.
	ReadOnly() bool
}

// RowChange is one row's change in a commit: Old is nil for an insert and
// New is nil for a delete.
type RowChange struct {
	UUID     string
	Old, New *Row
	mutated  bool // changed by a mutate operation (for RBAC's wording)
}

// TableChanges lists a commit's row changes in one table.
type TableChanges struct {
	Table *Table
	Rows  []*RowChange
}

// Commit describes a committed transaction.
type Commit struct {
	// ID identifies the transaction for monitor_cond_since.
	ID      string
	Tables  []*TableChanges
	Durable bool
	Comment string
}

// Result is the outcome of Transact.
type Result struct {
	// Reply is the JSON array to send as the "result" of the transact
	// request. It is nil when Blocked.
	Reply []byte
	// Commit is the committed change, or nil if the transaction failed or
	// changed nothing.
	Commit *Commit
	// Blocked reports that a "wait" operation is not yet satisfied and has
	// not timed out: the caller should run the same request again after the
	// next commit, or once WaitMs milliseconds have passed since it arrived.
	Blocked bool
	WaitMs  int64
	// Durable is set when a "commit" operation asked for durability, even
	// if nothing changed.
	Durable bool
}

type symbol struct {
	uuid    string
	created bool
}

type txnTable struct {
	rows  map[string]*RowChange
	order []*RowChange
}

type txn struct {
	db       *Database
	sess     Session
	elapsed  int64
	symbols  map[string]*symbol
	tables   []*txnTable
	durable  bool
	comment  []byte
	blocked  bool
	waitMs   int64
	internal bool // the server's own transaction, allowed on reserved databases
	opNum    int  // the operation being executed, from 1
	opCount  int
	bulk     *bulkArena // set for a transaction of bulkOps or more
	// deltas is refDeltas as collectGarbage left it, for checkStrongRefs.
	deltas []map[string]int32
}

// opErr is a syntax error in the current operation's members, worded as
// ovsdb-server words it.
func (tx *txn) opErr(op *fastjson.Value, format string, args ...any) *Error {
	return &Error{Tag: TagSyntax, Syntax: SortedJSON(op),
		Details: fmt.Sprintf("Parsing ovsdb operation %d of %d failed: ", tx.opNum, tx.opCount) + fmt.Sprintf(format, args...)}
}

// Resolve implements Symbols.
func (tx *txn) Resolve(name string) string {
	if s, ok := tx.symbols[name]; ok {
		return s.uuid
	}
	return tx.newSymbol(name, tx.db.NewUUID()).uuid
}

// Transact runs the operations of one RFC 7047 transact request (the params
// after the database name) atomically. elapsedMs is how long ago the
// request arrived, for "wait" timeouts. On success the change is already
// applied to db.
func (db *Database) Transact(ops []*fastjson.Value, sess Session, elapsedMs int64) Result {
	return db.transactParsed(ops, sess, elapsedMs, false)
}

// transactParsed runs ops through the opList interface without boxing
// the slice on the heap: the list lives in db for the transaction.
func (db *Database) transactParsed(ops []*fastjson.Value, sess Session, elapsedMs int64, internal bool) Result {
	db.parsed = ops
	defer func() { db.parsed = nil }() // the values die with the request
	return db.transact(&db.parsed, sess, elapsedMs, internal)
}

// TransactRaw is Transact for operations given as raw JSON text, one
// slice per operation (see ovsjson.Elements). It parses them one at a
// time, so a transaction of tens of thousands of operations costs no
// tree of them all. The caller must have checked that every operation is
// valid JSON; one that does not parse fails as a syntax error.
func (db *Database) TransactRaw(ops [][]byte, sess Session, elapsedMs int64) Result {
	return db.transact(rawOps{db: db, ops: ops}, sess, elapsedMs, false)
}

// TransactInternal is Transact for the server's own changes; it may write
// to a reserved database.
func (db *Database) TransactInternal(ops []*fastjson.Value) Result {
	return db.transactParsed(ops, nil, 0, true)
}

// opList is a transaction's operations: at(i) is valid until the next call.
type opList interface {
	len() int
	at(i int) (*fastjson.Value, error)
}

type parsedOps []*fastjson.Value

func (p *parsedOps) len() int                          { return len(*p) }
func (p *parsedOps) at(i int) (*fastjson.Value, error) { return (*p)[i], nil }

type rawOps struct {
	db  *Database
	ops [][]byte
}

func (r rawOps) len() int { return len(r.ops) }

// names counts the operations that mention "uuid-name" (an estimate of
// the symbols a big transaction binds: a string value may mention it
// too), so that the symbol map is made once at its size instead of
// rehashed as it doubles to tens of thousands of names.
func (r rawOps) names() int {
	n := 0
	for _, op := range r.ops {
		if bytes.Contains(op, uuidNameKey) {
			n++
		}
	}
	return n
}

var uuidNameKey = []byte(`"uuid-name"`)

func (r rawOps) at(i int) (*fastjson.Value, error) {
	return r.db.opParser.ParseBytes(r.ops[i])
}

func (db *Database) transact(ops opList, sess Session, elapsedMs int64, internal bool) (res Result) {
	defer func() {
		// A bug must cost one request, not the server: nothing is applied
		// before precommit succeeds, so the database is unchanged.
		if r := recover(); r != nil {
			e := &Error{Tag: TagOVSDB, Details: fmt.Sprintf("internal error: %v", r)}
			res = Result{Reply: append(e.AppendJSON([]byte{'['}), ']')}
		}
	}()
	if len(db.txnTables) != len(db.tables) {
		db.txnTables = make([]*txnTable, len(db.tables))
		db.spareTables = make([]*txnTable, len(db.tables))
	}
	tx := &txn{db: db, sess: sess, elapsed: elapsedMs, tables: db.txnTables, internal: internal}
	defer db.recycleTables()
	n := ops.len()
	tx.opCount = n
	var prep *preparer
	if n >= bulkOps {
		tx.bulk = &bulkArena{}
		if raw, ok := ops.(rawOps); ok {
			tx.symbols = make(map[string]*symbol, raw.names())
			if !db.reserved && (sess == nil || !sess.ReadOnly()) {
				// Those refuse every insert in execute.
				prep = startPreparer(db.schema, raw.ops)
				defer prep.close()
			}
		}
	}
	reply := make([]byte, 0, 64+40*n) // most operations are inserts: {"uuid":["uuid","…"]}
	reply = append(reply, '[')
	failed := false
	for i := range n {
		if i > 0 {
			reply = append(reply, ',')
		}
		if failed {
			reply = append(reply, "null"...)
			continue
		}
		tx.opNum, tx.opCount = i+1, n
		if pr := prep.take(i); pr != nil {
			out, err, done := tx.insertPrepared(pr, reply)
			if done {
				if err != nil {
					reply = err.AppendJSON(reply)
					failed = true
					continue
				}
				reply = out
				continue
			}
		}
		op, perr := ops.at(i)
		if perr != nil {
			reply = (&Error{Tag: TagSyntax, Details: fmt.Sprintf("Parsing ovsdb operation %d of %d failed: %v", i+1, n, perr)}).AppendJSON(reply)
			failed = true
			continue
		}
		out, err := tx.execute(op, i, n, reply)
		if tx.blocked {
			return Result{Blocked: true, WaitMs: tx.waitMs}
		}
		if err != nil {
			reply = err.AppendJSON(reply)
			failed = true
			continue
		}
		reply = out
	}
	if failed {
		return Result{Reply: append(reply, ']')}
	}
	commit, err := tx.precommit()
	if err != nil {
		if n > 0 {
			reply = append(reply, ',')
		}
		reply = err.AppendJSON(reply)
		return Result{Reply: append(reply, ']'), Durable: tx.durable}
	}
	reply = append(reply, ']')
	if commit == nil {
		return Result{Reply: reply, Durable: tx.durable}
	}
	db.apply(commit.Tables)
	return Result{Reply: reply, Commit: commit, Durable: tx.durable}
}

func (tx *txn) execute(op *fastjson.Value, i, n int, out []byte) ([]byte, *Error) {
	obj, err := op.Object()
	if err != nil {
		return nil, tx.opErr(op, "Type mismatch for member 'op'.")
	}
	name := obj.Get("op")
	if name == nil || name.Type() != fastjson.TypeString {
		return nil, tx.opErr(op, "Required 'op' member is missing or not a string.")
	}
	opBytes := name.GetStringBytes()
	if !tx.internal && tx.sess != nil && tx.sess.ReadOnly() {
		switch string(opBytes) {
		case "insert", "update", "mutate", "delete":
			return nil, &Error{Tag: "not allowed",
				Details: string(opBytes) + " operation not allowed when database server is in read only mode"}
		}
	}
	if tx.db.reserved && !tx.internal {
		switch string(opBytes) {
		case "insert", "update", "mutate", "delete":
			return nil, &Error{Tag: "not allowed",
				Details: string(opBytes) + " operation not allowed on table in reserved database " + tx.db.schema.Name}
		}
	}
	switch string(opBytes) {
	case "insert":
		return tx.opInsert(obj, op, out)
	case "select":
		return tx.opSelect(obj, op, out)
	case "update":
		return tx.opUpdate(obj, op, out)
	case "mutate":
		return tx.opMutate(obj, op, out)
	case "delete":
		return tx.opDelete(obj, op, out)
	case "wait":
		return tx.opWait(obj, op, out)
	case "commit":
		if d := obj.Get("durable"); d != nil {
			if d.Type() != fastjson.TypeTrue && d.Type() != fastjson.TypeFalse {
				return nil, tx.opErr(op, "Type mismatch for member 'durable'.")
			}
			tx.durable = tx.durable || d.Type() == fastjson.TypeTrue
		}
		return append(out, "{}"...), nil
	case "abort":
		return nil, &Error{Tag: TagAborted, Details: "aborted by request"}
	case "comment":
		cv := obj.Get("comment")
		if cv == nil {
			return nil, tx.opErr(op, "Required 'comment' member is missing.")
		}
		c, err := cv.StringBytes()
		if err != nil {
			return nil, tx.opErr(op, "Type mismatch for member 'comment'.")
		}
		if len(tx.comment) > 0 {
			tx.comment = append(tx.comment, '\n')
		}
		tx.comment = append(tx.comment, c...)
		return append(out, "{}"...), nil
	case "assert":
		lv := obj.Get("lock")
		if lv == nil {
			return nil, tx.opErr(op, "Required 'lock' member is missing.")
		}
		l, err := lv.StringBytes()
		if err != nil {
			return nil, tx.opErr(op, "Type mismatch for member 'lock'.")
		}
		if tx.sess == nil || !tx.sess.HasLock(string(l)) {
			return nil, &Error{Tag: TagNotOwner, Details: "Asserted lock " + string(l) + " not held."}
		}
		return append(out, "{}"...), nil
	}
	return nil, tx.opErr(op, "No operation \"%s\"", opBytes)
}

func (tx *txn) table(obj *fastjson.Object, op *fastjson.Value) (*Table, *Error) {
	v := obj.Get("table")
	if v == nil || v.Type() != fastjson.TypeString {
		return nil, tx.opErr(op, "Required 'table' member is missing or not a string.")
	}
	t := tx.db.schema.Table(string(v.GetStringBytes()))
	if t == nil {
		return nil, tx.opErr(op, "No table named %s.", v.GetStringBytes())
	}
	return t, nil
}

func (tx *txn) tt(t *Table) *txnTable {
	if tx.tables[t.Index] == nil {
		if tt := tx.db.spareTables[t.Index]; tt != nil {
			tx.db.spareTables[t.Index] = nil
			tx.tables[t.Index] = tt
		} else {
			tx.tables[t.Index] = &txnTable{rows: map[string]*RowChange{}}
		}
	}
	return tx.tables[t.Index]
}

// recycleTables empties the finished transaction's tables for the next
// one. Nothing outside the transaction holds them: a Commit has its own
// slices.
func (db *Database) recycleTables() {
	for i, tt := range db.txnTables {
		if tt == nil {
			continue
		}
		db.txnTables[i] = nil
		if len(tt.rows) > 64 {
			continue // a big transaction's map is left to the collector
		}
		clear(tt.rows)
		clear(tt.order)
		tt.order = tt.order[:0]
		db.spareTables[i] = tt
	}
}

// lookup returns the row as the transaction sees it, or nil.
func (tx *txn) lookup(t *Table, uuid string) *Row {
	if tt := tx.tables[t.Index]; tt != nil {
		if rc, ok := tt.rows[uuid]; ok {
			return rc.New
		}
	}
	return tx.db.tables[t.Index].rows[uuid]
}

// modifiable returns a private copy of the row for changing in place.
func (tx *txn) modifiable(t *Table, uuid string) *Row {
	tt := tx.tt(t)
	if rc, ok := tt.rows[uuid]; ok {
		return rc.New
	}
	old := tx.db.tables[t.Index].rows[uuid]
	rc := &RowChange{UUID: uuid, Old: old, New: old.clone()}
	tt.rows[uuid] = rc
	tt.order = append(tt.order, rc)
	return rc.New
}

func (tx *txn) deleteRow(t *Table, uuid string) {
	tt := tx.tt(t)
	if rc, ok := tt.rows[uuid]; ok {
		rc.New = nil
		return
	}
	rc := &RowChange{UUID: uuid, Old: tx.db.tables[t.Index].rows[uuid]}
	tt.rows[uuid] = rc
	tt.order = append(tt.order, rc)
}

// matches returns the rows of t (as the transaction sees them) that satisfy cond.
func (tx *txn) matches(t *Table, cond *Condition) []*Row {
	if u, ok := cond.UUIDs(); ok {
		if r := tx.lookup(t, u); r != nil && cond.Match(r) {
			return []*Row{r}
		}
		return nil
	}
	var out []*Row
	tt := tx.tables[t.Index]
	for u, r := range tx.db.tables[t.Index].rows {
		if tt != nil {
			if _, ok := tt.rows[u]; ok {
				continue
			}
		}
		if cond.Match(r) {
			out = append(out, r)
		}
	}
	if tt != nil {
		for _, rc := range tt.order {
			if rc.New != nil && cond.Match(rc.New) {
				out = append(out, rc.New)
			}
		}
	}
	return out
}

// tableWhere parses the "table" and "where" members every operation but
// insert starts with.
func (tx *txn) tableWhere(obj *fastjson.Object, op *fastjson.Value) (*Table, *Condition, *Error) {
	t, err := tx.table(obj, op)
	if err != nil {
		return nil, nil, err
	}
	cond, err := tx.where(t, obj, op)
	if err != nil {
		return nil, nil, err
	}
	return t, cond, nil
}

// selection is tableWhere plus the "columns" member of select and wait.
func (tx *txn) selection(obj *fastjson.Object, op *fastjson.Value) (*Table, *Condition, []*Column, *Error) {
	t, cond, err := tx.tableWhere(obj, op)
	if err != nil {
		return nil, nil, nil, err
	}
	cols, err := tx.columnsOf(t, obj, op)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, cond, cols, nil
}

func (tx *txn) where(t *Table, obj *fastjson.Object, op *fastjson.Value) (*Condition, *Error) {
	w := obj.Get("where")
	if w == nil {
		return nil, tx.opErr(op, "Required 'where' member is missing.")
	}
	return ParseWhere(t, w, tx)
}

func appendCount(out []byte, n int) []byte {
	out = append(out, `{"count":`...)
	out = strconv.AppendInt(out, int64(n), 10)
	return append(out, '}')
}

// unknownColumn is the error for a row naming a column the table lacks.
func unknownColumn(t *Table, name string, row *fastjson.Value) *Error {
	return &Error{Tag: TagUnknownColumn, Details: fmt.Sprintf("No column %s in table %s.", name, t.Name), Syntax: SortedJSON(row)}
}

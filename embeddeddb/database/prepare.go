package database

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/valyala/fastjson"
)

// parallelMin is the operation count from which TransactRaw parses its
// insert operations on other goroutines ahead of executing them
// (preparer). northd's first SB transaction has ~42,600 operations,
// nearly all inserts, and parsing them (JSON, then each column's datum
// and its constraints) is more than half of the engine's time while the
// client waits with the second core idle. A variable so that tests can
// lower it.
var parallelMin = 4096

// prepChunk is how many operations a preparer worker takes at a time; a
// variable so that tests can cut transactions into many chunks.
var prepChunk = 512

// prepared is an insert operation parsed ahead of its turn: its table,
// its uuid-name and its row with every column parsed except those that
// name a UUID by its symbol. Those are left (deferred) for the
// transaction to parse in its turn, since a named UUID binds a symbol
// and may draw a fresh UUID: the transaction's own goroutine does that
// in operation order, so that the outcome is exactly the sequential one. row is nil
// when the operation is to be executed the ordinary way: anything but a
// plain insert, or one that fails to parse (the ordinary way then gives
// the error the client must see).
type prepared struct {
	t        *Table
	name     string // uuid-name; "" for none
	row      *Row
	deferred []deferredCol
}

// deferredCol is a UUID-typed column value of a prepared row that names
// a symbol: one named UUID (name), or anything else as JSON (raw).
type deferredCol struct {
	c    *Column
	name string
	raw  []byte
}

// preparer runs the workers that prepare a big transaction's inserts.
// Workers claim chunks in order and each operation in them; the
// transaction's goroutine takes an operation no worker has claimed and
// executes it the ordinary way, so that it never waits for a worker
// (on a loaded machine a worker may sleep for milliseconds mid-chunk).
// It waits a moment for an operation a worker is in the middle of, then
// takes that too. A worker that finds the transaction in its chunk
// leaves the rest to it and moves two chunks ahead of it.
type preparer struct {
	schema *Schema
	ops    [][]byte
	prep   []prepared
	state  []atomic.Uint32 // by operation: opFree, opPreparing, opPrepared or opTaken
	next   atomic.Int64    // the next chunk for workers to claim
	pos    atomic.Int64    // the operation the transaction is at
	stop   atomic.Bool
	wg     sync.WaitGroup
}

// The states of an operation in a preparer.
const (
	opFree      = iota // no one has claimed it
	opPreparing        // a worker prepares it
	opPrepared         // a worker prepared it (prepared.row nil: it failed)
	opTaken            // the transaction executes it the ordinary way
)

// startPreparer starts preparing ops on GOMAXPROCS-1 goroutines, or
// returns nil when they would not pay (one processor, few operations).
// The caller must call close.
func startPreparer(s *Schema, ops [][]byte) *preparer {
	workers := runtime.GOMAXPROCS(0) - 1
	if len(ops) < parallelMin || workers < 1 {
		return nil
	}
	chunks := (len(ops) + prepChunk - 1) / prepChunk
	p := &preparer{schema: s, ops: ops, prep: make([]prepared, len(ops)), state: make([]atomic.Uint32, len(ops))}
	workers = min(workers, chunks)
	p.wg.Add(workers)
	for range workers {
		go p.routineWork()
	}
	return p
}

// close stops the workers and waits for them.
func (p *preparer) close() {
	if p == nil {
		return
	}
	p.stop.Store(true)
	p.wg.Wait()
}

// take returns operation i prepared, or nil when it is to be executed
// the ordinary way: no worker got to it in time, or preparing it failed.
func (p *preparer) take(i int) *prepared {
	if p == nil {
		return nil
	}
	p.pos.Store(int64(i))
	st := &p.state[i]
	if st.CompareAndSwap(opFree, opTaken) {
		return nil
	}
	if st.Load() == opPreparing && i+1 < len(p.state) {
		// The transaction caught up with a worker: take the next
		// operation now, so that the worker moves on after this one
		// rather than the two going on in lock step, the transaction
		// spinning at every operation.
		p.state[i+1].CompareAndSwap(opFree, opTaken)
	}
	// A worker prepares it: an insert takes a few microseconds.
	for spins := 0; spins < prepSpins && st.Load() == opPreparing; spins++ {
	}
	if st.CompareAndSwap(opPreparing, opTaken) {
		return nil // the worker's result is never read
	}
	// The worker is done: this load of its store orders its writes to
	// prep[i] before the reads below.
	if st.Load() != opPrepared {
		return nil
	}
	if pr := &p.prep[i]; pr.row != nil {
		return pr
	}
	return nil
}

// prepSpins bounds how long the transaction waits for the operation a
// worker is in the middle of: about as long as preparing an insert.
const prepSpins = 2000

// routineWork prepares the chunks it claims, in order, until none is
// left or the transaction is over.
func (p *preparer) routineWork() {
	defer p.wg.Done()
	pw := &prepWorker{schema: p.schema}
	for !p.stop.Load() {
		k := int(p.next.Add(1) - 1)
		if k*prepChunk >= len(p.ops) {
			return
		}
		if !pw.chunk(p, k) {
			// The transaction caught up: go ahead of it again.
			ahead := p.pos.Load()/int64(prepChunk) + 2
			for n := p.next.Load(); n < ahead && !p.next.CompareAndSwap(n, ahead); n = p.next.Load() {
			}
		}
	}
}

// prepWorker is one worker's parser and arenas.
type prepWorker struct {
	schema *Schema
	parser fastjson.Parser
	arena  bulkArena
	defs   []deferredCol
	text   []byte
	// unexpected is set when a column parse asks for a symbol, which
	// only UUID-typed columns do and those are deferred: the operation
	// is then executed the ordinary way.
	unexpected bool
}

// chunk prepares the operations of chunk k. It reports false when the
// transaction took one of them itself: it is then ahead, and the rest of
// the chunk is its.
func (pw *prepWorker) chunk(p *preparer, k int) bool {
	end := min((k+1)*prepChunk, len(p.ops))
	for i := k * prepChunk; i < end && !p.stop.Load(); i++ {
		if !p.state[i].CompareAndSwap(opFree, opPreparing) {
			return false
		}
		pw.prepareSafe(p.ops[i], &p.prep[i])
		if !p.state[i].CompareAndSwap(opPreparing, opPrepared) {
			return false
		}
	}
	return true
}

// prepareSafe is prepare, with a panic (a bug) leaving the operation
// to the ordinary path, where the transaction reports it.
func (pw *prepWorker) prepareSafe(op []byte, pr *prepared) {
	defer func() {
		if recover() != nil {
			*pr = prepared{}
		}
	}()
	pw.prepare(op, pr)
}

// prepare parses one operation into pr if it is a plain insert: members
// op, table, uuid-name and row only, all valid. Otherwise pr is left
// empty.
func (pw *prepWorker) prepare(op []byte, pr *prepared) {
	v, err := pw.parser.ParseBytes(op)
	if err != nil {
		return
	}
	obj, err := v.Object()
	if err != nil {
		return
	}
	plain := true
	obj.Visit(func(k []byte, _ *fastjson.Value) {
		switch string(k) {
		case "op", "table", "uuid-name", "row":
		default:
			plain = false
		}
	})
	if !plain || string(obj.Get("op").GetStringBytes()) != "insert" {
		return
	}
	tv := obj.Get("table")
	if tv == nil || tv.Type() != fastjson.TypeString {
		return
	}
	t := pw.schema.Table(string(tv.GetStringBytes()))
	if t == nil {
		return
	}
	name := ""
	if nv := obj.Get("uuid-name"); nv != nil {
		if nv.Type() != fastjson.TypeString || !isID(string(nv.GetStringBytes())) {
			return
		}
		name = string(nv.GetStringBytes())
	}
	r := pw.arena.row(t, "")
	defs := len(pw.defs)
	if rv := obj.Get("row"); rv != nil && !pw.parseRow(t, rv, r) {
		return
	}
	*pr = prepared{t: t, name: name, row: r, deferred: pw.defs[defs:len(pw.defs):len(pw.defs)]}
}

// parseRow parses rv's columns into r as txn.parseRow does for an
// insert, leaving those that name a symbol in pw.defs. It reports false
// on any error, and for a row that names a column twice (its order
// with the deferred columns would matter).
func (pw *prepWorker) parseRow(t *Table, rv *fastjson.Value, r *Row) bool {
	o, err := rv.Object()
	if err != nil || len(t.Columns) > 64 {
		return false
	}
	ok := true
	var seen uint64
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !ok {
			return
		}
		c := t.byName[string(k)]
		if c == nil || seen&(1<<c.Index) != 0 {
			ok = false
			return
		}
		seen |= 1 << c.Index
		pw.unexpected = false
		d, perr := parseDatum(c, v, pw)
		if pw.unexpected {
			pw.deferCol(c, v)
			return
		}
		if perr != nil {
			ok = false
			return
		}
		r.Cols[c.Index] = d
	})
	return ok
}

// deferCol keeps v, which names a symbol, for the transaction to parse
// in its turn: one named UUID as its name, anything else as JSON text.
func (pw *prepWorker) deferCol(c *Column, v *fastjson.Value) {
	if len(pw.defs) == cap(pw.defs) {
		pw.defs = make([]deferredCol, 0, bulkChunk)
	}
	if c.Value == nil && c.Min <= 1 && c.Max >= 1 {
		if arr := v.GetArray(); len(arr) == 2 && string(arr[0].GetStringBytes()) == "named-uuid" {
			if name := arr[1].GetStringBytes(); arr[1].Type() == fastjson.TypeString && isID(string(name)) {
				pw.defs = append(pw.defs, deferredCol{c: c, name: string(name)})
				return
			}
		}
	}
	if cap(pw.text)-len(pw.text) < 256 {
		pw.text = make([]byte, 0, 64<<10)
	}
	start := len(pw.text)
	pw.text = v.MarshalTo(pw.text)
	pw.defs = append(pw.defs, deferredCol{c: c, raw: pw.text[start:len(pw.text):len(pw.text)]})
}

// Resolve implements Symbols; see unexpected.
func (pw *prepWorker) Resolve(string) string {
	pw.unexpected = true
	return ""
}

// oneAtom implements atomSource.
func (pw *prepWorker) oneAtom(a Atom) []Atom { return pw.arena.oneAtom(a) }

// insertPrepared executes a prepared insert as opInsert would, and
// reports false, having changed nothing, when its uuid-name was bound by
// an earlier insert: the ordinary path then reports that error.
func (tx *txn) insertPrepared(pr *prepared, out []byte) ([]byte, *Error, bool) {
	var uuid string
	if pr.name == "" {
		uuid = tx.db.NewUUID()
	} else {
		sym, ok := tx.symbols[pr.name]
		if ok && sym.created {
			return nil, nil, false
		}
		if !ok {
			sym = tx.newSymbol(pr.name, tx.db.NewUUID())
		}
		sym.created = true
		uuid = sym.uuid
	}
	r := pr.row
	r.UUID = uuid
	for _, dc := range pr.deferred {
		if dc.raw == nil {
			// As parseDatum parses ["named-uuid", name] for a column
			// that holds one UUID (deferCol checked the rest).
			d := Datum{Keys: tx.oneAtom(Atom{S: tx.Resolve(dc.name)})}
			if err := dc.c.checkAtoms(d); err != nil {
				return nil, err, true
			}
			r.Cols[dc.c.Index] = d
			continue
		}
		v, err := tx.db.opParser.ParseBytes(dc.raw)
		if err != nil {
			return nil, &Error{Tag: TagOVSDB, Details: "internal error: prepared column does not parse: " + err.Error()}, true
		}
		d, perr := parseDatum(dc.c, v, tx)
		if perr != nil {
			return nil, perr, true
		}
		r.Cols[dc.c.Index] = d
	}
	return tx.addInsert(pr.t, r, out), nil, true
}

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
// its uuid-name and its row with every column parsed except those of
// UUID type. Those are left as JSON text (deferred) for the transaction
// to parse in its turn, since a named UUID binds a symbol and draws a
// fresh UUID: the transaction's own goroutine does that in operation
// order, so that the outcome is exactly the sequential one. row is nil
// when the operation is to be executed the ordinary way: anything but a
// plain insert, or one that fails to parse (the ordinary way then gives
// the error the client must see).
type prepared struct {
	t        *Table
	name     string // uuid-name; "" for none
	row      *Row
	deferred []deferredCol
}

// deferredCol is a UUID-typed column value of a prepared row, as JSON.
type deferredCol struct {
	c   *Column
	raw []byte
}

// preparer runs the workers that prepare a big transaction's inserts.
type preparer struct {
	schema *Schema
	ops    [][]byte
	prep   []prepared
	ready  []chan struct{} // by chunk: closed once its operations are prepared
	stop   atomic.Bool
	wg     sync.WaitGroup
}

// startPreparer starts preparing ops on GOMAXPROCS goroutines, or
// returns nil when they would not pay (one processor, few operations).
// The caller must call close.
func startPreparer(s *Schema, ops [][]byte) *preparer {
	workers := runtime.GOMAXPROCS(0)
	if len(ops) < parallelMin || workers < 2 {
		return nil
	}
	chunks := (len(ops) + prepChunk - 1) / prepChunk
	p := &preparer{schema: s, ops: ops, prep: make([]prepared, len(ops)), ready: make([]chan struct{}, chunks)}
	for k := range p.ready {
		p.ready[k] = make(chan struct{})
	}
	workers = min(workers, chunks)
	p.wg.Add(workers)
	for w := range workers {
		go p.routineWork(w, workers)
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
// the ordinary way. It waits for i's chunk.
func (p *preparer) take(i int) *prepared {
	if p == nil {
		return nil
	}
	<-p.ready[i/prepChunk]
	if pr := &p.prep[i]; pr.row != nil {
		return pr
	}
	return nil
}

// routineWork prepares chunks w, w+n, w+2n, ... in order.
func (p *preparer) routineWork(w, n int) {
	defer p.wg.Done()
	pw := &prepWorker{schema: p.schema}
	for k := w; k < len(p.ready) && !p.stop.Load(); k += n {
		pw.chunk(p, k)
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

// chunk prepares chunk k. A panic (a bug) leaves the rest of the chunk
// to the ordinary path, where the transaction reports it.
func (pw *prepWorker) chunk(p *preparer, k int) {
	defer close(p.ready[k])
	defer func() { _ = recover() }()
	end := min((k+1)*prepChunk, len(p.ops))
	for i := k * prepChunk; i < end; i++ {
		pw.prepare(p.ops[i], &p.prep[i])
	}
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
// insert, leaving UUID-typed ones in pw.defs. It reports false on any
// error.
func (pw *prepWorker) parseRow(t *Table, rv *fastjson.Value, r *Row) bool {
	o, err := rv.Object()
	if err != nil {
		return false
	}
	ok := true
	o.Visit(func(k []byte, v *fastjson.Value) {
		if !ok {
			return
		}
		c := t.byName[string(k)]
		if c == nil {
			ok = false
			return
		}
		if c.Key.Type == TypeUUID || c.Value != nil && c.Value.Type == TypeUUID {
			pw.deferCol(c, v)
			return
		}
		pw.unexpected = false
		d, perr := parseDatum(c, v, pw)
		if perr != nil || pw.unexpected {
			ok = false
			return
		}
		r.Cols[c.Index] = d
	})
	return ok
}

// deferCol keeps v's text for the transaction to parse in its turn.
func (pw *prepWorker) deferCol(c *Column, v *fastjson.Value) {
	if len(pw.defs) == cap(pw.defs) {
		pw.defs = make([]deferredCol, 0, bulkChunk)
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

// Package sbreplica owns a read-only, monitored in-memory replica of
// chosen tables of an OVSDB database: the controller's big, read-mostly
// southbound tables (Logical_Flow, Logical_DP_Group, Port_Group,
// Multicast_Group, Address_Set...). It speaks JSON-RPC itself and decodes
// monitor updates with fastjson straight into libovsdb's model structs,
// without libovsdb's intermediate rows and clones. Writes go elsewhere.
package sbreplica

import (
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/valyala/fastjson"
)

// Spec names one table to replicate and the columns to fetch (nil: all).
type Spec struct {
	Table   string
	Columns []string
}

// Replica is a monitored copy of some tables of one database.
type Replica struct {
	log    *slog.Logger
	dbName string
	order  []string // table names, as given

	// mu guards tables and changes: Read holds it shared, an update
	// exclusively while it swaps rows in.
	mu      sync.RWMutex
	tables  map[string]*table
	changes Changes

	connected atomic.Bool
	synced    atomic.Bool

	// sessMu guards sess, the session Run has open (nil between
	// sessions), and that session's requests: TakeChanges asks it for
	// the next part of a load in parts from the caller's goroutine.
	sessMu sync.Mutex
	sess   *session
	// commits counts the batches made visible; taken is commits when
	// the user last took the changes.
	commits, taken atomic.Int64

	// schemaColumns are the columns of each replicated table in the
	// schema, for LoadInParts to check its clauses against.
	schemaColumns map[string]map[string]bool
	parts         []Part // set by LoadInParts before Run

	// Owned by the goroutine in Run.
	dec       *decoder
	rowParser fastjson.Parser
	lastTxn   string // the last transaction id applied ("" = none)
	oneStep   bool   // the server refused monitor_cond_change: load in one step
}

// table is one replicated table.
type table struct {
	codec *tableCodec
	rows  map[string]model.Model

	// typed is the map[string]*T that Rows hands out, kept in step with
	// rows by put and del once built. typedMu orders readers building it.
	typedMu sync.Mutex
	typed   any
	put     func(uuid string, m model.Model)
	del     func(uuid string)
}

// Changes lists the rows that changed: see TakeChanges.
type Changes struct {
	Full   bool
	Tables map[string]map[string]struct{}
}

// New returns a replica of the tables in specs of the database that
// dbModel describes (for the SB: sbdb.FullDatabaseModel() and
// sbdb.Schema(), see ovnschema/sbdb), which decodes rows straight into
// dbModel's structs (*sbdb.LogicalFlow, ...). It does not connect.
func New(log *slog.Logger, dbModel model.ClientDBModel, schema ovsdb.DatabaseSchema, specs []Spec) (*Replica, error) {
	if log == nil {
		log = slog.Default()
	}
	if dbModel.Name() != schema.Name {
		return nil, fmt.Errorf("model is for database %q, schema for %q", dbModel.Name(), schema.Name)
	}
	r := &Replica{log: log, dbName: schema.Name, tables: map[string]*table{}, dec: newDecoder(),
		schemaColumns: map[string]map[string]bool{}}
	types := dbModel.Types()
	for _, s := range specs {
		if _, dup := r.tables[s.Table]; dup {
			return nil, fmt.Errorf("table %s listed twice", s.Table)
		}
		ts := schema.Table(s.Table)
		if ts == nil {
			return nil, fmt.Errorf("no table %s in schema %s", s.Table, schema.Name)
		}
		typ, ok := types[s.Table]
		if !ok {
			return nil, fmt.Errorf("no table %s in the database model", s.Table)
		}
		tc, err := newTableCodec(s.Table, typ, ts, s.Columns)
		if err != nil {
			return nil, err
		}
		r.tables[s.Table] = &table{codec: tc, rows: map[string]model.Model{}}
		r.schemaColumns[s.Table] = map[string]bool{}
		for col := range ts.Columns {
			r.schemaColumns[s.Table][col] = true
		}
		r.order = append(r.order, s.Table)
	}
	r.changes = Changes{Full: true, Tables: map[string]map[string]struct{}{}}
	return r, nil
}

// Connected reports whether the replica holds a current copy on the
// live connection: the monitor's reply, the first part of a load in
// parts (LoadInParts), is in. Until Synced, the copy may lack the rows
// of the parts still to come.
func (r *Replica) Connected() bool { return r.connected.Load() }

// Synced reports whether the replica holds a complete, current copy: it
// is Connected and every part of its load is in. A caller that sees
// Synced true and then calls TakeChanges has, in what it takes then and
// took before, every row of the load.
func (r *Replica) Synced() bool { return r.synced.Load() }

// View is a consistent view of the replica, valid inside Read's fn.
type View interface {
	// Table returns the rows of table by UUID: values are pointers to
	// the model's structs (*sbdb.LogicalFlow...). Rows are immutable:
	// an update replaces the pointer, never mutates the struct, so a
	// caller may keep a row and compare pointers to detect changes.
	// The map itself belongs to the replica: do not modify it or use
	// it after Read returns.
	Table(name string) map[string]model.Model
	Get(table, uuid string) (model.Model, bool)
}

// Read runs fn with a consistent view; updates wait until fn returns.
func (r *Replica) Read(fn func(v View)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn(view{r})
}

type view struct{ r *Replica }

func (v view) Table(name string) map[string]model.Model {
	if t := v.r.tables[name]; t != nil {
		return t.rows
	}
	return nil
}

func (v view) Get(table, uuid string) (model.Model, bool) {
	t := v.r.tables[table]
	if t == nil {
		return nil, false
	}
	m, ok := t.rows[uuid]
	return m, ok
}

// Rows is a typed helper: Rows[sbdb.LogicalFlow](v, "Logical_Flow").
// Like View.Table, the map belongs to the replica and is valid inside
// Read only. It panics if T is not the table's model type (a programming
// error); it returns nil for a table that is not replicated.
func Rows[T any](v View, table string) map[string]*T {
	vv, ok := v.(view)
	if !ok {
		rows := v.Table(table)
		out := make(map[string]*T, len(rows))
		for k, m := range rows {
			out[k] = any(m).(*T)
		}
		return out
	}
	t := vv.r.tables[table]
	if t == nil {
		return nil
	}
	t.typedMu.Lock()
	defer t.typedMu.Unlock()
	if t.typed != nil {
		if m, ok := t.typed.(map[string]*T); ok {
			return m
		}
	}
	if reflect.TypeFor[T]() != t.codec.typ {
		panic(fmt.Sprintf("sbreplica.Rows: table %s holds %v, not %v", table, t.codec.typ, reflect.TypeFor[T]()))
	}
	m := make(map[string]*T, len(t.rows))
	for k, row := range t.rows {
		m[k] = any(row).(*T)
	}
	t.typed = m
	t.put = func(uuid string, row model.Model) { m[uuid] = any(row).(*T) }
	t.del = func(uuid string) { delete(m, uuid) }
	return m
}

// TakeChanges returns the UUIDs inserted, modified or deleted per table
// since the last call (a deleted UUID is absent from View), and Full =
// true when the replica was rebuilt from scratch since then (first
// connection, or a reconnect that could not resume): the caller must
// then treat every row as changed. It resets the record. During a load
// in parts (LoadInParts) it also asks the server for the next part once
// the one before is in. Call it before Read, never from inside Read's
// fn: both take the replica's lock, so a call from fn deadlocks.
func (r *Replica) TakeChanges() Changes {
	c := r.takeChanges()
	// The user works on what it took: the server may build the next
	// part of a load in parts meanwhile.
	r.sessMu.Lock()
	if r.sess != nil {
		r.sess.askNextLocked()
	}
	r.sessMu.Unlock()
	return c
}

func (r *Replica) takeChanges() Changes {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.taken.Store(r.commits.Load())
	c := r.changes
	r.changes = Changes{Tables: map[string]map[string]struct{}{}}
	if c.Full {
		c.Tables = map[string]map[string]struct{}{}
	}
	return c
}

// batch is one decoded update, not yet visible: per table, the new row
// of each UUID, nil for a deleted one. full batches replace whole tables.
type batch struct {
	full bool
	rows map[string]map[string]model.Model
}

// lookup returns the current row of uuid as the batch would leave it.
func (r *Replica) lookup(b *batch, t *table, uuid string) (model.Model, bool) {
	if m, ok := b.rows[t.codec.name][uuid]; ok {
		return m, m != nil
	}
	if b.full {
		return nil, false
	}
	m, ok := t.rows[uuid]
	return m, ok
}

// commit makes a decoded batch visible.
func (r *Replica) commit(b *batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commits.Add(1)
	if b.full {
		for name, t := range r.tables {
			rows := b.rows[name]
			if rows == nil {
				rows = map[string]model.Model{}
			}
			t.rows = rows
			t.typed, t.put, t.del = nil, nil, nil
		}
		r.changes = Changes{Full: true, Tables: map[string]map[string]struct{}{}}
		return
	}
	for name, rows := range b.rows {
		t := r.tables[name]
		var rec map[string]struct{}
		if !r.changes.Full {
			rec = r.changes.Tables[name]
			if rec == nil {
				rec = make(map[string]struct{}, len(rows))
				r.changes.Tables[name] = rec
			}
		}
		for uuid, m := range rows {
			if m == nil {
				delete(t.rows, uuid)
				if t.del != nil {
					t.del(uuid)
				}
			} else {
				t.rows[uuid] = m
				if t.put != nil {
					t.put(uuid, m)
				}
			}
			if rec != nil {
				rec[uuid] = struct{}{}
			}
		}
	}
}

package database

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"

	"github.com/valyala/fastjson"
)

// Row is one committed row. Rows are immutable once committed: a change
// makes a new Row, so readers may keep old ones (monitor history does).
type Row struct {
	UUID string
	Cols []Datum // indexed by Column.Index
	// version numbers the row's _version; the UUID text is made only when
	// a client asks for it, which saves 50 bytes a row.
	version     uint64
	versionText string // set instead on rows parsed from a "wait"
}

// Version returns the row's _version UUID.
func (r *Row) Version() string {
	if r.versionText != "" {
		return r.versionText
	}
	return versionUUID(r.version)
}

var (
	versionBase    [8]byte
	versionCounter atomic.Uint64
)

func init() { crand.Read(versionBase[:]) }

func nextVersion() uint64 { return versionCounter.Add(1) }

// versionUUID renders version n as a version 4 UUID unique to this process.
func versionUUID(n uint64) string {
	var b [16]byte
	copy(b[:8], versionBase[:])
	binary.BigEndian.PutUint64(b[8:], n)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

// Get returns the value of column c, including the _uuid and _version
// pseudo-columns.
func (r *Row) Get(c *Column) Datum {
	switch c.Index {
	case uuidIndex:
		return ScalarDatum(Atom{S: r.UUID})
	case versionIndex:
		return ScalarDatum(Atom{S: r.Version()})
	}
	return r.Cols[c.Index]
}

func (r *Row) clone() *Row {
	n := &Row{UUID: r.UUID, version: r.version, versionText: r.versionText, Cols: make([]Datum, len(r.Cols))}
	copy(n.Cols, r.Cols)
	return n
}

const (
	uuidIndex    = -1
	versionIndex = -2
)

// UUIDColumn and VersionColumn are the pseudo-columns every table has.
var (
	UUIDColumn    = &Column{Name: "_uuid", Index: uuidIndex, Key: BaseType{Type: TypeUUID}, Min: 1, Max: 1}
	VersionColumn = &Column{Name: "_version", Index: versionIndex, Key: BaseType{Type: TypeUUID}, Min: 1, Max: 1}
)

// LookupColumn returns a column by name, including _uuid and _version.
func (t *Table) LookupColumn(name string) *Column {
	switch name {
	case "_uuid":
		return UUIDColumn
	case "_version":
		return VersionColumn
	}
	return t.byName[name]
}

// NewRow returns a row of t with every column at its default.
func (t *Table) NewRow(uuid string) *Row {
	r := &Row{UUID: uuid, Cols: make([]Datum, len(t.Columns))}
	copy(r.Cols, t.defaults)
	return r
}

type tableData struct {
	t    *Table
	rows map[string]*Row
	// strongRefs counts strong references to each row of this table.
	strongRefs map[string]int32
	// indexes holds, for each unique index of t, index key → row UUID.
	indexes []map[string]string
}

// Database is one OVSDB database in memory. It is not safe for concurrent
// use: the server serialises access.
type Database struct {
	schema *Schema
	tables []*tableData
	rng    *rand.ChaCha8
	// recParser parses file records; its values die with each record,
	// but it holds the last one, and the buffer the record lies in,
	// until FinishReplay.
	recParser fastjson.Parser
	// opParser parses the operations of TransactRaw one at a time, so
	// that a transaction of many operations never needs one tree of
	// them all; each operation's values die when the next is parsed.
	opParser fastjson.Parser
	// reserved refuses writes from clients, as for _Server.
	reserved bool
	// txnTables is the per-table state of the running transaction, and
	// spareTables that of earlier ones, emptied for reuse: transactions
	// run one at a time.
	txnTables   []*txnTable
	spareTables []*txnTable
	// parsed holds the operations of the running Transact (see
	// transactParsed).
	parsed parsedOps
}

// SetReserved makes Transact refuse insert, update, mutate and delete, as
// ovsdb-server does for its _Server database.
func (db *Database) SetReserved(r bool) { db.reserved = r }

// New returns an empty database for schema.
func New(schema *Schema) *Database {
	var seed [32]byte
	crand.Read(seed[:])
	db := &Database{schema: schema, rng: rand.NewChaCha8(seed)}
	for _, t := range schema.Tables {
		td := &tableData{t: t, rows: map[string]*Row{}, strongRefs: map[string]int32{}}
		for range t.Indexes {
			td.indexes = append(td.indexes, map[string]string{})
		}
		db.tables = append(db.tables, td)
	}
	return db
}

// Schema returns the database's schema.
func (db *Database) Schema() *Schema { return db.schema }

// Rows returns the committed rows of t by UUID. The caller must not modify
// the map or the rows.
func (db *Database) Rows(t *Table) map[string]*Row { return db.tables[t.Index].rows }

// Row returns the committed row of t with the given UUID, or nil.
func (db *Database) Row(t *Table, uuid string) *Row { return db.tables[t.Index].rows[uuid] }

// Count returns the number of rows in t.
func (db *Database) Count(t *Table) int { return len(db.tables[t.Index].rows) }

// SeedUUIDs makes the UUIDs NewUUID returns from now on a function of
// seed, so that tests can run the same transactions on two databases and
// compare them byte for byte.
func (db *Database) SeedUUIDs(seed [32]byte) { db.rng = rand.NewChaCha8(seed) }

// NewUUID returns a fresh random (version 4) UUID.
func (db *Database) NewUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], db.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], db.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	const hexd = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexd[x>>4], hexd[x&15]
		j += 2
	}
	return string(s[:])
}

// indexKey renders the values of an index's columns as a map key.
func indexKey(t *Table, idx []int, r *Row) string {
	var buf [128]byte
	return string(appendIndexKey(buf[:0], t, idx, r))
}

// appendIndexKey appends the index key of r to b: with a buffer on the
// stack or reused, only the key string is allocated, not a slice grown
// column by column.
func appendIndexKey(b []byte, t *Table, idx []int, r *Row) []byte {
	for _, ci := range idx {
		b = t.Columns[ci].AppendDatum(b, r.Cols[ci])
		b = append(b, 0)
	}
	return b
}

// apply installs a validated change set: rows, reference counts, indexes.
func (db *Database) apply(changes []*TableChanges) {
	for _, tc := range changes {
		td := db.tables[tc.Table.Index]
		for _, rc := range tc.Rows {
			if rc.Old != nil {
				db.adjustRefs(tc.Table, rc.Old, -1)
				for i, idx := range tc.Table.Indexes {
					k := indexKey(tc.Table, idx, rc.Old)
					if td.indexes[i][k] == rc.UUID {
						delete(td.indexes[i], k)
					}
				}
			}
		}
	}
	for _, tc := range changes {
		td := db.tables[tc.Table.Index]
		td.reserve(tc.Rows)
		for _, rc := range tc.Rows {
			if rc.New == nil {
				delete(td.rows, rc.UUID)
				continue
			}
			td.rows[rc.UUID] = rc.New
			db.adjustRefs(tc.Table, rc.New, 1)
			for i, idx := range tc.Table.Indexes {
				td.indexes[i][indexKey(tc.Table, idx, rc.New)] = rc.UUID
			}
		}
	}
}

// reserve makes room for the rows a commit inserts when they are more
// than the table holds: a map grown in one step costs less than one that
// doubles its way up while tens of thousands of rows go in (a bulk load).
func (td *tableData) reserve(rows []*RowChange) {
	n := 0
	for _, rc := range rows {
		if rc.Old == nil && rc.New != nil {
			n++
		}
	}
	if n <= len(td.rows) || n < 1024 {
		return
	}
	td.rows = grown(td.rows, n)
	for i := range td.indexes {
		td.indexes[i] = grown(td.indexes[i], n)
	}
}

// grown returns a copy of m with room for n more entries.
func grown[V any](m map[string]V, n int) map[string]V {
	g := make(map[string]V, len(m)+n)
	for k, v := range m {
		g[k] = v
	}
	return g
}

// adjustRefs adds delta to the strong reference count of every row that r
// references strongly.
func (db *Database) adjustRefs(t *Table, r *Row, delta int32) {
	for _, c := range t.refColumns {
		forEachRef(c, r.Cols[c.Index], func(bt *BaseType, u string) {
			if bt.Weak {
				return
			}
			m := db.tables[bt.RefTable.Index].strongRefs
			if n := m[u] + delta; n > 0 {
				m[u] = n
			} else {
				delete(m, u)
			}
		})
	}
}

// forEachRef calls f for every reference held in d.
func forEachRef(c *Column, d Datum, f func(bt *BaseType, uuid string)) {
	if c.Key.RefTable != nil {
		for _, k := range d.Keys {
			f(&c.Key, k.S)
		}
	}
	if c.Value != nil && c.Value.RefTable != nil {
		for _, v := range d.Values {
			f(c.Value, v.S)
		}
	}
}

// Snapshot returns a read-only copy of db's rows for serialising while
// db moves on: it copies row pointers only, since committed rows never
// change. Only Rows, Row, Count and AppendSnapshot may be used on it.
func (db *Database) Snapshot() *Database {
	s := &Database{schema: db.schema, rng: db.rng}
	for _, td := range db.tables {
		rows := make(map[string]*Row, len(td.rows))
		for u, r := range td.rows {
			rows[u] = r
		}
		s.tables = append(s.tables, &tableData{t: td.t, rows: rows})
	}
	return s
}

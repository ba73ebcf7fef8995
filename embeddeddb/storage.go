package embeddeddb

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbfile"
	"github.com/valyala/fastjson"
)

func parseJSON(b []byte) (*fastjson.Value, error) {
	var p fastjson.Parser
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, fmt.Errorf("parse JSON: %w", err)
	}
	return v, nil
}

// openDB opens the database file at path, creating it when missing. A file
// written with another version of the schema is converted to the embedded
// one, and the file rewritten, as `ovsdb-tool convert` would.
func openDB(path string, schemaRaw []byte, log *slog.Logger) (*dbState, error) {
	schema, err := database.ParseSchema(schemaRaw)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	d := &dbState{name: schema.Name, schemaJSON: schema.CanonicalJSON(),
		lastTxnID: database.ZeroUUID}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		d.file, err = ovsdbfile.Create(path, schemaRaw, log)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		d.db = database.New(schema)
		log.Info("created database file", "path", path, "version", schema.Version)
		return d, nil
	}
	// Loading allocates much and keeps most of it: collect less often
	// meanwhile, which roughly halves the time to open a large file.
	defer debug.SetGCPercent(debug.SetGCPercent(400)) // restored on return
	l, fileSchemaRaw, records, err := ovsdbfile.Open(path, log)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d.file = l
	db, err := loadRecords(path, fileSchemaRaw, schema, records, log)
	if err != nil {
		l.Close()
		return nil, err
	}
	if db.Schema() != schema {
		converted, err := database.Convert(db, schema)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		snap := converted.AppendSnapshot(nil, time.Now().UnixMilli())
		if err := l.Convert(schemaRaw, snap, l.LastSeq()); err != nil {
			l.Close()
			return nil, fmt.Errorf("rewrite %s with schema %s: %w", path, schema.Version, err)
		}
		log.Info("converted database file", "path", path, "from", db.Schema().Version, "to", schema.Version)
		db = converted
	}
	d.db = db
	log.Info("opened database file", "path", path, "transactions", len(records))
	return d, nil
}

// loadRecords replays a file's records. It returns a database under the
// embedded schema when the file's schema is the same version, or under the
// file's own schema for the caller to convert.
func loadRecords(path string, fileSchemaRaw []byte, want *database.Schema, records [][]byte, log *slog.Logger) (*database.Database, error) {
	fileSchema, err := database.ParseSchema(fileSchemaRaw)
	if err != nil {
		return nil, fmt.Errorf("%s: schema record: %w", path, err)
	}
	if fileSchema.Name != want.Name {
		return nil, fmt.Errorf("%s holds database %s, not %s", path, fileSchema.Name, want.Name)
	}
	use := fileSchema
	if fileSchema.Version == want.Version && fileSchema.Cksum == want.Cksum {
		use = want
	}
	db := database.New(use)
	for i, rec := range records {
		if err := db.ApplyRecord(rec); err != nil {
			return nil, fmt.Errorf("%s: transaction record %d: %w", path, i+1, err)
		}
	}
	db.FinishReplay()
	return db, nil
}

// maybeCompact compacts the files that have grown enough, one at a time,
// without holding a database lock while serialising.
func (s *Server) maybeCompact() {
	for _, d := range s.dbs {
		if d.file == nil || !d.file.NeedsCompaction(time.Now()) {
			continue
		}
		s.compact(d)
	}
}

// compact starts compacting d's file unless a compaction runs already.
func (s *Server) compact(d *dbState) {
	d.mu.Lock()
	if d.compacting {
		d.mu.Unlock()
		return
	}
	d.compacting = true
	d.settleRecordLocked() // seq must count every commit in snap
	snap := d.db.Snapshot()
	seq := d.lastSeq
	d.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		start := time.Now()
		err := d.file.Compact(snap.AppendSnapshot(nil, time.Now().UnixMilli()), seq)
		if err != nil {
			s.log.Error("compaction failed", "db", d.name, "err", err)
		} else {
			s.log.Info("compacted database file", "db", d.name, "took", time.Since(start))
		}
		d.mu.Lock()
		d.compacting = false
		d.mu.Unlock()
	}()
}

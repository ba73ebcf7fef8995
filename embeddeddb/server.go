package embeddeddb

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbfile"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema"
)

//go:embed serverdb.ovsschema
var serverSchema []byte

// dbState is one served database with everything attached to it.
type dbState struct {
	name       string
	schemaJSON []byte

	mu          sync.Mutex // serialises transactions, monitors and the history
	db          *database.Database
	file        *ovsdbfile.Log // nil for _Server
	monitors    monitorSet
	history     []*database.Commit
	historyRows int
	lastTxnID   string
	lastSeq     uint64
	waiting     []*waitingTxn
	recBuf      []byte
	// sendBuf is where publishLocked joins an update for one client.
	sendBuf []byte
	// recording is a large commit's record still being encoded off the
	// lock (commitrecord.go), nil when none.
	recording  *recordJob
	compacting bool
	onCommit   func(*database.Commit)
	// beforeRecord, if a test sets it, runs in the goroutine that
	// encodes a large commit's record, before it does.
	beforeRecord func()
}

// Server is the database role: an OVSDB server for OVN_Northbound and
// OVN_Southbound, with the _Server database, on the configured remotes and
// on those named by NB_Global.connections and SB_Global.connections.
type Server struct {
	cfg      Config
	log      *slog.Logger
	serverID string
	// rawTransactMin is where handle starts taking transact requests
	// apart as raw text (see the constant of the same name); atomic so
	// that tests may lower it while listeners run.
	rawTransactMin atomic.Int64
	dbs            map[string]*dbState
	locks          *lockTable
	remotes        *remoteSet

	mu    sync.Mutex // guards conns and loops
	conns map[*conn]struct{}
	loops *evLoops // started with the first client they serve
	wg    sync.WaitGroup
}

// New opens (or creates) the NB and SB files under cfg.Dir, converting
// files written with an older schema, and binds every listener. When it
// returns without error the server is ready; Serve runs it.
func New(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, dbs: map[string]*dbState{}, locks: newLockTable(), conns: map[*conn]struct{}{}}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	for _, spec := range []struct {
		name   string
		schema []byte
		file   string
	}{
		{ovnschema.NorthboundName, ovnschema.Northbound, NBFile},
		{ovnschema.SouthboundName, ovnschema.Southbound, SBFile},
	} {
		d, err := openDB(filepath.Join(cfg.Dir, spec.file), spec.schema, log.With("db", spec.name))
		if err != nil {
			s.closeFiles()
			return nil, err
		}
		s.dbs[spec.name] = d
	}
	if err := s.initServerDB(); err != nil {
		s.closeFiles()
		return nil, err
	}
	// Loading the files left garbage several times the size of the
	// data (openDB collects less often meanwhile): collect it and give
	// the pages back before serving, so that the resident size is the
	// data's from the start rather than after minutes of scavenging.
	debug.FreeOSMemory()
	s.rawTransactMin.Store(rawTransactMin)
	s.remotes = newRemoteSet(s)
	if err := s.remotes.start(); err != nil {
		s.remotes.closeAll()
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

func (s *Server) closeFiles() {
	for _, d := range s.dbs {
		if d.file != nil {
			if err := d.file.Close(); err != nil {
				s.log.Error("close database file", "db", d.name, "err", err)
			}
		}
	}
}

// Serve serves clients until ctx ends, then closes every listener and
// client and flushes the files: every committed transaction is on disk
// when it returns.
func (s *Server) Serve(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case <-tick.C:
			s.maybeCompact()
			s.remotes.updateStatus()
		}
	}
}

func (s *Server) shutdown() {
	s.remotes.closeAll()
	s.mu.Lock()
	for c := range s.conns {
		c.close()
	}
	loops := s.loops
	s.mu.Unlock()
	loops.stop()
	s.wg.Wait()
	for _, d := range s.dbs {
		d.mu.Lock()
		for _, w := range d.waiting {
			if w.timer != nil {
				w.timer.Stop()
			}
		}
		d.waiting = nil
		d.settleRecordLocked() // every committed transaction goes to disk
		d.mu.Unlock()
	}
	s.closeFiles()
	s.log.Info("database role stopped")
}

func (s *Server) listDBs() []byte {
	// The order ovsdb-server 3.1 answers with when it serves both files.
	names := []string{ovnschema.NorthboundName, "_Server", ovnschema.SouthboundName}
	b := []byte{'['}
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = ovsjson.AppendString(b, n)
	}
	return append(b, ']')
}

// serveConn runs one client connection.
func (s *Server) serveConn(nc net.Conn, probe time.Duration, l *listener) {
	c := newConn(s, nc, probe)
	c.listener = l
	if l != nil {
		c.readOnly = l.asked.readOnly
		l.add(c)
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	if s.adopt(c, nc) {
		return
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); c.RoutineWrite() }()
	go func() { defer s.wg.Done(); c.RoutineRead() }()
}

// dropConn forgets a closed client: its monitors, locks and waits.
func (s *Server) dropConn(c *conn) {
	s.locks.dropConn(c)
	for _, d := range s.dbs {
		d.mu.Lock()
		for _, m := range c.monitors {
			if m.d == d {
				d.monitors.remove(m)
			}
		}
		d.dropWaitingLocked(c)
		d.mu.Unlock()
	}
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// initServerDB creates the _Server database and its Database rows.
func (s *Server) initServerDB() error {
	schema, err := database.ParseSchema(serverSchema)
	if err != nil {
		return fmt.Errorf("_Server schema: %w", err)
	}
	d := &dbState{name: "_Server", schemaJSON: schema.CanonicalJSON(),
		db: database.New(schema), lastTxnID: database.ZeroUUID}
	d.db.SetReserved(true)
	s.dbs["_Server"] = d
	s.serverID = d.db.NewUUID()
	var ops []byte
	ops = append(ops, '[')
	names := []string{ovnschema.NorthboundName, ovnschema.SouthboundName, "_Server"}
	for i, n := range names {
		if i > 0 {
			ops = append(ops, ',')
		}
		ops = append(ops, `{"op":"insert","table":"Database","row":{"name":`...)
		ops = ovsjson.AppendString(ops, n)
		ops = append(ops, `,"model":"standalone","connected":true,"leader":true,"schema":`...)
		ops = ovsjson.AppendString(ops, string(s.dbs[n].schemaJSON))
		ops = append(ops, "}}"...)
	}
	ops = append(ops, ']')
	return s.transactInternal(d, ops)
}

// transactInternal runs a transaction on behalf of the server itself.
func (s *Server) transactInternal(d *dbState, ops []byte) error {
	v, err := parseJSON(ops)
	if err != nil {
		return err
	}
	d.mu.Lock()
	res := d.db.TransactInternal(v.GetArray())
	d.commitLocked(res.Commit, false, false)
	d.mu.Unlock()
	if res.Commit == nil && res.Blocked {
		return errors.New("internal transaction blocked")
	}
	return nil
}

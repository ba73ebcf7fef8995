package northd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// nbTables are the NB tables the build reads (applyNB, readNB): the
// only ones northd monitors.
var nbTables = []string{nbdb.NBGlobalTable, nbdb.LogicalSwitchTable, nbdb.LogicalSwitchPortTable,
	nbdb.PortGroupTable, nbdb.AddressSetTable, nbdb.ACLTable, nbdb.DHCPOptionsTable, nbdb.DNSTable,
	nbdb.QoSTable, nbdb.LoadBalancerTable, nbdb.LoadBalancerGroupTable}

// nbReplica is northd's copy of the NB tables the build reads, kept by
// an RFC 7047 "monitor" session of its own (nbMonitor) and decoded by
// rowCodec. The models it holds are never changed once stored: a row's
// update stores a new model.
type nbReplica struct {
	codecs map[string]*rowCodec
	// mu guards rows against snapshot; only the session goroutine
	// writes rows, and reads them without mu.
	mu   sync.Mutex
	rows map[string]map[string]model.Model
}

func newNBReplica() (*nbReplica, error) {
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		return nil, err
	}
	r := &nbReplica{codecs: map[string]*rowCodec{}, rows: map[string]map[string]model.Model{}}
	for _, table := range nbTables {
		typ, ok := m.Types()[table]
		if !ok {
			return nil, fmt.Errorf("nb model has no table %s", table)
		}
		if r.codecs[table], err = newRowCodec(table, typ); err != nil {
			return nil, err
		}
		r.rows[table] = map[string]model.Model{}
	}
	return r, nil
}

// nbChanges is rows that changed, by table and UUID; nil for a row
// that went.
type nbChanges map[string]map[string]model.Model

func (c nbChanges) set(table, uuid string, m model.Model) {
	rows := c[table]
	if rows == nil {
		rows = map[string]model.Model{}
		c[table] = rows
	}
	rows[uuid] = m
}

// table returns the changes of table, made with room for n rows.
func (c nbChanges) table(table string, n int) map[string]model.Model {
	rows := c[table]
	if rows == nil {
		rows = make(map[string]model.Model, n)
		c[table] = rows
	}
	return rows
}

// apply decodes an RFC 7047 <table-updates> into the replica and
// returns the rows that changed. With initial (the monitor request's
// reply), the update is the whole content: rows it lacks went. Nothing
// is stored unless the whole update decodes.
func (r *nbReplica) apply(raw []byte, initial bool) (nbChanges, error) {
	ch := nbChanges{}
	tables, err := ovsjson.Members(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("table updates: %w", err)
	}
	var rows, upd, cols []ovsjson.Member
	for _, t := range tables {
		table := string(t.Key)
		rc := r.codecs[table]
		if rc == nil {
			continue
		}
		if rows, err = ovsjson.Members(t.Value, rows[:0]); err != nil {
			return nil, fmt.Errorf("%s updates: %w", table, err)
		}
		changed := ch.table(table, len(rows))
		for _, row := range rows {
			uuid := string(row.Key)
			if !ovsjson.IsUUID(uuid) {
				return nil, fmt.Errorf("%s: row UUID %q", table, uuid)
			}
			if upd, err = ovsjson.Members(row.Value, upd[:0]); err != nil {
				return nil, fmt.Errorf("%s row %s: %w", table, uuid, err)
			}
			var newRow []byte
			for _, m := range upd {
				if string(m.Key) == "new" {
					newRow = m.Value
				}
			}
			if newRow == nil {
				changed[uuid] = nil
				continue
			}
			// "new" holds the monitored columns that changed at
			// least: lay them over the row as it was.
			base := r.rows[table][uuid]
			if initial {
				base = nil
			}
			m, scratch, err := rc.decode(uuid, base, newRow, cols)
			cols = scratch
			if err != nil {
				return nil, err
			}
			if m != base || initial {
				changed[uuid] = m
			}
		}
		if len(changed) == 0 {
			delete(ch, table)
		}
	}
	if initial {
		for table, byUUID := range r.rows {
			for uuid := range byUUID {
				if _, ok := ch[table][uuid]; !ok {
					ch.set(table, uuid, nil)
				}
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for table, byUUID := range ch {
		dst := r.rows[table]
		if len(byUUID) > len(dst) {
			// A bulk update: grow the table once, not by doubling.
			dst = grown(dst, len(byUUID))
			r.rows[table] = dst
		}
		for uuid, m := range byUUID {
			if m == nil {
				delete(dst, uuid)
			} else {
				dst[uuid] = m
			}
		}
	}
	return ch, nil
}

// snapshot copies the replica into the build's input, as readNB copies
// libovsdb's cache.
func (r *nbReplica) snapshot() *nbState {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &nbState{NB: build.NB{
		Switches:    snapshotTable[nbdb.LogicalSwitch](r.rows[nbdb.LogicalSwitchTable]),
		Ports:       snapshotTable[nbdb.LogicalSwitchPort](r.rows[nbdb.LogicalSwitchPortTable]),
		PortGroups:  snapshotTable[nbdb.PortGroup](r.rows[nbdb.PortGroupTable]),
		AddressSets: snapshotTable[nbdb.AddressSet](r.rows[nbdb.AddressSetTable]),
		ACLs:        snapshotTable[nbdb.ACL](r.rows[nbdb.ACLTable]),
		DHCPOptions: snapshotTable[nbdb.DHCPOptions](r.rows[nbdb.DHCPOptionsTable]),
		DNS:         snapshotTable[nbdb.DNS](r.rows[nbdb.DNSTable]),
		QoS:         snapshotTable[nbdb.QoS](r.rows[nbdb.QoSTable]),
		LBs:         snapshotTable[nbdb.LoadBalancer](r.rows[nbdb.LoadBalancerTable]),
		LBGroups:    snapshotTable[nbdb.LoadBalancerGroup](r.rows[nbdb.LoadBalancerGroupTable]),
	}}
	for _, m := range r.rows[nbdb.NBGlobalTable] {
		if g, ok := m.(*nbdb.NBGlobal); ok {
			s.Global, s.hasGlobal = *g, true
		}
	}
	return s
}

func snapshotTable[T any](rows map[string]model.Model) map[string]T {
	out := make(map[string]T, len(rows))
	for u, m := range rows {
		if r, ok := m.(*T); ok {
			out[u] = *r
		}
	}
	return out
}

// nbMonitor keeps an nbReplica current over a JSON-RPC session to NB of
// its own, reconnecting (to the next remote of a cluster's list)
// whenever the session drops, and hands each update's changed rows
// over whole: one NB transaction, one call of deliver.
type nbMonitor struct {
	remotes []string
	rep     *nbReplica
	// deliver receives each update's changes; reset is set for the
	// contents of a new session after a lost one (updates may have
	// been missed in between).
	deliver func(ch nbChanges, reset bool)
	log     *slog.Logger
	// ready is closed once the first contents are in the replica.
	ready     chan struct{}
	readyOnce sync.Once
	// sessions counts the sessions that delivered their contents.
	sessions int
}

func newNBMonitor(remotes []string, rep *nbReplica, deliver func(nbChanges, bool), log *slog.Logger) *nbMonitor {
	return &nbMonitor{remotes: remotes, rep: rep, deliver: deliver, log: log, ready: make(chan struct{})}
}

// RoutineMonitor runs sessions until ctx ends.
func (m *nbMonitor) RoutineMonitor(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		err := m.session(ctx, m.remotes[i%len(m.remotes)])
		if ctx.Err() != nil {
			return
		}
		m.log.Debug("nb monitor session ended", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// maxNBMessage bounds one message from NB: a large NB's initial
// contents.
const maxNBMessage = 1 << 30

// nbMonitorID names the monitor in its request and its updates.
const nbMonitorID = "northd-nb"

// session dials remote, asks to monitor every column of nbTables and
// applies the reply and each update until the connection or ctx ends.
func (m *nbMonitor) session(ctx context.Context, remote string) error {
	conn, done, err := dialSession(ctx, remote, "nb monitor")
	if err != nil {
		return err
	}
	defer done()
	w := bufio.NewWriter(conn)
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w.Write(b)
		return w.Flush()
	}
	reqs := map[string]any{}
	for _, t := range nbTables {
		reqs[t] = map[string]any{} // every column, every kind of change
	}
	req := map[string]any{"id": nbMonitorID, "method": "monitor", "params": []any{ovnschema.NorthboundName, nbMonitorID, reqs}}
	if err := send(req); err != nil {
		return err
	}
	sp := ovsjson.NewSplitter(conn, maxNBMessage)
	var members []ovsjson.Member
	var params [][]byte
	for {
		msg, err := sp.Next()
		if err != nil {
			return err
		}
		// An update (or the monitor's reply) is applied straight from
		// the Splitter's buffer, split where the Splitter noted its
		// structure: not scanned or copied again.
		var upd []byte
		var initial bool
		if members, upd, initial = m.updateIn(sp, msg, members[:0], params[:0]); upd != nil {
			err := m.update(upd, initial)
			sp.Shrink()
			if err != nil {
				return err
			}
			continue
		}
		r, err := parseRPC(msg)
		if err != nil {
			return fmt.Errorf("nb monitor: %w", err)
		}
		// The splitter's buffer grew to the largest message (a bulk
		// update): let it go.
		sp.Shrink()
		switch {
		case r.Method == "echo":
			err = send(map[string]any{"id": r.ID, "result": r.Params, "error": nil})
		case r.Method == "monitor_canceled":
			// The server dropped the monitor (the database was
			// converted or removed): a new session monitors anew.
			return errors.New("nb monitor canceled by the server")
		case r.Method == "update":
			if len(r.Params) != 2 {
				return errors.New("nb monitor: update without two params")
			}
			err = m.update(r.Params[1], false)
		case r.ID == nbMonitorID && r.Error != nil:
			return fmt.Errorf("nb monitor: %v", r.Error)
		case r.ID == nbMonitorID:
			err = m.update(r.Result, true)
		}
		if err != nil {
			return err
		}
	}
}

// updateIn returns the table updates msg carries when it is an update
// notification of the monitor or the monitor's successful reply
// (initial), as the Splitter that returned msg last splits it; nil
// otherwise (parseRPC reads the message).
func (m *nbMonitor) updateIn(sp *ovsjson.Splitter, msg []byte, members []ovsjson.Member, params [][]byte) ([]ovsjson.Member, []byte, bool) {
	members, ok := sp.LastMembers(msg, members)
	if !ok {
		return members, nil, false
	}
	var id, method, result, errv, par []byte
	for _, mb := range members {
		switch string(mb.Key) {
		case "id":
			id = mb.Value
		case "method":
			method = mb.Value
		case "result":
			result = mb.Value
		case "error":
			errv = mb.Value
		case "params":
			par = mb.Value
		}
	}
	switch {
	case string(method) == `"update"` && par != nil:
		params, ok = sp.LastElements(par, params)
		if !ok || len(params) != 2 || len(params[1]) == 0 || params[1][0] != '{' {
			return members, nil, false
		}
		return members, params[1], false
	case method == nil && string(id) == `"`+nbMonitorID+`"` && (errv == nil || string(errv) == "null") &&
		len(result) > 0 && result[0] == '{':
		return members, result, true
	}
	return members, nil, false
}

// update applies one update (initial: the monitor's reply) and hands
// its changes over.
func (m *nbMonitor) update(raw []byte, initial bool) error {
	ch, err := m.rep.apply(raw, initial)
	if err != nil {
		return fmt.Errorf("nb monitor: %w", err)
	}
	reset := false
	if initial {
		reset = m.sessions > 0
		m.sessions++
	}
	if len(ch) > 0 || reset {
		m.deliver(ch, reset)
	}
	if initial {
		m.readyOnce.Do(func() { close(m.ready) })
	}
	return nil
}

// nbUpdate records the rows of one NB update, all at once: the round
// that collects them has the update whole, and a bulk update's round
// need not wait for its rows to stop arriving. reset (a new session's
// contents, after updates may have been missed) makes the next round a
// full one.
func (t *tracker) nbUpdate(ch nbChanges, reset bool) {
	t.mu.Lock()
	t.exact = true
	n := 0
	for table, byUUID := range ch {
		rows := t.nb[table]
		if rows == nil {
			rows = make(map[string]model.Model, len(byUUID))
			t.nb[table] = rows
		}
		for u, m := range byUUID {
			rows[u] = m
		}
		n += len(byUUID)
	}
	if n > 0 {
		t.last = time.Now()
		if t.pending == 0 {
			t.first = t.last
		}
		t.pending += n
	}
	t.sbReset = t.sbReset || reset
	t.mu.Unlock()
	poke(t.kick)
}

// nbClient is the NB client northd writes with; with rep, its reads
// come from northd's own replica instead of libovsdb's cache (which
// then monitors nothing).
type nbClient struct {
	client.Client
	rep *nbReplica
}

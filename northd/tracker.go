package northd

import (
	"context"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/internal/cachequeue"
	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// tracker collects cache events between rounds: the NB rows that changed
// (latest version, nil once deleted) and whether the SB rows the NB
// feedback reads changed. libovsdb calls it from its own goroutine; the
// loop drains it.
type tracker struct {
	kick chan struct{}
	mu   sync.Mutex // guards the fields below
	nb   map[string]map[string]model.Model
	// pbs is the Port_Binding rows that changed (nil once deleted);
	// chassis is set when Chassis changed (ports' up may follow), priv
	// when Chassis_Private did (hv_cfg only); sbReset when SB_Global
	// came or went (a new database) or a table only full rounds write
	// changed.
	pbs                    map[string]*sbdb.PortBinding
	chassis, priv, sbReset bool
	// pending counts the NB rows collected since the last drain; first
	// and last are when the first and the latest arrived.
	pending     int
	first, last time.Time
	// cfg follows NB_Global through the NB events: collect takes it
	// only with the rest of its transaction. upd follows every NB
	// update the same way (each update's first event is its marker),
	// so that collect takes a bulk update whole without waiting for
	// its rows to stop; exact is set once the NB handler can count
	// libovsdb's queue (else collect waits for a pause, bulkQuiet).
	cfg, upd cachequeue.Marker
	exact    bool
}

func newTracker(kick chan struct{}) *tracker {
	return &tracker{kick: kick, nb: map[string]map[string]model.Model{}, pbs: map[string]*sbdb.PortBinding{},
		cfg: cachequeue.NewMarker(), upd: cachequeue.NewMarker()}
}

// nbHandler and sbHandler are the cache event handlers of each client.
func (t *tracker) nbHandler(tc *cache.TableCache) cache.EventHandler {
	queued := cachequeue.Rest(tc)
	t.mu.Lock()
	t.exact = queued != nil
	t.mu.Unlock()
	return &cache.EventHandlerFuncs{
		AddFunc:    func(table string, m model.Model) { t.nbRow(table, m, false, queued) },
		UpdateFunc: func(table string, _, m model.Model) { t.nbRow(table, m, false, queued) },
		DeleteFunc: func(table string, m model.Model) { t.nbRow(table, m, true, queued) },
	}
}

func (t *tracker) sbHandler() cache.EventHandler {
	return &cache.EventHandlerFuncs{
		AddFunc:    func(table string, m model.Model) { t.sbRow(table, m, true, false) },
		UpdateFunc: func(table string, _, m model.Model) { t.sbRow(table, m, false, false) },
		DeleteFunc: func(table string, m model.Model) { t.sbRow(table, m, true, true) },
	}
}

func (t *tracker) nbRow(table string, m model.Model, deleted bool, queued func() int) {
	u := nbUUID(m)
	// Only this goroutine records NB events: whether this one starts
	// an update not yet counted cannot change before it is recorded.
	t.mu.Lock()
	fresh := t.upd.Whole()
	t.mu.Unlock()
	rest := 0
	if (fresh || table == nbdb.NBGlobalTable) && queued != nil {
		// The rest of this event's update (for NB_Global, the ports
		// `ovn-nbctl --wait=sb` changed along with nb_cfg) may still
		// be queued.
		rest = queued()
	}
	t.mu.Lock()
	t.cfg.Event(table == nbdb.NBGlobalTable, 0, rest)
	t.upd.Event(fresh, 0, rest)
	rows := t.nb[table]
	if rows == nil {
		rows = map[string]model.Model{}
		t.nb[table] = rows
	}
	if deleted {
		m = nil
	}
	rows[u] = m
	t.last = time.Now()
	if t.pending == 0 {
		t.first = t.last
	}
	t.pending++
	t.mu.Unlock()
	poke(t.kick)
}

func (t *tracker) sbRow(table string, m model.Model, addOrDelete, deleted bool) {
	t.mu.Lock()
	switch table {
	case sbdb.PortBindingTable:
		if pb, ok := m.(*sbdb.PortBinding); ok {
			if deleted {
				t.pbs[pb.UUID] = nil
			} else {
				t.pbs[pb.UUID] = pb
			}
		}
	case sbdb.ChassisTable:
		t.chassis = true
	case sbdb.ChassisPrivateTable:
		t.priv = true
	case sbdb.SBGlobalTable:
		t.sbReset = t.sbReset || addOrDelete
	case sbdb.RBACPermissionTable, sbdb.RBACRoleTable, sbdb.DHCPOptionsTable, sbdb.DHCPv6OptionsTable,
		sbdb.DNSTable, sbdb.LoadBalancerTable:
		// Tables only a full round writes: a change, by northd's own
		// full round or by someone else, is checked by another one.
		t.sbReset = true
	}
	t.mu.Unlock()
	poke(t.kick)
}

// waiting reports whether NB changes came in since the last collect.
func (t *tracker) waiting() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pending > 0
}

// dropped records that libovsdb dropped a cache event: the next round
// is a full one.
func (t *tracker) dropped() {
	t.mu.Lock()
	t.sbReset = true
	t.mu.Unlock()
	poke(t.kick)
}

// collected is what the tracker collected between two drains.
type collected struct {
	nb                     map[string]map[string]model.Model
	pbs                    map[string]*sbdb.PortBinding
	chassis, priv, sbReset bool
	// rows is how many NB row events were collected, first and last
	// when the first and the latest arrived (for the round's timings).
	rows        int
	first, last time.Time
}

// Bulk changes are collected whole before a round starts: libovsdb
// hands a large transaction's rows over one by one, and a round started
// in the middle would be followed by another for the rest. On a busy
// machine libovsdb took more than 5 s to hand over the benchmark's
// 21,000 rows, and the bulk load cost two rounds of 20,000 SB
// operations each (the port group's flows written twice). The tracker
// counts each update's events (upd), so collect starts the round as
// soon as the last one is in; only without that count does it wait
// until many rows stop arriving for bulkQuiet. bulkMax bounds the wait
// for a stream that never pauses.
const (
	bulkRows  = 1000
	bulkQuiet = 100 * time.Millisecond
	bulkMax   = 20 * time.Second
)

// collect returns and forgets what was collected, once it is whole:
// it waits until every event of the NB updates seen so far has been
// collected (or, without a count of libovsdb's queue, until many
// arriving rows stop for bulkQuiet), so that one round takes a bulk
// transaction whole; and it takes NB_Global only with every other row
// of its transaction, so that the nb_cfg a round reports
// (SB_Global.nb_cfg, then NB_Global.sb_cfg) covers the change
// `ovn-nbctl --wait=sb` made along with it. It waits at most bulkMax.
func (t *tracker) collect(ctx context.Context) collected {
	deadline := time.Now().Add(bulkMax)
	for {
		t.mu.Lock()
		bulk := !t.exact && t.pending >= bulkRows && time.Since(t.last) < bulkQuiet
		whole := t.cfg.Whole() && t.upd.Whole()
		if (!bulk && whole) || !time.Now().Before(deadline) || ctx.Err() != nil {
			c := collected{t.nb, t.pbs, t.chassis, t.priv, t.sbReset, t.pending, t.first, t.last}
			t.nb, t.pbs, t.chassis, t.priv, t.sbReset = map[string]map[string]model.Model{}, map[string]*sbdb.PortBinding{}, false, false, false
			t.pending = 0
			t.mu.Unlock()
			return c
		}
		t.mu.Unlock()
		// The rest of the update is queued: it comes within
		// microseconds a row unless the machine is very busy.
		pause := time.Millisecond
		if bulk {
			pause = bulkQuiet / 2
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}

// nbUUID is the _uuid of an NB model.
func nbUUID(m model.Model) string {
	switch r := m.(type) {
	case *nbdb.NBGlobal:
		return r.UUID
	case *nbdb.LogicalSwitch:
		return r.UUID
	case *nbdb.LogicalSwitchPort:
		return r.UUID
	case *nbdb.PortGroup:
		return r.UUID
	case *nbdb.AddressSet:
		return r.UUID
	case *nbdb.ACL:
		return r.UUID
	case *nbdb.DHCPOptions:
		return r.UUID
	case *nbdb.DNS:
		return r.UUID
	case *nbdb.QoS:
		return r.UUID
	case *nbdb.LoadBalancer:
		return r.UUID
	case *nbdb.LoadBalancerGroup:
		return r.UUID
	}
	return ""
}

// applyNB writes the collected NB rows into nb and names them for the
// engine. Tables the build does not read are ignored.
func applyNB(nb *nbState, rows map[string]map[string]model.Model) build.Changes {
	var ch build.Changes
	set := func(dst *map[string]bool, u string) {
		if *dst == nil {
			*dst = map[string]bool{}
		}
		(*dst)[u] = true
	}
	for table, byUUID := range rows {
		for u, m := range byUUID {
			if u == "" {
				continue
			}
			switch table {
			case nbdb.NBGlobalTable:
				if r, ok := m.(*nbdb.NBGlobal); ok {
					nb.Global, nb.hasGlobal = *r, true
				} else {
					nb.Global, nb.hasGlobal = nbdb.NBGlobal{}, false
				}
				ch.Global = true
			case nbdb.LogicalSwitchTable:
				put(nb.Switches, u, m)
				set(&ch.Switches, u)
			case nbdb.LogicalSwitchPortTable:
				if onlyUp(nb.Ports, u, m) {
					// northd's own feedback: nothing the build reads.
					put(nb.Ports, u, m)
					continue
				}
				put(nb.Ports, u, m)
				set(&ch.Ports, u)
			case nbdb.PortGroupTable:
				put(nb.PortGroups, u, m)
				set(&ch.PortGroups, u)
			case nbdb.AddressSetTable:
				put(nb.AddressSets, u, m)
				set(&ch.AddressSets, u)
			case nbdb.ACLTable:
				put(nb.ACLs, u, m)
				set(&ch.ACLs, u)
			case nbdb.DHCPOptionsTable:
				put(nb.DHCPOptions, u, m)
				ch.Other = true
			case nbdb.DNSTable:
				put(nb.DNS, u, m)
				ch.Other = true
			case nbdb.QoSTable:
				put(nb.QoS, u, m)
				ch.Other = true
			case nbdb.LoadBalancerTable:
				put(nb.LBs, u, m)
				ch.Other = true
			case nbdb.LoadBalancerGroupTable:
				put(nb.LBGroups, u, m)
				ch.Other = true
			}
		}
	}
	return ch
}

// put stores a copy of row m (nil: deletes) under u.
func put[T any](dst map[string]T, u string, m model.Model) {
	if r, ok := m.(*T); ok && r != nil {
		dst[u] = *r
		return
	}
	delete(dst, u)
}

// onlyUp reports whether m differs from the port stored under u in
// nothing but the up column, which northd writes and the build ignores.
func onlyUp(ports map[string]nbdb.LogicalSwitchPort, u string, m model.Model) bool {
	r, ok := m.(*nbdb.LogicalSwitchPort)
	old, had := ports[u]
	if !ok || r == nil || !had {
		return false
	}
	n := *r
	n.Up = old.Up
	// Equals (generated) compares as reflect.DeepEqual does, nil and
	// empty apart, at a fraction of its cost: the echo of a bulk load's
	// up=false is 10,000 ports.
	return n.Equals(&old)
}

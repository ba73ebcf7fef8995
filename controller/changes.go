package controller

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/internal/cachequeue"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// changeSet is what changed in a database since the loop last looked:
// the UUIDs inserted, modified or deleted per table, or Full when the
// loop must treat every row as changed (a new connection, a reconnect
// that rebuilt the replica, a change that was lost).
type changeSet struct {
	Full   bool
	Tables map[string]map[string]struct{}
}

// add records that row uuid of table changed.
func (c *changeSet) add(table, uuid string) {
	if c.Tables == nil {
		c.Tables = map[string]map[string]struct{}{}
	}
	t := c.Tables[table]
	if t == nil {
		t = map[string]struct{}{}
		c.Tables[table] = t
	}
	t[uuid] = struct{}{}
}

// merge adds o's changes to c.
func (c *changeSet) merge(o changeSet) {
	c.Full = c.Full || o.Full
	for table, ids := range o.Tables {
		for id := range ids {
			c.add(table, id)
		}
	}
}

// has reports whether any row of one of tables changed (or everything
// did).
func (c *changeSet) has(tables ...string) bool {
	if c.Full {
		return true
	}
	for _, t := range tables {
		if len(c.Tables[t]) > 0 {
			return true
		}
	}
	return false
}

// summary says what changed, for the debug log: "full", or the number
// of rows per table.
func (c *changeSet) summary() string {
	if c.Full {
		return "full"
	}
	var parts []string
	for t, ids := range c.Tables {
		parts = append(parts, t+"="+strconv.Itoa(len(ids)))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// empty reports whether nothing changed.
func (c *changeSet) empty() bool { return !c.Full && len(c.Tables) == 0 }

// changeLog collects the changes libovsdb's cache reports from its
// event goroutine until the loop takes them.
//
// For the SB client it also follows SB_Global.nb_cfg (see nbCfg):
// libovsdb hands a transaction's rows over one at a time in no fixed
// table order, so the SB_Global row carrying nb_cfg N may come before
// the port bindings northd wrote in the same transaction.
type changeLog struct {
	// rest, when set (by watch, before any event), counts the events
	// queued behind the one being handed over (cachequeue.Rest).
	rest func() int

	mu sync.Mutex // guards the fields below
	cs changeSet
	// covered is how many of the next events describe changes that a
	// Full change already covers (see setFullCovering): they are
	// handed over, and followed for nb_cfg, but not recorded.
	covered int
	// cfg follows SB_Global.nb_cfg through the events (nbCfg).
	cfg cachequeue.Marker
}

// newChangeLog returns an empty change log.
func newChangeLog() *changeLog { return &changeLog{cfg: cachequeue.NewMarker()} }

// watch makes l follow SB_Global.nb_cfg in the events of tc.
func (l *changeLog) watch(tc *cache.TableCache) { l.rest = cachequeue.Rest(tc) }

// uuider is what every generated model has.
type uuider interface{ GetUUID() string }

// record notes that m, a row of table, was added, modified or deleted.
// A row without a UUID makes the next take Full.
func (l *changeLog) record(table string, m model.Model) {
	g, marker := m.(*sbdb.SBGlobal)
	rest := 0
	if marker && l.rest != nil {
		rest = l.rest()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var cfg int64
	if marker {
		cfg = int64(g.NbCfg)
	}
	l.cfg.Event(marker, cfg, rest)
	if l.covered > 0 {
		l.covered--
		return
	}
	if id := rowUUID(m); id != "" {
		l.cs.add(table, id)
		return
	}
	l.cs.Full = true
}

// rowUUID returns the UUID of row m: GetUUID where the model has it (the
// SB's), else its UUID field (the Open_vSwitch models are generated
// without GetUUID); "" if it has neither.
func rowUUID(m model.Model) string {
	if u, ok := m.(uuider); ok {
		return u.GetUUID()
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	if f := v.Elem().FieldByName("UUID"); f.IsValid() && f.Kind() == reflect.String {
		return f.String()
	}
	return ""
}

// setFull makes the next take Full.
func (l *changeLog) setFull() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cs.Full = true
}

// setFullCovering makes the next take Full, like setFull, and leaves
// out of the changes the events queued so far: each describes a change
// the cache held before this call, so a view read from the cache after
// the Full take holds it already. A new connection's monitor reply comes
// as one event per row (11,000 port bindings in the benchmark's SB),
// which libovsdb hands over after the monitor call returns: recorded,
// they made the round after a full load take every row as changed
// (the chassis manager read every binding again, the physical flows
// rebuilt every port's). Without a way to count the queue (watch has
// not run, or found none) it is setFull.
func (l *changeLog) setFullCovering() {
	queued := 0
	if l.rest != nil {
		// Read before the lock, as record does: rest waits for an update
		// being applied to the cache, whose events record may be waiting
		// to hand over under this lock.
		queued = l.rest()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cs.Full = true
	l.covered = queued
}

// take returns the changes recorded since the last take and forgets them.
func (l *changeLog) take() changeSet {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.cs
	l.cs = changeSet{}
	return cs
}

// nbCfg returns SB_Global.nb_cfg as of the latest transaction whose
// every row has been recorded, and so taken by the next take (or an
// earlier one); -1 before any. A view read from the cache after that
// take holds everything the nb_cfg stands for.
func (l *changeLog) nbCfg() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg.Value()
}

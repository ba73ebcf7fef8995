package northd

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// nbCache is a libovsdb cache of the NB schema whose events nobody hands
// over yet: the test runs the handing-over itself.
func nbCache(t *testing.T) *cache.TableCache {
	t.Helper()
	return cachetest.New(t, nbdb.Schema(), nbdb.FullDatabaseModel, nil)
}

// One NB transaction: nb_cfg bumped along with a new port, as
// `ovn-nbctl --wait=sb lsp-add` writes it.
func nbTxn(cfg int, lsp string) ovsdb.TableUpdates2 {
	return ovsdb.TableUpdates2{
		nbdb.NBGlobalTable: {"9a1b6b8e-0000-4000-8000-000000000001": &ovsdb.RowUpdate2{
			Initial: &ovsdb.Row{"nb_cfg": cfg}}},
		nbdb.LogicalSwitchPortTable: {lsp: &ovsdb.RowUpdate2{
			Initial: &ovsdb.Row{"name": "p-" + lsp[:4]}}},
	}
}

// TestCollectWaitsForWholeTransaction: whatever order libovsdb hands a
// transaction's rows over in, a round that has seen its NB_Global change
// (nb_cfg, which becomes sb_cfg) starts only once every other row of the
// transaction has been collected too.
func TestCollectWaitsForWholeTransaction(t *testing.T) {
	for i := range 20 {
		tc := nbCache(t)
		tr := newTracker(make(chan struct{}, 1))
		// A slow handler ahead of the tracker's holds the port's event
		// back, as a busy machine would.
		tc.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(table string, _ model.Model) {
			if table == nbdb.LogicalSwitchPortTable {
				time.Sleep(30 * time.Millisecond)
			}
		}})
		tc.AddEventHandler(tr.nbHandler(tc))
		lsp := "22222222-0000-4000-8000-0000000000" + string(rune('1'+i%9)) + "0"
		if err := tc.Populate2(nbTxn(i+1, lsp)); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		go tc.Run(stop)
		// Wait for the first event (either row) to be collected, then
		// collect as a round does.
		deadline := time.Now().Add(5 * time.Second)
		for {
			tr.mu.Lock()
			n := tr.pending
			tr.mu.Unlock()
			if n > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Microsecond)
		}
		c := tr.collect(context.Background())
		close(stop)
		if c.nb[nbdb.NBGlobalTable] != nil && c.nb[nbdb.LogicalSwitchPortTable] == nil {
			t.Fatalf("round %d: the round saw nb_cfg but not the port added with it", i)
		}
	}
}

// TestDroppedEventMakesFullRound: a cache event libovsdb dropped makes
// the next round a full one (sbReset), which reads NB whole.
func TestDroppedEventMakesFullRound(t *testing.T) {
	kick := make(chan struct{}, 1)
	tr := newTracker(kick)
	if c := tr.collect(context.Background()); c.sbReset {
		t.Fatal("a fresh tracker asks for a full round")
	}
	tr.dropped()
	select {
	case <-kick:
	default:
		t.Error("a dropped event did not wake the loop")
	}
	if c := tr.collect(context.Background()); !c.sbReset {
		t.Error("a dropped event did not make the next round full")
	}
	if c := tr.collect(context.Background()); c.sbReset {
		t.Error("the round after the full one is full again")
	}
}

// TestCollectTakesBulkWhole: a bulk update whose rows stop arriving for
// longer than bulkQuiet half way through (a busy machine) is still
// collected whole by one round, and a round started later takes only
// what came later.
func TestCollectTakesBulkWhole(t *testing.T) {
	const rows = 3 * bulkRows
	tc := nbCache(t)
	tr := newTracker(make(chan struct{}, 1))
	seen := 0
	tc.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(string, model.Model) {
		if seen++; seen == rows/2 {
			time.Sleep(3 * bulkQuiet)
		}
	}})
	tc.AddEventHandler(tr.nbHandler(tc))
	bulk := ovsdb.TableUpdate2{}
	for i := range rows {
		bulk[fmt.Sprintf("%08x-0000-4000-8000-000000000001", i)] = &ovsdb.RowUpdate2{Initial: &ovsdb.Row{"name": fmt.Sprint("p", i)}}
	}
	if err := tc.Populate2(ovsdb.TableUpdates2{nbdb.LogicalSwitchPortTable: bulk}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go tc.Run(stop)
	waitPending(t, tr)
	if c := tr.collect(context.Background()); len(c.nb[nbdb.LogicalSwitchPortTable]) != rows || c.rows != rows {
		t.Fatalf("the round took %d of the bulk's %d rows (%d events)", len(c.nb[nbdb.LogicalSwitchPortTable]), rows, c.rows)
	}
	if err := tc.Populate2(nbTxn(2, "22222222-0000-4000-8000-000000000001")); err != nil {
		t.Fatal(err)
	}
	waitPending(t, tr)
	c := tr.collect(context.Background())
	if c.rows != 2 || len(c.nb[nbdb.LogicalSwitchPortTable]) != 1 || c.nb[nbdb.NBGlobalTable] == nil {
		t.Fatalf("the next round took %d events: %v", c.rows, c.nb)
	}
}

// waitPending waits until tr has collected an NB event.
func waitPending(t *testing.T, tr *tracker) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.mu.Lock()
		n := tr.pending
		tr.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no NB event collected within 10 s")
		}
		time.Sleep(10 * time.Microsecond)
	}
}

// onlyUp tells northd's own up feedback (nothing the build reads) from
// every other change to a port.
func TestOnlyUp(t *testing.T) {
	up, down, tag := true, false, 5
	old := nbdb.LogicalSwitchPort{UUID: "u1", Name: "p1", Addresses: []string{"0a:00:00:00:00:01 10.0.0.1"},
		ExternalIDs: map[string]string{"a": "b"}, Up: &down}
	ports := map[string]nbdb.LogicalSwitchPort{"u1": old}
	same := old
	same.Up = &up
	if !onlyUp(ports, "u1", &same) {
		t.Error("a change of up alone is not onlyUp")
	}
	for name, change := range map[string]func(p *nbdb.LogicalSwitchPort){
		"addresses":    func(p *nbdb.LogicalSwitchPort) { p.Addresses = []string{"unknown"} },
		"external_ids": func(p *nbdb.LogicalSwitchPort) { p.ExternalIDs = map[string]string{"a": "c"} },
		"tag":          func(p *nbdb.LogicalSwitchPort) { p.Tag = &tag },
		"type":         func(p *nbdb.LogicalSwitchPort) { p.Type = "localnet" },
	} {
		p := old
		p.Up = &up
		change(&p)
		if onlyUp(ports, "u1", &p) {
			t.Errorf("a change of %s (and up) is taken for onlyUp", name)
		}
	}
	if onlyUp(ports, "u2", &same) {
		t.Error("a new port is taken for onlyUp")
	}
}

package cachequeue

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

func nbCache(t *testing.T) *cache.TableCache {
	t.Helper()
	return cachetest.New(t, nbdb.Schema(), nbdb.FullDatabaseModel, nil)
}

// update is one NB transaction of three rows.
func update(cfg int) ovsdb.TableUpdates2 {
	return ovsdb.TableUpdates2{
		nbdb.NBGlobalTable: {"9a1b6b8e-0000-4000-8000-000000000001": &ovsdb.RowUpdate2{
			Initial: &ovsdb.Row{"nb_cfg": cfg}}},
		nbdb.LogicalSwitchPortTable: {
			"11111111-0000-4000-8000-000000000001": &ovsdb.RowUpdate2{Initial: &ovsdb.Row{"name": "p1"}},
			"11111111-0000-4000-8000-000000000002": &ovsdb.RowUpdate2{Initial: &ovsdb.Row{"name": "p2"}},
		},
	}
}

// TestRest: the queue is found, counts the events not yet handed over,
// and, read from a handler, counts the rest of that handler's update.
func TestRest(t *testing.T) {
	tc := nbCache(t)
	rest := Rest(tc)
	if rest == nil {
		t.Fatal("Rest found no event queue in libovsdb's TableCache")
	}
	if n := rest(); n != 0 {
		t.Fatalf("fresh cache: %d events queued, want 0", n)
	}
	if err := tc.Populate2(update(1)); err != nil {
		t.Fatal(err)
	}
	if n := rest(); n != 3 {
		t.Fatalf("after an update of 3 rows: %d events queued, want 3", n)
	}

	// From the handler: the first event of an update has the other
	// two behind it, whichever table it is from.
	tc2 := nbCache(t)
	rest2 := Rest(tc2)
	got := make(chan int, 8)
	tc2.AddEventHandler(&cache.EventHandlerFuncs{AddFunc: func(string, model.Model) { got <- rest2() }})
	stop := make(chan struct{})
	defer close(stop)
	go tc2.Run(stop)
	if err := tc2.Populate2(update(1)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{2, 1, 0} {
		select {
		case n := <-got:
			if n != want {
				t.Fatalf("event %d: %d queued behind it, want %d", i, n, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never handed over", i)
		}
	}
}

func TestRestNil(t *testing.T) {
	if Rest(nil) != nil {
		t.Fatal("Rest(nil) returned a function")
	}
}

// TestWatchDrops: libovsdb really drops events once its queue is full,
// and says so through the logger WatchDrops wraps, whose own records
// still reach the wrapped handler at its level.
func TestWatchDrops(t *testing.T) {
	var buf bytes.Buffer
	drops := 0
	h := WatchDrops(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}), func() { drops++ })
	lg := logr.FromSlogHandler(h).V(4)
	tc := cachetest.New(t, nbdb.Schema(), nbdb.FullDatabaseModel, &lg)
	rest := Rest(tc)
	// Nobody hands the events over: past the queue's capacity, every
	// further row is dropped.
	const rows = 70000
	ups := ovsdb.TableUpdate2{}
	for i := range rows {
		ups[fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)] = &ovsdb.RowUpdate2{Initial: &ovsdb.Row{"name": fmt.Sprint("p", i)}}
	}
	if err := tc.Populate2(ovsdb.TableUpdates2{nbdb.LogicalSwitchPortTable: ups}); err != nil {
		t.Fatal(err)
	}
	queued := rest()
	if queued+drops != rows || drops == 0 {
		t.Fatalf("%d events queued and %d drops reported for %d rows", queued, drops, rows)
	}
	if buf.Len() != 0 {
		t.Errorf("libovsdb's debug records reached an info-level handler:\n%.300s", buf.String())
	}
	slog.New(h).Info("hello")
	if !strings.Contains(buf.String(), "hello") {
		t.Errorf("an info record did not reach the wrapped handler: %q", buf.String())
	}
}

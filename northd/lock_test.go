package northd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

func TestLockable(t *testing.T) {
	got := lockable([]string{"ssl:10.0.0.1:6642", "tcp:10.0.0.2:6642", "unix:/run/sb.sock"})
	if len(got) != 2 || got[0] != "tcp:10.0.0.2:6642" || got[1] != "unix:/run/sb.sock" {
		t.Errorf("lockable = %q", got)
	}
}

// Without a remote to lock on, the lock is held until ctx ends.
func TestLockWithoutRemote(t *testing.T) {
	changed := make(chan struct{}, 1)
	l := &sbLock{changed: func() { changed <- struct{}{} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.RoutineLock(ctx); close(done) }()
	<-changed
	if !l.Held() {
		t.Error("lock not held")
	}
	cancel()
	<-done
}

// sbServer starts a private ovsdb-server with an empty SB and returns
// its remote; the test skips without ovsdb-server.
func sbServer(t *testing.T) string {
	t.Helper()
	return ovsdbServer(t, ovnschema.Southbound, "sb")
}

// Writes go through the lock session behind an assert: the holder's
// commit, a standby's is refused by the server.
func TestWritesAssertTheLock(t *testing.T) {
	remote := sbServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func() (*sbLock, chan struct{}) {
		changed := make(chan struct{}, 8)
		l := &sbLock{remotes: []string{remote}, changed: func() { changed <- struct{}{} }}
		done := make(chan struct{})
		go func() { l.RoutineLock(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return l, changed
	}
	a, aChanged := start()
	select {
	case <-aChanged:
	case <-time.After(10 * time.Second):
		t.Fatal("first session never got the lock")
	}
	b, _ := start()
	insert := func() *sbTxn {
		t := &sbTxn{}
		t.encoded(insertOp(sbdb.SBGlobalTable, "g", row{"nb_cfg": 3}))
		return t
	}
	tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
	defer tcancel()
	for b.writer() == nil { // wait for b's session, which then waits for the lock
		if tctx.Err() != nil {
			t.Fatal("second session never connected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := b.transact(tctx, ovnschema.SouthboundName, insert()); err == nil || !strings.Contains(err.Error(), "not owner") {
		t.Errorf("standby's transaction: err = %v, want the server's \"not owner\"", err)
	}
	sent := insert()
	res, err := a.transact(tctx, ovnschema.SouthboundName, sent)
	if err != nil || len(res) != 1 || res[0].Error != "" || res[0].UUID.GoUUID == "" {
		t.Fatalf("holder's transaction: %v, %+v", err, res)
	}
	if _, err := a.transact(tctx, ovnschema.SouthboundName, sent); err == nil {
		t.Error("a sent transaction (its rows dropped) was sent again")
	}
}

// A transaction streamed while it is planned commits as one sent whole;
// one abandoned part way (after some of it went out) commits nothing,
// and the session carries the next transaction.
func TestStreamedTransaction(t *testing.T) {
	remote := sbServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	changed := make(chan struct{}, 8)
	l := &sbLock{remotes: []string{remote}, changed: func() { changed <- struct{}{} }}
	done := make(chan struct{})
	go func() { l.RoutineLock(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for !l.Held() {
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("no lock")
		}
	}
	const n = 3*streamBatch + 7
	plan := func(s *txnStream, prefix string) *sbTxn {
		txn := &sbTxn{}
		txn.streamTo(s)
		for i := range n {
			name := fmt.Sprintf("%s%d", prefix, i)
			if i%2 == 0 {
				txn.encoded(insertOp(sbdb.AddressSetTable, "as"+name, row{"name": name}))
			} else {
				txn.add([]ovsdb.Operation{insertOp(sbdb.AddressSetTable, "as"+name, row{"name": name})}, nil)
			}
		}
		return txn
	}
	count := func(prefix string) int {
		txn := &sbTxn{}
		txn.add([]ovsdb.Operation{{Op: ovsdb.OperationSelect, Table: sbdb.AddressSetTable, Where: []ovsdb.Condition{},
			Columns: []string{"name"}}}, nil)
		res, err := l.transact(ctx, ovnschema.SouthboundName, txn)
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for _, r := range res[0].Rows {
			if strings.HasPrefix(r["name"].(string), prefix) {
				c++
			}
		}
		return c
	}

	s, err := l.begin(ovnschema.SouthboundName)
	if err != nil {
		t.Fatal(err)
	}
	txn := plan(s, "a")
	if s.n < 3*streamBatch {
		t.Errorf("%d of %d operations went out while planning, want at least %d", s.n, n, 3*streamBatch)
	}
	res, err := l.transact(ctx, ovnschema.SouthboundName, txn)
	if err != nil || len(res) != n {
		t.Fatalf("streamed transaction: %v, %d results", err, len(res))
	}
	if err := txn.check(res); err != nil {
		t.Fatal(err)
	}
	if c := count("a"); c != n {
		t.Errorf("streamed transaction: %d rows, want %d", c, n)
	}

	s, err = l.begin(ovnschema.SouthboundName)
	if err != nil {
		t.Fatal(err)
	}
	txn = plan(s, "b")
	txn.abandon()
	if c := count("b"); c != 0 {
		t.Errorf("abandoned transaction: %d rows committed", c)
	}
	if _, err := l.transact(ctx, ovnschema.SouthboundName, txn); err == nil {
		t.Error("an abandoned transaction was sent again")
	}
	if c := count("a"); c != n {
		t.Errorf("after the abandoned transaction: %d rows, want %d", c, n)
	}
}

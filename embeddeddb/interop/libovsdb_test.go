package interop

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// newNBClient connects a reconnecting libovsdb client to s's NB database
// and monitors every table. It is closed in t.Cleanup.
func newNBClient(t *testing.T, s *Server) client.Client {
	t.Helper()
	dbModel, err := nbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	logger := logr.Discard()
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = 50*time.Millisecond, 500*time.Millisecond
	c, err := client.NewOVSDBClient(dbModel, client.WithEndpoint(s.NB()),
		client.WithReconnect(5*time.Second, bo), client.WithLogger(&logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("libovsdb connect: %v", err)
	}
	t.Cleanup(c.Close)
	if _, err := c.MonitorAll(ctx); err != nil {
		t.Fatalf("libovsdb monitor all: %v", err)
	}
	return c
}

// transact runs ops and fails the test on any error, returning the
// results.
func transact(t *testing.T, c client.Client, ops []ovsdb.Operation, err error) []ovsdb.OperationResult {
	t.Helper()
	if err != nil {
		t.Fatalf("build ops: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		t.Fatalf("transact: %v", err)
	}
	return res
}

// cachedSwitch returns the switch named name from c's cache, if any.
func cachedSwitch(c client.Client, name string) *nbdb.LogicalSwitch {
	var found []nbdb.LogicalSwitch
	err := c.WhereCache(func(ls *nbdb.LogicalSwitch) bool { return ls.Name == name }).List(context.Background(), &found)
	if err != nil || len(found) != 1 {
		return nil
	}
	return &found[0]
}

// cachedPort returns the port named name from c's cache, if any.
func cachedPort(c client.Client, name string) *nbdb.LogicalSwitchPort {
	var found []nbdb.LogicalSwitchPort
	err := c.WhereCache(func(p *nbdb.LogicalSwitchPort) bool { return p.Name == name }).List(context.Background(), &found)
	if err != nil || len(found) != 1 {
		return nil
	}
	return &found[0]
}

// waitCache waits until cond holds on c's cache.
func waitCache(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if err := waitUntil(5*time.Second, cond); err != nil {
		t.Fatalf("libovsdb cache: %s: %v", what, err)
	}
}

// TestLibovsdb drives the target with a libovsdb client: it creates,
// updates and deletes switches and ports with references, sees its own
// and ovn-nbctl's changes in its cache, and reconnects and resyncs after
// the server restarts.
func TestLibovsdb(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	c := newNBClient(t, s)
	nb := NBCtl(s)

	lsp1 := &nbdb.LogicalSwitchPort{UUID: "lsp1", Name: "lsp1", Addresses: []string{"00:00:00:00:00:01 10.0.0.1"}}
	ls := &nbdb.LogicalSwitch{UUID: "ls1", Name: "ls1", Ports: []string{"lsp1"}}
	ops, err := c.Create(lsp1)
	lsOps, err2 := c.Create(ls)
	res := transact(t, c, append(ops, lsOps...), errors.Join(err, err2))
	lsp1UUID, lsUUID := res[0].UUID.GoUUID, res[1].UUID.GoUUID
	waitCache(t, "ls1 with lsp1", func() bool {
		got := cachedSwitch(c, "ls1")
		return got != nil && got.UUID == lsUUID && slices.Equal(got.Ports, []string{lsp1UUID})
	})
	if out := nb.Must(t, "lsp-list", "ls1"); out != lsp1UUID+" (lsp1)\n" {
		t.Errorf("ovn-nbctl lsp-list ls1 = %q", out)
	}

	ls = &nbdb.LogicalSwitch{UUID: lsUUID, OtherConfig: map[string]string{"subnet": "10.0.0.0/24"}}
	ops, err = c.Where(ls).Update(ls, &ls.OtherConfig)
	transact(t, c, ops, err)
	lsp2 := &nbdb.LogicalSwitchPort{UUID: "lsp2", Name: "lsp2"}
	ops, err = c.Create(lsp2)
	more, err2 := c.Where(ls).Mutate(ls, model.Mutation{Field: &ls.Ports, Mutator: ovsdb.MutateOperationInsert, Value: []string{"lsp2"}})
	res = transact(t, c, append(ops, more...), errors.Join(err, err2))
	lsp2UUID := res[0].UUID.GoUUID
	waitCache(t, "ls1 updated with lsp2", func() bool {
		got := cachedSwitch(c, "ls1")
		return got != nil && got.OtherConfig["subnet"] == "10.0.0.0/24" && len(got.Ports) == 2 && cachedPort(c, "lsp2") != nil
	})

	nb.Must(t, "lsp-set-addresses", "lsp2", "00:00:00:00:00:02")
	waitCache(t, "ovn-nbctl's change to lsp2", func() bool {
		p := cachedPort(c, "lsp2")
		return p != nil && slices.Equal(p.Addresses, []string{"00:00:00:00:00:02"})
	})

	ops, err = c.Where(ls).Mutate(ls, model.Mutation{Field: &ls.Ports, Mutator: ovsdb.MutateOperationDelete, Value: []string{lsp2UUID}})
	transact(t, c, ops, err)
	waitCache(t, "lsp2 garbage-collected", func() bool { return cachedPort(c, "lsp2") == nil })

	restartAndResync(t, s, c, nb)

	ops, err = c.Where(&nbdb.LogicalSwitch{UUID: lsUUID}).Delete()
	transact(t, c, ops, err)
	waitCache(t, "ls1 and lsp1 gone", func() bool { return cachedSwitch(c, "ls1") == nil && cachedPort(c, "lsp1") == nil })
	if out := nb.Must(t, "ls-list"); strings.Contains(out, "(ls1)") {
		t.Errorf("ovn-nbctl still sees ls1: %q", out)
	}
}

// restartAndResync stops and restarts the server under c, then checks that
// c reconnects, still has ls1 and lsp1, and follows new changes.
func restartAndResync(t *testing.T, s *Server, c client.Client, nb *Ctl) {
	t.Helper()
	s.Stop(t)
	// With reconnect on, libovsdb keeps Connected() true and drops its
	// RPC client (CurrentEndpoint "") until it is back.
	waitCache(t, "disconnect noticed", func() bool { return c.CurrentEndpoint() == "" })
	s.Start(t)
	waitCache(t, "reconnected", func() bool { return c.CurrentEndpoint() != "" })
	waitCache(t, "ls1 and lsp1 after resync", func() bool {
		return cachedSwitch(c, "ls1") != nil && cachedPort(c, "lsp1") != nil && cachedPort(c, "lsp2") == nil
	})
	nb.Must(t, "ls-add", "ls2")
	waitCache(t, "ls2 added after reconnect", func() bool { return cachedSwitch(c, "ls2") != nil })
	ops, err := c.Create(&nbdb.LogicalSwitch{Name: "ls3"})
	transact(t, c, ops, err)
	if out := nb.Must(t, "--bare", "--columns=name", "find", "Logical_Switch", "name=ls3"); out != "ls3\n" {
		t.Errorf("ovn-nbctl does not see ls3 made by libovsdb after reconnect: %q", out)
	}
}

package northd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/embeddeddb"
	"github.com/ovnd/ovnd/embeddeddb/embeddeddbtest"
	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// nbServer starts a private ovsdb-server with an empty NB and returns
// its remote; the test skips without ovsdb-server or ovn-nbctl.
func nbServer(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ovn-nbctl"); err != nil {
		t.Skip(err)
	}
	return ovsdbServer(t, ovnschema.Northbound, "nb")
}

// ovsdbServer starts a private ovsdb-server with an empty database of
// schema, its files named for name, and returns its remote; the test
// skips without ovsdb-server or ovsdb-tool.
func ovsdbServer(t *testing.T, schema []byte, name string) string {
	t.Helper()
	for _, bin := range []string{"ovsdb-server", "ovsdb-tool"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skip(err)
		}
	}
	dir := t.TempDir()
	schemaFile := filepath.Join(dir, name+".ovsschema")
	if err := os.WriteFile(schemaFile, schema, 0o644); err != nil {
		t.Fatal(err)
	}
	db, sock := filepath.Join(dir, name+".db"), filepath.Join(dir, name+".sock")
	if out, err := exec.Command("ovsdb-tool", "create", db, schemaFile).CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v: %s", err, out)
	}
	cmd := exec.Command("ovsdb-server", "--remote=punix:"+sock, "--unixctl="+filepath.Join(dir, "ctl"), db)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListen(t, sock)
	return "unix:" + sock
}

func waitListen(t *testing.T, sock string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("database did not listen on " + sock)
		}
	}
}

// ovndNBServer runs ovnd's database role in the test and returns its
// NB remote.
func ovndNBServer(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ovn-nbctl"); err != nil {
		t.Skip(err)
	}
	nb, _ := ovndDBs(t)
	waitListen(t, strings.TrimPrefix(nb, "unix:"))
	return nb
}

// replicaSteps change every table northd monitors, and set columns to
// empty values and back.
var replicaSteps = [][]string{
	{"ls-add", "sw0"},
	{"lsp-add", "sw0", "p1", "--", "lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1", "dynamic"},
	{"lsp-set-port-security", "p1", "00:00:00:00:00:01 10.0.0.1"},
	{"lsp-set-options", "p1", "a=1", "b=\"two words\""},
	{"set", "Logical_Switch_Port", "p1", "tag_request=7", "enabled=false", `external_ids:x="q\"uote\\"`},
	{"lsp-add", "sw0", "p2", "--", "lsp-set-type", "p2", "localnet"},
	{"lsp-set-addresses", "p1"},
	{"clear", "Logical_Switch_Port", "p1", "tag_request", "enabled"},
	{"pg-add", "pg1", "p1", "p2"},
	{"create", "Address_Set", "name=as1", `addresses="10.0.0.1","10.0.0.2"`},
	{"acl-add", "pg1", "to-lport", "1001", "outport == @pg1 && ip4.src == $as1", "allow-related"},
	{"acl-add", "sw0", "from-lport", "900", "ip4", "drop"},
	{"set", "NB_Global", ".", "nb_cfg=3", "options:x=y"},
	{"dhcp-options-create", "10.0.0.0/24"},
	{"lb-add", "lb1", "10.1.0.1:80", "10.0.0.1:8080", "tcp"},
	{"ls-lb-add", "sw0", "lb1"},
	{"pg-set-ports", "pg1", "p2"},
	{"lsp-del", "p1"},
	{"acl-del", "sw0"},
	{"ls-add", "sw1", "--", "lsp-add", "sw1", "p3", "--", "lsp-add", "sw1", "p4"},
	{"ls-del", "sw0"},
	{"lb-del", "lb1"},
}

// The replica northd keeps through its own monitor session holds what
// libovsdb's cache holds of the same NB, after each of a series of
// changes, on ovsdb-server and on ovnd's database.
func TestReplicaMatchesLibovsdbCache(t *testing.T) {
	t.Run("ovsdb-server", func(t *testing.T) { testReplicaMatchesCache(t, nbServer(t)) })
	t.Run("ovnd", func(t *testing.T) { testReplicaMatchesCache(t, ovndNBServer(t)) })
}

func testReplicaMatchesCache(t *testing.T, remote string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewOVSDBClient(m, client.WithEndpoint(remote))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.MonitorAll(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := newNBReplica()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	updates := 0
	mon := newNBMonitor([]string{remote}, rep, func(nbChanges, bool) { mu.Lock(); updates++; mu.Unlock() },
		slog.New(slog.DiscardHandler))
	monCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); mon.RoutineMonitor(monCtx) }()
	defer func() { stop(); <-done }()
	<-mon.ready
	// libovsdb leaves a column nil or makes it empty depending on the
	// kind of update; both mean the empty set or map. A set's order
	// means nothing either (libovsdb applies update2's differences in
	// its own order).
	opts := []cmp.Option{cmp.AllowUnexported(nbState{}), cmpopts.EquateEmpty(),
		cmpopts.SortSlices(func(a, b string) bool { return a < b })}
	for i, step := range replicaSteps {
		// Each change also marks NB_Global with its step, so that
		// both copies are compared once they hold it (the servers
		// may send two changes in one update).
		mark := fmt.Sprint(i)
		args := append([]string{"--db=" + remote}, step...)
		args = append(args, "--", "set", "NB_Global", ".", "external_ids:step="+mark)
		if out, err := exec.CommandContext(ctx, "ovn-nbctl", args...).CombinedOutput(); err != nil {
			t.Fatalf("ovn-nbctl %s: %v: %s", strings.Join(step, " "), err, out)
		}
		diff := "not marked"
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			want, err := readNB(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			got := rep.snapshot()
			if want.Global.ExternalIDs["step"] != mark || got.Global.ExternalIDs["step"] != mark {
				continue
			}
			if diff = cmp.Diff(want, got, opts...); diff == "" {
				break
			}
		}
		if diff != "" {
			t.Fatalf("step %d (%s): replica differs from libovsdb's cache (-cache +replica):\n%s", i, strings.Join(step, " "), diff)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if updates == 0 {
		t.Error("no update delivered")
	}
}

// An online conversion of NB ends the monitor (ovsdb-server
// disconnects a client that did not ask for monitor_canceled, and
// cancels the monitors of one that did): the replica monitors anew (a
// reset: the next round is a full one) and follows the changes made
// since.
func TestReplicaAfterMonitorCanceled(t *testing.T) {
	remote := nbServer(t)
	if _, err := exec.LookPath("ovsdb-client"); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := newNBReplica()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	resets := 0
	mon := newNBMonitor([]string{remote}, rep, func(_ nbChanges, reset bool) {
		mu.Lock()
		defer mu.Unlock()
		if reset {
			resets++
		}
	}, slog.New(slog.DiscardHandler))
	monCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); mon.RoutineMonitor(monCtx) }()
	defer func() { stop(); <-done }()
	<-mon.ready
	has := func(name string) bool {
		for _, sw := range rep.snapshot().Switches {
			if sw.Name == name {
				return true
			}
		}
		return false
	}
	nbctl := func(args ...string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, "ovn-nbctl", append([]string{"--db=" + remote}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ovn-nbctl %v: %v: %s", args, err, out)
		}
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	nbctl("ls-add", "before")
	wait("the switch added before the conversion", func() bool { return has("before") })
	schema := filepath.Join(t.TempDir(), "nb.ovsschema")
	if err := os.WriteFile(schema, ovnschema.Northbound, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "ovsdb-client", "convert", remote, schema).CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-client convert: %v: %s", err, out)
	}
	nbctl("ls-add", "after")
	wait("the switch added after the conversion", func() bool { return has("after") && has("before") })
	mu.Lock()
	defer mu.Unlock()
	if resets == 0 {
		t.Error("the new session's contents were not delivered as a reset")
	}
}

// ovndDBs runs ovnd's database role in this process, with NB and SB on
// unix sockets in a temporary directory.
func ovndDBs(t *testing.T) (nb, sb string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "ndt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	nbSock, sbSock := filepath.Join(dir, "nb.sock"), filepath.Join(dir, "sb.sock")
	embeddeddbtest.Serve(t, embeddeddb.Config{Dir: dir, NBRemotes: []string{"punix:" + nbSock},
		SBRemotes: []string{"punix:" + sbSock}})
	return "unix:" + nbSock, "unix:" + sbSock
}

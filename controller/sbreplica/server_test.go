package sbreplica

import (
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/embeddeddb"
	"github.com/ovnd/ovnd/embeddeddb/embeddeddbtest"
)

// randomAgainstOracle runs steps random transactions and checks the
// replica against libovsdb's cache every few of them.
func randomAgainstOracle(t *testing.T, r *Replica, c client.Client, seed uint64, steps int) {
	t.Helper()
	w := newWorkload(t, c, seed)
	for i := range steps {
		w.step()
		if i%25 == 24 {
			waitSame(t, r, c)
		}
	}
	waitSame(t, r, c)
	r.Read(func(v View) {
		n := 0
		for _, s := range testSpecs {
			n += len(v.Table(s.Table))
		}
		t.Logf("%d rows after %d transactions", n, steps)
	})
}

func TestOVSDBServerRandomTransactions(t *testing.T) {
	s := startOVSDB(t, false)
	c := oracle(t, s.sock)
	w := newWorkload(t, c, 1)
	for range 30 {
		w.step() // rows for the initial load
	}
	rec := &logRecorder{}
	r := newTestReplica(t, rec)
	runReplica(t, r, "unix:"+s.sock, 0)
	waitFor(t, "connected", r.Connected)
	waitSame(t, r, c)
	if ch := r.TakeChanges(); !ch.Full {
		t.Error("the first load is not Full")
	}
	randomAgainstOracle(t, r, c, 2, 300)
	if n := rec.count("bad input"); n != 0 {
		t.Errorf("%d bad inputs:\n%s", n, rec)
	}
}

// TestOVSDBServerRestart: a restarted server has no history, so the
// replica rebuilds in full, and picks up what changed while it was down.
func TestOVSDBServerRestart(t *testing.T) {
	s := startOVSDB(t, false)
	c := oracle(t, s.sock)
	w := newWorkload(t, c, 3)
	for range 40 {
		w.step()
	}
	rec := &logRecorder{}
	r := newTestReplica(t, rec)
	runReplica(t, r, "unix:"+s.sock, 0)
	waitFor(t, "connected", r.Connected)
	waitSame(t, r, c)
	r.TakeChanges()
	c.Close()

	s.kill()
	waitFor(t, "disconnected", func() bool { return !r.Connected() })
	s.tool("transact", s.path("sb.db"), `["OVN_Southbound",
		{"op":"delete","table":"Port_Group","where":[]},
		{"op":"insert","table":"Port_Group","row":{"name":"offline","ports":["set",["x","y"]]}}]`)
	s.start()
	waitFor(t, "reconnected", r.Connected)
	c2 := oracle(t, s.sock)
	waitSame(t, r, c2)
	if ch := r.TakeChanges(); !ch.Full {
		t.Errorf("after a server restart: changes %+v, want Full", ch)
	}
	randomAgainstOracle(t, r, c2, 4, 50)
}

// resumeScenario loads rows, cuts the replica's connection with the
// server up, changes three rows, restores the path, and checks that the
// replica resumed: TakeChanges lists exactly those rows, not Full.
func resumeScenario(t *testing.T, sock string, newReplica func(*testing.T, *logRecorder) *Replica) {
	t.Helper()
	c := oracle(t, sock)
	w := newWorkload(t, c, 5)
	for range 40 {
		w.step()
	}
	// A key of its own: a test may run the scenario twice on one server.
	key := 9000 + resumeKeys.Add(1)
	res := txn(t, c, ovsdb.Operation{Op: "insert", Table: "Datapath_Binding", Row: ovsdb.Row{"tunnel_key": key}})
	dp := res[0].UUID.GoUUID
	var lfs []string
	for i := range 3 {
		res := txn(t, c, ovsdb.Operation{Op: "insert", Table: "Logical_Flow", Row: ovsdb.Row{
			"actions": "next;", "match": "1", "pipeline": "ingress", "priority": i, "logical_datapath": set(uuidV(dp))}})
		lfs = append(lfs, res[0].UUID.GoUUID)
	}
	rec := &logRecorder{}
	r := newReplica(t, rec)
	p := newProxy(t, sock)
	runReplica(t, r, p.remote(), 0)
	waitFor(t, "synced", taking(r))
	waitSame(t, r, c)
	r.TakeChanges()

	p.cut()
	waitFor(t, "disconnected", func() bool { return !r.Connected() })
	res = txn(t, c,
		ovsdb.Operation{Op: "insert", Table: "Logical_Flow", Row: ovsdb.Row{"actions": "drop;", "match": "0",
			"pipeline": "egress", "logical_datapath": set(uuidV(dp))}},
		ovsdb.Operation{Op: "update", Table: "Logical_Flow", Where: whereUUID(lfs[1]), Row: ovsdb.Row{"external_ids": omap("a", "b")}},
		ovsdb.Operation{Op: "delete", Table: "Logical_Flow", Where: whereUUID(lfs[2])})
	if !txnOK(res) {
		t.Fatalf("transaction failed: %+v", res)
	}
	inserted := res[0].UUID.GoUUID
	p.up()
	waitFor(t, "reconnected", r.Connected)
	waitSame(t, r, c)
	want := Changes{Tables: map[string]map[string]struct{}{"Logical_Flow": {inserted: {}, lfs[1]: {}, lfs[2]: {}}}}
	if diff := cmp.Diff(want, r.TakeChanges()); diff != "" {
		t.Errorf("changes after resuming (-want +got):\n%s\nlog:\n%s", diff, rec)
	}
	if rec.count("resumed") != 1 {
		t.Errorf("no resumption logged:\n%s", rec)
	}
	randomAgainstOracle(t, r, c, 6, 50)
}

var resumeKeys atomic.Int64

// TestOVSDBServerResume: a clustered ovsdb-server keeps a transaction
// history, so a dropped connection resumes with only the difference.
func TestOVSDBServerResume(t *testing.T) {
	s := startOVSDB(t, true)
	resumeScenario(t, s.sock, newTestReplica)
}

// TestOVSDBServerProbe: a stopped server does not answer echo; the
// replica drops it and reconnects once it runs again. A live server
// answers, so an idle replica keeps its connection.
func TestOVSDBServerProbe(t *testing.T) {
	s := startOVSDB(t, false)
	c := oracle(t, s.sock)
	newWorkload(t, c, 7).step()
	rec := &logRecorder{}
	r := newTestReplica(t, rec)
	runReplica(t, r, "unix:"+s.sock, 200*time.Millisecond)
	waitFor(t, "connected", r.Connected)
	time.Sleep(time.Second)
	if !r.Connected() || rec.count("connection lost") != 0 {
		t.Fatalf("an idle connection to a live server dropped:\n%s", rec)
	}
	s.signal(syscall.SIGSTOP)
	stopped := time.Now()
	waitFor(t, "the probe to drop the stopped server", func() bool { return !r.Connected() })
	t.Logf("dropped %v after SIGSTOP", time.Since(stopped).Round(time.Millisecond))
	s.signal(syscall.SIGCONT)
	waitFor(t, "reconnected", r.Connected)
	if rec.count("connection lost") == 0 {
		t.Errorf("no connection loss logged:\n%s", rec)
	}
	newWorkload(t, c, 8).step()
	waitSame(t, r, c)
}

// TestOVNDDatabaseRole runs the random transactions and the resumption
// against ovnd's own database role.
func TestOVNDDatabaseRole(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "sb.sock")
	embeddeddbtest.Serve(t, embeddeddb.Config{Dir: t.TempDir(), SBRemotes: []string{"punix:" + sock}})
	waitFor(t, "ovnd's SB socket", func() bool { return exec.Command("test", "-S", sock).Run() == nil })
	t.Run("random", func(t *testing.T) {
		c := oracle(t, sock)
		rec := &logRecorder{}
		r := newTestReplica(t, rec)
		runReplica(t, r, "unix:"+sock, 0)
		waitFor(t, "connected", r.Connected)
		randomAgainstOracle(t, r, c, 9, 200)
	})
	t.Run("resume", func(t *testing.T) { resumeScenario(t, sock, newTestReplica) })
	t.Run("parts", func(t *testing.T) { partsScenario(t, sock) })
	t.Run("parts resume", func(t *testing.T) { resumeScenario(t, sock, newPartsReplica) })
}

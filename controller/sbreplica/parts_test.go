package sbreplica

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/controller/sbreplica/sbreplicatest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// testParts load Logical_Flow in three steps: table_id 0-2, 3-5, the
// rest.
var testParts = []Part{
	{"Logical_Flow": {{Column: "table_id", Function: "<", Value: 3}}},
	{"Logical_Flow": {{Column: "table_id", Function: "<", Value: 6}}},
}

// lflowRows inserts n lflows with table_id 0..n-1 and returns their
// UUIDs by table_id.
func lflowRows(t *testing.T, c client.Client, n int) []string {
	t.Helper()
	res := txn(t, c, ovsdb.Operation{Op: "insert", Table: "Datapath_Binding", Row: ovsdb.Row{"tunnel_key": 7000}})
	dp := res[0].UUID.GoUUID
	var ops []ovsdb.Operation
	for i := range n {
		ops = append(ops, ovsdb.Operation{Op: "insert", Table: "Logical_Flow", Row: ovsdb.Row{"actions": "next;",
			"match": "1", "pipeline": "ingress", "table_id": i, "priority": 10, "logical_datapath": set(uuidV(dp))}})
	}
	res = txn(t, c, ops...)
	if !txnOK(res) {
		t.Fatalf("insert lflows: %+v", res)
	}
	var ids []string
	for _, r := range res {
		ids = append(ids, r.UUID.GoUUID)
	}
	return ids
}

// lflowTables returns the table_ids of the replica's lflows, sorted.
func lflowTables(r *Replica) []int {
	var out []int
	r.Read(func(v View) {
		for _, lf := range Rows[sbdb.LogicalFlow](v, "Logical_Flow") {
			out = append(out, lf.TableID)
		}
	})
	slices.Sort(out)
	return out
}

// oracleLflows returns the oracle's lflows with lo <= table_id < hi:
// their UUIDs and their table_ids, sorted.
func oracleLflows(c client.Client, lo, hi int) (map[string]struct{}, []int) {
	ids := map[string]struct{}{}
	var tables []int
	for _, m := range c.Cache().Table("Logical_Flow").Rows() {
		if lf := m.(*sbdb.LogicalFlow); lf.TableID >= lo && lf.TableID < hi {
			ids[lf.UUID] = struct{}{}
			tables = append(tables, lf.TableID)
		}
	}
	slices.Sort(tables)
	return ids, tables
}

// taking is a condition for waitFor that takes the replica's changes,
// as a user does, which asks for the next part of a load in parts, and
// reports whether every part is in.
func taking(r *Replica) func() bool {
	return func() bool {
		r.TakeChanges()
		return r.Synced()
	}
}

// newPartsReplica is a replica of testSpecs that loads in testParts.
func newPartsReplica(t *testing.T, rec *logRecorder) *Replica {
	t.Helper()
	r := newTestReplica(t, rec)
	if err := r.LoadInParts(testParts...); err != nil {
		t.Fatal(err)
	}
	return r
}

// partsScenario: the replica gets the other tables and table_id 0-2
// with the monitor's reply (Connected, not Synced), then 3-5, then the
// rest (Synced), each as changes of exactly those rows, each asked for
// once the one before is taken; a transaction between the parts is
// applied in order with them; then it follows the server like any
// replica.
func partsScenario(t *testing.T, sock string) {
	c := oracle(t, sock)
	w := newWorkload(t, c, 11)
	for range 30 {
		w.step()
	}
	ids := lflowRows(t, c, 9)
	rec := &logRecorder{}
	r := newPartsReplica(t, rec)
	g := sbreplicatest.NewGate(t, sock)
	runReplica(t, r, g.Remote(), 0)
	defer func() {
		if t.Failed() {
			t.Logf("log:\n%s", rec)
		}
	}()

	waitFor(t, "connected", r.Connected)
	if r.Synced() {
		t.Fatal("synced with the first part only")
	}
	if ch := r.TakeChanges(); !ch.Full {
		t.Errorf("the first part is not a Full change: %+v", ch)
	}
	if _, want := oracleLflows(c, 0, 3); !slices.Equal(lflowTables(r), want) {
		t.Errorf("after the first part: lflow table_ids %v, want %v", lflowTables(r), want)
	}
	r.Read(func(v View) {
		if want, got := len(c.Cache().Table("Port_Group").Rows()), len(v.Table("Port_Group")); got != want {
			t.Errorf("after the first part: %d Port_Groups, want all %d", got, want)
		}
	})

	// A transaction between the parts: an lflow of the second part
	// modified, one of the third deleted.
	res := txn(t, c, ovsdb.Operation{Op: "update", Table: "Logical_Flow", Where: whereUUID(ids[4]), Row: ovsdb.Row{"priority": 11}},
		ovsdb.Operation{Op: "delete", Table: "Logical_Flow", Where: whereUUID(ids[8])})
	if !txnOK(res) {
		t.Fatalf("transaction failed: %+v", res)
	}
	waitFor(t, "the transaction in the oracle", func() bool { return c.Cache().Table("Logical_Flow").Row(ids[8]) == nil })
	g.Release(1)
	waitFor(t, "the second part", func() bool { return slices.Contains(lflowTables(r), 3) })
	// The replica asks for the third part only once its user has taken
	// the second.
	time.Sleep(200 * time.Millisecond)
	if n := g.Asked(); n != 1 {
		t.Errorf("%d condition changes asked for before the second part was taken, want 1", n)
	}
	second, want := oracleLflows(c, 0, 6)
	if !slices.Equal(lflowTables(r), want) {
		t.Errorf("after the second part: lflow table_ids %v, want %v", lflowTables(r), want)
	}
	if r.Synced() {
		t.Fatal("synced before the last part")
	}
	second, _ = oracleLflows(c, 3, 6)
	if diff := cmp.Diff(Changes{Tables: map[string]map[string]struct{}{"Logical_Flow": second}}, r.TakeChanges()); diff != "" {
		t.Errorf("changes of the second part (-want +got):\n%s", diff)
	}

	waitFor(t, "the request of the third part", func() bool { return g.Asked() == 2 })
	g.Release(1)
	waitFor(t, "synced", r.Synced)
	waitSame(t, r, c)
	rest, _ := oracleLflows(c, 6, 1<<20)
	if _, ok := rest[ids[8]]; ok || len(rest) == 0 {
		t.Fatalf("the oracle's last part %v (deleted %s)", rest, ids[8])
	}
	if diff := cmp.Diff(Changes{Tables: map[string]map[string]struct{}{"Logical_Flow": rest}}, r.TakeChanges()); diff != "" {
		t.Errorf("changes of the last part (-want +got):\n%s", diff)
	}
	randomAgainstOracle(t, r, c, 12, 100)
	if n := rec.count("bad input"); n != 0 {
		t.Errorf("%d bad inputs:\n%s", n, rec)
	}
}

func TestOVSDBServerParts(t *testing.T) {
	s := startOVSDB(t, false)
	partsScenario(t, s.sock)
}

// TestOVSDBServerPartsCut: a connection lost between the parts does not
// resume from the partial copy's transaction id (the server would send
// the changes since, not the rows of the parts that never came): the
// next connection loads in parts again, in full.
func TestOVSDBServerPartsCut(t *testing.T) {
	s := startOVSDB(t, true)
	c := oracle(t, s.sock)
	w := newWorkload(t, c, 13)
	for range 30 {
		w.step()
	}
	lflowRows(t, c, 9)
	rec := &logRecorder{}
	r := newPartsReplica(t, rec)
	g := sbreplicatest.NewGate(t, s.sock)
	runReplica(t, r, g.Remote(), 0)
	waitFor(t, "connected", r.Connected)
	r.TakeChanges()
	g.Release(1)
	waitFor(t, "the second part", func() bool { return slices.Contains(lflowTables(r), 3) })
	r.TakeChanges()
	g.Cut()
	waitFor(t, "disconnected", func() bool { return !r.Connected() })
	w.step()
	waitFor(t, "reconnected", r.Connected)
	if r.Synced() {
		t.Fatal("synced with the first part only")
	}
	if ch := r.TakeChanges(); !ch.Full {
		t.Errorf("reconnect between the parts: changes %+v, want Full", ch)
	}
	g.Release(2)
	waitFor(t, "synced", taking(r))
	waitSame(t, r, c)
	if n := rec.count("resumed"); n != 0 {
		t.Errorf("resumed from a partial copy:\n%s", rec)
	}
	randomAgainstOracle(t, r, c, 14, 50)
}

// TestOVSDBServerPartsResume: once every part is in, a lost connection
// resumes with monitor_cond_since (the whole tables, no parts): only
// the rows changed meanwhile come.
func TestOVSDBServerPartsResume(t *testing.T) {
	s := startOVSDB(t, true)
	resumeScenario(t, s.sock, newPartsReplica)
}

// TestPartsRefused: a server that refuses monitor_cond_change gets a new
// connection that loads in one step.
func TestPartsRefused(t *testing.T) {
	f := newFakeServer(t, map[string]bool{"monitor_cond_change": true})
	rec := &logRecorder{}
	r := newTestReplica(t, rec)
	if err := r.LoadInParts(Part{"Port_Group": {{Column: "name", Function: "==", Value: "pg"}}}); err != nil {
		t.Fatal(err)
	}
	runReplica(t, r, f.remote(), 0)
	waitFor(t, "synced", taking(r))
	wantFakeRows(t, r)
	_, methods, _ := f.state()
	if want := []string{"monitor_cond_since", "monitor_cond_change", "monitor_cond_since"}; !slices.Equal(methods, want) {
		t.Errorf("methods %v, want %v", methods, want)
	}
	if rec.count("connection lost") != 1 || !strings.Contains(rec.String(), "refused monitor_cond_change") {
		t.Errorf("the refusal is not logged:\n%s", rec)
	}
}

// TestPartsMonitorCond: against a server without monitor_cond_since, a
// load in parts comes over monitor_cond, the further parts as update2.
func TestPartsMonitorCond(t *testing.T) {
	f := newFakeServer(t, map[string]bool{"monitor_cond_since": true})
	rec := &logRecorder{}
	r := newTestReplica(t, rec)
	if err := r.LoadInParts(Part{"Port_Group": {{Column: "name", Function: "==", Value: "pg"}}}); err != nil {
		t.Fatal(err)
	}
	runReplica(t, r, f.remote(), 0)
	waitFor(t, "synced", taking(r))
	r.Read(func(v View) {
		want := map[string]model.Model{u3: &sbdb.PortGroup{UUID: u3, Name: "pg", Ports: []string{"a", "b"}},
			u1: &sbdb.PortGroup{UUID: u1, Name: "more"}}
		if diff := cmp.Diff(want, v.Table("Port_Group"), cmpOpts...); diff != "" {
			t.Errorf("Port_Group (-want +got):\n%s", diff)
		}
	})
	_, methods, _ := f.state()
	if want := []string{"monitor_cond_since", "monitor_cond", "monitor_cond_change"}; !slices.Equal(methods, want) {
		t.Errorf("methods %v, want %v", methods, want)
	}
}

func TestLoadInPartsRejectsBadParts(t *testing.T) {
	for name, p := range map[string]Part{
		"table not replicated": {"Chassis": {{Column: "name", Function: "==", Value: "x"}}},
		"no such column":       {"Logical_Flow": {{Column: "stage", Function: "<", Value: 3}}},
		"unknown function":     {"Logical_Flow": {{Column: "table_id", Function: "~", Value: 3}}},
		"value not JSON":       {"Logical_Flow": {{Column: "table_id", Function: "<", Value: func() {}}}},
	} {
		r := newTestReplica(t, &logRecorder{})
		if err := r.LoadInParts(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestPartSteps: each step asks for its clauses and all before, tables
// no part names come whole at once, and the last step is everything.
func TestPartSteps(t *testing.T) {
	r := newTestReplica(t, &logRecorder{})
	r.log = slog.New(slog.DiscardHandler)
	if err := r.LoadInParts(Part{"Port_Group": {{Column: "name", Function: "==", Value: "a"}}},
		Part{"Logical_Flow": {{Column: "table_id", Function: "<", Value: 3}}}); err != nil {
		t.Fatal(err)
	}
	has := map[string]map[string]bool{"Port_Group": {"name": true}, "Logical_Flow": {"table_id": true}}
	b, err := json.Marshal(r.steps(has))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	want := `[{"Logical_Flow":[false],"Port_Group":[["name","==","a"]]},` +
		`{"Logical_Flow":[["table_id","\u003c",3]],"Port_Group":[["name","==","a"]]},` +
		`{"Logical_Flow":[true],"Port_Group":[true]}]`
	if got != want {
		t.Errorf("steps\n got %s\nwant %s", got, want)
	}
	delete(has["Logical_Flow"], "table_id")
	if s := r.steps(has); s != nil {
		t.Errorf("steps on a server without the column: %v, want one step", s)
	}
}

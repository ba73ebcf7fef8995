package controller

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// logBuffer is a slog handler's output that tests read while the loop
// writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was logged since the last take.
func (b *logBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// loggedLoop is testLoop with its debug log in the returned buffer.
func loggedLoop() (*loop, *logBuffer) {
	b := &logBuffer{}
	l := newLoop(&Controller{log: slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))},
		nil, newChangeLog(), nil)
	return l, b
}

// The SB's echo of claims this chassis made (Port_Binding.chassis set
// to it, and up) compiles nothing again: the chassis state bound the
// ports already, and the lflows were compiled for them in the round of
// the claim. In the benchmark the echo of 50 claims compiled 114 lflows
// again (the ACLs over a port group of every VIF among them) for
// 0.6-1.3 s, on the way of the tunnel flows that came in the same
// round. Nor does a change of this chassis' own Chassis row (its
// registration), which came with the echo. A claim echoed for a port the state does not bind (another
// chassis' claim, a port bound here by an earlier run) still compiles
// what it changes, and the table stays the one a full recompute gives.
func TestClaimEchoCompilesNothing(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	w.sb.put(sbdb.PortGroupTable, &sbdb.PortGroup{UUID: "pg-1_pg1", Name: "1_pg1", Ports: []string{"sw1-p1", "sw1-p3", "sw1-p4"}})
	w.flow("lf-in", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 0, Priority: 50,
		Match: `inport == "sw1-p3"`, Actions: "next;"})
	w.flow("lf-res", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 2, Priority: 70,
		Match: `is_chassis_resident("sw1-p3")`, Actions: "next;"})
	w.flow("lf-acl", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 3, Priority: 80,
		Match: `inport == @pg1 && ip4`, Actions: "next;"})
	l, logs := loggedLoop()
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	w.sb.take()
	same := func(what string) {
		t.Helper()
		want, err := fullTable(w)
		if err != nil {
			t.Fatal(err)
		}
		if got := table(l.desired); !slices.Equal(got, want) {
			t.Fatalf("%s: incremental differs from full recompute:\n%s\nfull:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	recompiled := func() bool { return strings.Contains(logs.take(), "compiling again") }

	// The claims of sw1-p3 and sw1-p4: compiled in their round.
	w.st.LocalPorts["sw1-p3"] = chassis.LocalPort{Name: "sw1-p3", OFPort: 3, Zone: 3}
	w.st.LocalPorts["sw1-p4"] = chassis.LocalPort{Name: "sw1-p4", OFPort: 4, Zone: 4}
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	same("claimed")
	if !recompiled() {
		t.Fatal("the claims compiled nothing: the test sees no compile")
	}
	// Their echo, with up set, and this chassis' Chassis row rewritten
	// (its registration, with another encap): nothing to compile.
	w.sb.put(sbdb.ChassisTable, &sbdb.Chassis{UUID: "ch-hv1", Name: "hv1", Encaps: []string{"encap-2"},
		OtherConfig: map[string]string{"datapath-type": "netdev"}})
	for _, name := range []string{"sw1-p3", "sw1-p4"} {
		pb := w.port(name)
		pb.Chassis, pb.Up = strPtr("ch-hv1"), boolPtr(true)
		w.sb.put(sbdb.PortBindingTable, pb)
	}
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	same("echoed")
	if recompiled() {
		t.Fatal("the echo of the chassis' own claims compiled lflows again")
	}
	// A port this chassis does not bind comes back bound here (an
	// earlier run's claim): its lflows change.
	pb := w.port("sw1-p1")
	delete(w.st.LocalPorts, "sw1-p1")
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	logs.take()
	pb.Chassis = strPtr("ch-hv1")
	w.sb.put(sbdb.PortBindingTable, pb)
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	same("bound here without a claim")
	if !recompiled() {
		t.Fatal("a port bound here that the chassis state does not bind compiled nothing again")
	}
	// The release of a port the state still bound a moment ago.
	delete(w.st.LocalPorts, "sw1-p4")
	pb = w.port("sw1-p4")
	pb.Chassis = nil
	w.sb.put(sbdb.PortBindingTable, pb)
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	same("released")
}

func boolPtr(b bool) *bool { return &b }

// TestMonitorEchoIsNotAChange: the events libovsdb hands over for a new
// connection's monitor reply come after the connection counts as made
// (and the loop may have taken its Full change and loaded the view from
// the cache by then): they are not recorded as changes, while a change
// the server sends after the reply is, and nb_cfg is still followed
// through them.
func TestMonitorEchoIsNotAChange(t *testing.T) {
	tc := cachetest.New(t, sbdb.Schema(), sbdb.FullDatabaseModel, nil)
	l := newChangeLog()
	l.watch(tc)
	release := make(chan struct{})
	tc.AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc: func(table string, m model.Model) { <-release; l.record(table, m) },
		UpdateFunc: func(table string, _, m model.Model) {
			l.record(table, m)
		},
	})
	// The monitor reply: SB_Global and 300 bindings.
	reply := ovsdb.TableUpdates2{sbdb.SBGlobalTable: {"9a1b6b8e-0000-4000-8000-000000000001": &ovsdb.RowUpdate2{
		Initial: &ovsdb.Row{"nb_cfg": 4}}}, sbdb.PortBindingTable: {}}
	const ports = 300
	for i := range ports {
		reply[sbdb.PortBindingTable][fmt.Sprintf("33333333-0000-4000-8000-%012d", i)] = &ovsdb.RowUpdate2{
			Initial: &ovsdb.Row{"logical_port": fmt.Sprint("p", i), "tunnel_key": i + 1}}
	}
	if err := tc.Populate2(reply); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go tc.Run(stop)
	l.setFullCovering() // what connect does once the monitor call returns
	if cs := l.take(); !cs.Full {
		t.Fatal("a new connection is not a Full change")
	}
	// A change right after the reply, while its events are still
	// being handed over.
	changed := "33333333-0000-4000-8000-000000000007"
	if err := tc.Populate2(ovsdb.TableUpdates2{sbdb.PortBindingTable: {changed: &ovsdb.RowUpdate2{
		Modify: &ovsdb.Row{"up": ovsdb.OvsSet{GoSet: []any{true}}}}}}); err != nil {
		t.Fatal(err)
	}
	close(release)
	got := changeSet{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got.merge(l.take())
		if _, ok := got.Tables[sbdb.PortBindingTable][changed]; ok && l.nbCfg() == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change after the reply never came: %s, nb_cfg %d", got.summary(), l.nbCfg())
		}
		time.Sleep(time.Millisecond)
	}
	if got.Full || len(got.Tables) != 1 || len(got.Tables[sbdb.PortBindingTable]) != 1 {
		t.Fatalf("after the Full change: %s, want only the binding changed after the reply", got.summary())
	}
}

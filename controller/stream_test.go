package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// countingSwitch is a real br-int connection that counts the parts and
// the commits of the bundles streamed to it.
type countingSwitch struct {
	*openflow.Conn
	parts, commits int
}

func (s *countingSwitch) OpenBundleStream(ctx context.Context, id uint32) (flowtable.BundleStream, error) {
	b, err := s.OpenBundle(ctx, id)
	if err != nil {
		return nil, err
	}
	return &countingStream{b, s}, nil
}

type countingStream struct {
	*openflow.BundleStream
	s *countingSwitch
}

func (c *countingStream) Add(ctx context.Context, n int, msg func(int) (openflow.Message, error)) error {
	c.s.parts++
	return c.BundleStream.Add(ctx, n, msg)
}

func (c *countingStream) Commit(ctx context.Context, msg func(int) (openflow.Message, error)) error {
	c.s.commits++
	return c.BundleStream.Commit(ctx, msg)
}

// streamWorld is a world with lflows enough for several parts.
func streamWorld() *world {
	w := newWorld()
	w.local("dp1", 1)
	w.local("dp2", 2)
	for i := range 40 {
		dp := fmt.Sprintf("dp%d", 1+i%2)
		w.flow(fmt.Sprintf("%08x-0000-0000-0000-00000000aaaa", i), &sbdb.LogicalFlow{LogicalDatapath: &dp,
			Pipeline: "ingress", TableID: i % 5, Priority: 100 + i, Match: fmt.Sprintf("eth.src == 00:00:00:00:01:%02x", i),
			Actions: "next;"})
	}
	return w
}

// TestFullCompileStreams: a full compile sends its flows to a real
// br-int in parts while it runs, and the round's publish commits them
// as one bundle: br-int then holds exactly the desired table, flows
// the switch held from before and no longer desired gone. A round that
// stops after streaming applies nothing, and a restarted controller
// installs the table.
func TestFullCompileStreams(t *testing.T) {
	o := flowtabletest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A flow an earlier controller left, which the new table replaces.
	c := o.Dial(ctx)
	stale := openflow.NewFlowMod(openflow.FlowAdd, 8, 100)
	stale.Instructions.Apply = []openflow.Action{}
	if err := c.Bundle(ctx, 1, []openflow.Message{stale}); err != nil {
		t.Fatal(err)
	}
	sw := &countingSwitch{Conn: o.Dial(ctx)}
	w := streamWorld()
	rep := &partsReporter{}

	// A round that stops after the compile streamed (as one whose
	// replica went away would): nothing reaches the switch.
	l := testLoop()
	l.feedMin, l.replicaSynced = 8, true
	if err := l.inst.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	l.startStream(ctx, w.st)
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	if err := l.inst.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if sw.parts < 2 {
		t.Fatalf("the compile sent %d parts, want several", sw.parts)
	}
	if got := o.DumpFlows(); !slices.Equal(got, []string{"table=8, priority=100 actions=drop"}) {
		t.Fatalf("an aborted stream changed br-int: %q", got)
	}

	// A restarted controller installs the table in one commit.
	sw.parts, sw.commits = 0, 0
	l = testLoop()
	l.feedMin, l.replicaSynced = 8, true
	if err := l.inst.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	l.startStream(ctx, w.st)
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	if err := l.publish(ctx, w.st, time.Now(), rep); err != nil {
		t.Fatal(err)
	}
	if sw.parts < 2 || sw.commits != 1 {
		t.Fatalf("%d parts and %d commits, want several parts and one commit", sw.parts, sw.commits)
	}
	want := flowLines(l.desired)
	if diff := cmp.Diff(want, o.DumpFlows()); diff != "" {
		t.Fatalf("br-int differs from the desired table (-desired +br-int):\n%s", diff)
	}
	if !slices.Equal(rep.installed, []string{"sw1-p1", "sw2-p2"}) {
		t.Errorf("ports marked installed: %v", rep.installed)
	}
	// Nothing is left to send.
	if st, err := l.inst.Install(ctx, l.desired); err != nil || !st.Empty() {
		t.Fatalf("install after the streamed one: %+v %v", st, err)
	}
}

// flowLines renders d as the switch's dump-flows --no-stats lines.
func flowLines(d *flowtable.Desired) []string {
	var out []string
	for _, f := range d.Flows() {
		fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
		fm.Cookie, fm.Match, fm.Instructions.Apply = f.Cookie, f.Match, f.Actions
		out = append(out, fm.DumpString())
	}
	slices.Sort(out)
	return out
}

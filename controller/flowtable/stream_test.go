package flowtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/openflow"
)

// streamFlow is a random flow among a few keys, so that owners share
// and fight over them: two actions, two cookies, sometimes a group.
func streamFlow(t *testing.T, r *rand.Rand) Flow {
	acts := []string{"resubmit(,9)", "resubmit(,10)", "group:1", "drop"}
	return fl(t, fmt.Sprintf("cookie=0x%d,table=%d,priority=%d,reg15=0x%d actions=%s",
		r.IntN(2), 8+r.IntN(2), 100+10*r.IntN(2), 1+r.IntN(6), acts[r.IntN(len(acts))]))
}

// change makes one random change to d: an owner set, or removed.
func streamChange(t *testing.T, r *rand.Rand, d *Desired) {
	owner := fmt.Sprintf("%c%d", 'a'+rune(r.IntN(3)), r.IntN(4))
	if r.IntN(6) == 0 {
		d.Remove(owner)
		return
	}
	var flows []Flow
	for range 1 + r.IntN(3) {
		flows = append(flows, streamFlow(t, r))
	}
	d.Set(owner, flows)
}

// TestStreamEqualsOneBundle: an install sent in parts while the table
// is built (Stream, Feed..., Install) leaves the switch as one Install
// of the finished table does, in one bundle: a flow that changes after
// it went out (another owner wins it, its owner goes) is changed again
// in a later part, flows that name a group wait for the last part,
// behind the group, and a flow the switch already holds is not sent.
// It holds from an empty switch, from the table of the last install
// and from a restart (a new installer on a switch with flows), and the
// installer's record stays exact: the next Install sends nothing.
func TestStreamEqualsOneBundle(t *testing.T) {
	ctx := context.Background()
	g := Group{ID: 1, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{ID: 0, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(9)}}}}
	parts := 0
	for seed := uint64(1); seed <= 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		sw := newFakeSwitch()
		in := NewInstaller(nil)
		if err := in.Sync(ctx, sw); err != nil {
			t.Fatal(err)
		}
		d := NewDesired(nil)
		d.SetGroups("lb", []Group{g})
		for round := range 3 {
			if round == 2 && seed%2 == 0 {
				// A restart: a new installer and table on the switch as
				// it is.
				in, d = NewInstaller(nil), NewDesired(nil)
				d.SetGroups("lb", []Group{g})
				if err := in.Sync(ctx, sw); err != nil {
					t.Fatal(err)
				}
			}
			before := len(sw.bundles)
			if !in.Stream(d) {
				t.Fatal("the fake switch takes no stream")
			}
			for range 4 + r.IntN(12) {
				streamChange(t, r, d)
				if r.IntN(3) == 0 {
					if err := in.Feed(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := in.Install(ctx, d); err != nil {
				t.Fatalf("seed %d round %d: %v", seed, round, err)
			}
			if diff := cmp.Diff(render(d), flowsOnly(sw.dump())); diff != "" {
				t.Fatalf("seed %d round %d: switch differs from desired (-want +got):\n%s", seed, round, diff)
			}
			if n := len(sw.bundles) - before; n > 1 {
				t.Fatalf("seed %d round %d: %d bundles for one install", seed, round, n)
			}
			if n := len(sw.bundles) - before; n == 1 {
				checkBundle(t, fmt.Sprintf("seed %d round %d", seed, round), sw.bundles[len(sw.bundles)-1])
			}
			if st, err := in.Install(ctx, d); err != nil || !st.Empty() {
				t.Fatalf("seed %d round %d: install after the stream: %+v %v, want nothing to send", seed, round, st, err)
			}
		}
		for _, e := range sw.events {
			if strings.HasPrefix(e, "part") {
				parts++
			}
		}
	}
	if parts < 100 {
		t.Errorf("only %d parts sent in all: the test hardly streams", parts)
	}
}

// checkBundle checks a bundle's order: a flow naming group 1 comes
// after the group's add, if the bundle adds it.
func checkBundle(t *testing.T, what string, msgs []openflow.Message) {
	t.Helper()
	added := -1
	for i, m := range msgs {
		if gm, ok := m.(*openflow.GroupMod); ok && gm.Command == openflow.GroupAdd {
			added = i
		}
	}
	for i, m := range msgs {
		fm, ok := m.(*openflow.FlowMod)
		if !ok || fm.Command == openflow.FlowDeleteStrict || !slices.ContainsFunc(fm.Instructions.Apply, func(a openflow.Action) bool {
			_, ok := a.(*openflow.Group)
			return ok
		}) {
			continue
		}
		if added > i {
			t.Fatalf("%s: message %d names group 1 before its add (message %d)", what, i, added)
		}
	}
}

// TestStreamAbort: a stream that is dropped applies nothing; the
// installer reads the switch again, and the next Install of the table
// sends what it needs in one bundle.
func TestStreamAbort(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	d.Set("a", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)"))
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	in.Stream(d)
	d.Set("a", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,9)"))
	d.Set("b", fls(t, "table=0,priority=100,in_port=2 actions=resubmit(,8)"))
	if err := in.Feed(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := in.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sw.dump(); got != "priority=100,in_port=1 actions=resubmit(,8)" {
		t.Fatalf("after the abort the switch holds %q", got)
	}
	if last := sw.events[len(sw.events)-1]; last != "discard" {
		t.Fatalf("the stream's bundle was not discarded: %v", sw.events)
	}
	st, err := in.Install(ctx, d)
	if err != nil || (st != Stats{Added: 1, Modified: 1}) {
		t.Fatalf("install after the abort: %+v %v, want 1 added and 1 modified", st, err)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

// TestStreamRejectedFlow: a flow the switch refuses in a streamed
// bundle is set aside as in one Install: the rest goes in.
func TestStreamRejectedFlow(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	in.Stream(d)
	d.Set("good", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)"))
	if err := in.Feed(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Set("lb", fls(t, "table=13,priority=100,ip actions=group:9"))
	d.Set("more", fls(t, "table=0,priority=100,in_port=2 actions=resubmit(,8)"))
	st, err := in.Install(ctx, d)
	if err != nil || st.Rejected != 1 {
		t.Fatalf("install: %+v %v, want the group flow rejected and no error", st, err)
	}
	want := "priority=100,in_port=1 actions=resubmit(,8)\npriority=100,in_port=2 actions=resubmit(,8)"
	if got := sw.dump(); got != want {
		t.Fatalf("switch: %q, want the good flows", got)
	}
}

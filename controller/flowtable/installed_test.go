package flowtable

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/openflow"
)

// The installer records what the switch holds beside each desired flow
// (claim.inst, claims.was) instead of in a table of its own. These
// tests walk the paths where the two differ.

// installed syncs a fresh installer with sw and installs d.
func installed(t *testing.T, sw *fakeSwitch, d *Desired) *Installer {
	t.Helper()
	in := NewInstaller(nil)
	if err := in.Sync(context.Background(), sw); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Install(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return in
}

// wantInstall installs d and wants st and the switch equal to d.
func wantInstall(t *testing.T, in *Installer, sw *fakeSwitch, d *Desired, want Stats) {
	t.Helper()
	st, err := in.Install(context.Background(), d)
	if err != nil || st != want {
		t.Fatalf("install: %+v %v, want %+v", st, err, want)
	}
	if diff := cmp.Diff(render(d), flowsOnly(sw.dump())); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

const (
	flowA  = "table=0,priority=100,in_port=1 actions=resubmit(,8)"
	flowA2 = "table=0,priority=100,in_port=1 actions=resubmit(,9)"
	flowB  = "table=65,priority=100,reg15=0x1 actions=output:1"
)

// A flow changed and changed back, or removed and set again, between
// two installs is still what the switch holds: nothing is sent.
func TestInstallerChangedBackSendsNothing(t *testing.T) {
	sw := newFakeSwitch()
	d := NewDesired(nil)
	d.Set("a", fls(t, flowA, flowB))
	in := installed(t, sw, d)
	n := len(sw.bundles)
	d.Set("a", fls(t, flowA2, flowB))
	d.Set("a", fls(t, flowA, flowB))
	d.Remove("a")
	d.Set("b", fls(t, flowB))
	d.Set("a", fls(t, flowA))
	wantInstall(t, in, sw, d, Stats{})
	if len(sw.bundles) != n {
		t.Errorf("%d bundles sent for no change", len(sw.bundles)-n)
	}
	checkShares(t, in, d)
}

// A shared flow whose winner goes is modified to the next owner's
// actions; once the last owner goes it is deleted.
func TestInstallerSharedFlowChangesHands(t *testing.T) {
	sw := newFakeSwitch()
	d := NewDesired(nil)
	d.Set("a", fls(t, flowA))
	d.Set("b", fls(t, flowA2)) // conflicts: "a" wins
	in := installed(t, sw, d)
	d.Remove("a")
	wantInstall(t, in, sw, d, Stats{Modified: 1})
	d.Set("a", fls(t, flowA))
	wantInstall(t, in, sw, d, Stats{Modified: 1})
	d.Remove("b")
	wantInstall(t, in, sw, d, Stats{})
	d.Remove("a")
	wantInstall(t, in, sw, d, Stats{Deleted: 1})
	checkShares(t, in, d)
}

// A flow whose new version the switch refuses keeps its old version on
// the switch; when its owner then goes, the old version is deleted.
func TestInstallerRejectedChangeThenRemoved(t *testing.T) {
	sw := newFakeSwitch()
	d := NewDesired(nil)
	d.Set("a", fls(t, flowA))
	d.Set("b", fls(t, flowB))
	in := installed(t, sw, d)
	// A new cookie: sent as an add, which the installer may set aside.
	d.Set("a", fls(t, "cookie=0x7,table=0,priority=100,in_port=1 actions=group:9"))
	st, err := in.Install(context.Background(), d)
	if err != nil || st.Rejected != 1 || st.Modified != 0 {
		t.Fatalf("install of a flow naming no group: %+v %v", st, err)
	}
	if got := flowsOnly(sw.dump()); got != render(fls2d(t, flowA, flowB)) {
		t.Fatalf("switch after the refusal:\n%s", got)
	}
	d.Remove("a")
	wantInstall(t, in, sw, d, Stats{Deleted: 1})
	checkShares(t, in, d)
}

// fls2d is a desired table of the flows ss, one owner each.
func fls2d(t *testing.T, ss ...string) *Desired {
	d := NewDesired(nil)
	for i, s := range ss {
		d.Set(string(rune('a'+i)), fls(t, s))
	}
	return d
}

// Changes made while the connection was down are sent after the Sync
// of the next connection, compared with what the switch then holds,
// not with what the installer last sent: here another controller
// changed and removed flows meanwhile.
func TestInstallerSyncAfterChanges(t *testing.T) {
	ctx := context.Background()
	sw := newFakeSwitch()
	d := NewDesired(nil)
	d.Set("a", fls(t, flowA))
	d.Set("b", fls(t, flowB))
	in := installed(t, sw, d)
	d.Set("a", fls(t, flowA2))
	d.Set("c", fls(t, "table=9,priority=0 actions=resubmit(,10)"))
	installed(t, sw, fls2d(t, flowA2)) // the other controller leaves only flowA2
	if err := in.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	wantInstall(t, in, sw, d, Stats{Added: 2})
	checkShares(t, in, d)
}

// An installer handed another desired table compares it with what the
// first one recorded as installed, and sends only the difference.
func TestInstallerAnotherDesiredTable(t *testing.T) {
	sw := newFakeSwitch()
	d1 := NewDesired(nil)
	d1.Set("a", fls(t, flowA, flowB))
	in := installed(t, sw, d1)
	d2 := NewDesired(nil)
	d2.Set("x", fls(t, flowA2, "table=9,priority=0 actions=resubmit(,10)"))
	d2.Set("y", fls(t, flowA2))
	wantInstall(t, in, sw, d2, Stats{Added: 1, Modified: 1, Deleted: 1})
	checkShares(t, in, d2)
	d2.Remove("x")
	wantInstall(t, in, sw, d2, Stats{Deleted: 1})
}

// Random small and mass changes to a table of some 6,000 flows (mass
// ones mark every key: claims.allDirty), shared flows among them: after
// every install the switch holds the desired table, and a fresh
// installer finds nothing to change.
func TestInstallerRandomMassChanges(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	pool := manyFlows(700) // owner i's 10 flows match reg14=i
	flowsOf := func() []Flow {
		// Mostly one pool owner's flows, sometimes another's too
		// (shared), sometimes with other actions (a conflict).
		fs := slices.Clone(pool[fmt.Sprintf("owner%d", r.IntN(700))])
		if r.IntN(3) == 0 {
			fs = append(fs, pool[fmt.Sprintf("owner%d", r.IntN(700))][:3]...)
		}
		if r.IntN(5) == 0 {
			fs[0].Actions = []openflow.Action{openflow.ResubmitTable(60)}
		}
		return fs
	}
	sw := newFakeSwitch()
	d := NewDesired(nil)
	in := installed(t, sw, d)
	massChanges := 0
	for step := range 25 {
		switch n := r.IntN(10); {
		case n < 2: // most owners go
			for o := range 700 {
				if r.IntN(10) < 8 {
					d.Remove(fmt.Sprintf("o%d", o))
				}
			}
		case n < 4: // every owner set again
			for o := range 700 {
				d.Set(fmt.Sprintf("o%d", o), flowsOf())
			}
		default:
			for range r.IntN(20) {
				d.Set(fmt.Sprintf("o%d", r.IntN(700)), flowsOf())
			}
		}
		if d.flows.allDirty {
			massChanges++
		}
		if _, err := in.Install(ctx, d); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
			t.Fatalf("step %d: switch differs from desired (-want +got):\n%s", step, diff)
		}
		checkShares(t, in, d)
	}
	if massChanges == 0 {
		t.Fatal("no step changed most of the table")
	}
	fresh := NewInstaller(nil)
	if err := fresh.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Fatalf("fresh installer: %+v %v, want no change", st, err)
	}
}

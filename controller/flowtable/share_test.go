package flowtable

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
)

// checkShares fails unless the desired table records the switch as
// holding exactly d's flows, with d's own strings: no second table, no
// copy of the dump left.
func checkShares(t *testing.T, in *Installer, d *Desired) {
	t.Helper()
	if in.dumped != nil {
		t.Fatalf("installer keeps %d dumped flows after Install", len(in.dumped))
	}
	if len(d.flows.was) != 0 {
		t.Fatalf("%d flows recorded as held with other contents", len(d.flows.was))
	}
	for k, c := range d.flows.keys {
		if !c.inst {
			t.Fatalf("desired flow %s not recorded as installed", renderMatch(k))
		}
	}
}

// After a resync on an unchanged switch, the installed table shares the
// desired table's strings instead of keeping the dump's.
func TestInstallerSharesDesiredStrings(t *testing.T) {
	ctx := context.Background()
	sw := newFakeSwitch()
	d := NewDesired(nil)
	d.Set("a", fls(t,
		"cookie=0xa,table=0,priority=100,in_port=1 actions=set_field:0x1->reg13,resubmit(,8)",
		"cookie=0xa,table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1",
		"table=65,priority=0 actions=drop"))
	d.Set("b", fls(t, "table=65,priority=0 actions=drop", "table=8,priority=50,reg14=0x1,reg15=0x2,metadata=0x1 actions=resubmit(,9)"))
	for range 2 {
		in := NewInstaller(nil)
		if err := in.Sync(ctx, sw); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Install(ctx, d); err != nil {
			t.Fatal(err)
		}
		checkShares(t, in, d)
	}
}

// TestOVSRestartSendsNothing: a fresh installer on a br-int holding a
// sample of every kind of the controller-shaped flows, the physical
// flows of the physical package's golden file that parse, and drop flows
// (OVS echoes some of them in other encodings than the installer sent:
// set_field of tun_metadata in the fewest bytes, an empty apply-actions
// as none) sends nothing, and keeps the desired table's strings.
func TestOVSRestartSendsNothing(t *testing.T) {
	o := flowtabletest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := NewDesired(nil)
	s := newControllerShaped(90_000)
	for i, owner := range s.owners {
		if fs := s.flows[owner]; i%40 == 0 || strings.HasPrefix(owner, "0600") || strings.HasPrefix(owner, "port/") {
			d.Set(owner, fs[:min(3, len(fs))])
		}
	}
	data, err := os.ReadFile("../physical/testdata/sample.golden")
	if err != nil {
		t.Fatal(err)
	}
	var golden []Flow
	for _, l := range strings.Split(string(data), "\n") {
		// The parser lacks push/pop and clone: leave those out.
		if l == "" || l[0] == '#' || strings.Contains(l, "push:") || strings.Contains(l, "clone(") {
			continue
		}
		golden = append(golden, fl(t, strings.ReplaceAll(l, ", ", ",")))
	}
	d.Set("golden", golden)
	in := NewInstaller(nil)
	if err := in.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if st, err := in.Install(ctx, d); err != nil || st.Added != d.Len() || st.Rejected != 0 {
		t.Fatalf("install %d flows: %+v %v", d.Len(), st, err)
	}
	fresh := NewInstaller(nil)
	if err := fresh.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Fatalf("fresh installer on an unchanged switch: %+v %v, want nothing sent", st, err)
	}
	checkShares(t, fresh, d)
	// And the switch holds what the desired table renders.
	want := map[string]bool{}
	for _, f := range d.Flows() {
		want[addMod(f).DumpString()] = true
	}
	got := o.DumpFlows()
	for _, l := range got {
		if !want[l] {
			t.Errorf("br-int has %s, not desired", l)
		}
	}
	if len(got) != len(want) {
		t.Errorf("br-int has %d flows, desired %d", len(got), len(want))
	}
}

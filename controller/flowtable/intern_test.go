package flowtable

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"unsafe"
)

// The units of an lflow on a datapath group (one owner per datapath,
// set one after another, two lflows interleaved as two compile workers
// hand them over) hold one copy of the body they have in common, not
// one per owner, and every flow keeps its own cookie and actions.
func TestOwnersShareEqualBodies(t *testing.T) {
	d := NewDesired(nil)
	const dps = 3000 // more than both generations of recent bodies hold
	for dp := 1; dp <= dps; dp++ {
		d.Set(fmt.Sprintf("a@%d", dp), fls(t, fmt.Sprintf("cookie=0xa,table=8,priority=50,metadata=%#x actions=resubmit(,9)", dp)))
		d.Set(fmt.Sprintf("b@%d", dp), fls(t,
			fmt.Sprintf("cookie=0xb,table=9,priority=50,metadata=%#x actions=resubmit(,10)", dp),
			fmt.Sprintf("cookie=0xb,table=9,priority=40,metadata=%#x actions=set_field:%#x->reg15,resubmit(,10)", dp, dp)))
	}
	strs := map[*byte]bool{}
	for _, c := range d.flows.keys {
		strs[unsafe.StringData(c.val)] = true
	}
	// Two shared bodies, and one per datapath for the flow whose
	// actions name it.
	if want := 2 + dps; len(strs) != want {
		t.Errorf("%d distinct body strings for %d flows, want %d", len(strs), d.Len(), want)
	}
	got := map[string]int{}
	for _, f := range d.Flows() {
		got[fmt.Sprintf("cookie=%#x table=%d priority=%d %v", f.Cookie, f.Table, f.Priority, f.Actions)]++
	}
	for _, want := range []string{"cookie=0xa table=8 priority=50 [resubmit(,9)]", "cookie=0xb table=9 priority=50 [resubmit(,10)]"} {
		if got[want] != dps {
			t.Errorf("%d flows %q, want %d (all: %d kinds)", got[want], want, dps, len(got))
		}
	}
}

// A bundle of thousands of flows builds its flow mods in one place, not
// one flow mod and one buffer per flow: the first install of a large
// table allocates far fewer times than it has flows.
func TestInstallReusesFlowMods(t *testing.T) {
	const n = 5000
	d := NewDesired(nil)
	for i := range n {
		d.Set(fmt.Sprintf("o%d", i), fls(t, fmt.Sprintf("cookie=0xa,table=8,priority=50,metadata=%#x,reg14=0x1 actions=set_field:0x2->reg15,resubmit(,9)", i+1)))
	}
	in := NewInstaller(nil)
	sw := newDiscardSwitch()
	ctx := context.Background()
	if err := in.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, err := in.Install(ctx, d)
	runtime.ReadMemStats(&after)
	if err != nil || st.Added != n {
		t.Fatalf("install: %+v, %v", st, err)
	}
	if allocs := after.Mallocs - before.Mallocs; allocs > n/10 {
		t.Errorf("first install of %d flows allocated %d times", n, allocs)
	}
}

package flowtable

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/ovnd/ovnd/controller/openflow"
)

// manyFlows is n owners of 10 flows each.
func manyFlows(n int) map[string][]Flow {
	out := map[string][]Flow{}
	for o := range n {
		var fs []Flow
		for i := range 10 {
			fs = append(fs, Flow{Table: uint8(8 + i), Priority: 100,
				Match:   openflow.Match{openflow.Reg(14).Exact(uint64(o)), openflow.F("metadata").Exact(1)},
				Actions: []openflow.Action{&openflow.SetField{OXM: openflow.Reg(15).Exact(uint64(i))}, openflow.ResubmitTable(uint8(9 + i))}})
		}
		out[fmt.Sprintf("owner%d", o)] = fs
	}
	return out
}

// BenchmarkFullInstall: 20,000 flows into an empty switch.
func BenchmarkFullInstall(b *testing.B) {
	flows := manyFlows(2000)
	for b.Loop() {
		d := NewDesired(nil)
		for o, fs := range flows {
			d.Set(o, fs)
		}
		in := NewInstaller(nil)
		sw := newFakeSwitch()
		if err := in.Sync(context.Background(), sw); err != nil {
			b.Fatal(err)
		}
		if _, err := in.Install(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneOwnerChange: one owner's 10 flows change among 20,000.
func BenchmarkOneOwnerChange(b *testing.B) {
	flows := manyFlows(2000)
	d := NewDesired(nil)
	for o, fs := range flows {
		d.Set(o, fs)
	}
	in := NewInstaller(nil)
	sw := newFakeSwitch()
	if err := in.Sync(context.Background(), sw); err != nil {
		b.Fatal(err)
	}
	if _, err := in.Install(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	alt := manyFlows(1)["owner0"]
	i := 0
	for b.Loop() {
		if i++; i%2 == 0 {
			d.Set("owner7", flows["owner7"])
		} else {
			d.Set("owner7", alt)
		}
		if _, err := in.Install(context.Background(), d); err != nil {
			b.Fatal(err)
		}
	}
}

// shapedFlows is the controller-shaped table the benchmarks below share:
// about 200,000 flows, as br-int holds for the 10,000-port topology.
var shapedFlows = sync.OnceValue(func() *controllerShaped { return newControllerShaped(200_000) })

// installedShaped returns the shaped table set in a desired table and
// installed by an installer on a switch that keeps nothing.
func installedShaped(b *testing.B) (*Desired, *Installer) {
	b.Helper()
	d := NewDesired(nil)
	shapedFlows().set(d)
	in := NewInstaller(nil)
	if err := in.Sync(context.Background(), newDiscardSwitch()); err != nil {
		b.Fatal(err)
	}
	if _, err := in.Install(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	return d, in
}

// BenchmarkSetShaped: every owner's flows into an empty desired table.
func BenchmarkSetShaped(b *testing.B) {
	s := shapedFlows()
	b.ReportAllocs()
	for b.Loop() {
		s.set(NewDesired(nil))
	}
	b.ReportMetric(float64(s.n), "flows")
}

// BenchmarkRecomputeShaped: every owner sets the flows it already has,
// as a full recompute does, then Install finds nothing to send.
func BenchmarkRecomputeShaped(b *testing.B) {
	s := shapedFlows()
	d, in := installedShaped(b)
	b.ReportAllocs()
	for b.Loop() {
		s.set(d)
		if st, err := in.Install(context.Background(), d); err != nil || !st.Empty() {
			b.Fatalf("install: %+v %v", st, err)
		}
	}
}

// BenchmarkInstallNothingDirty: Install with no change since the last.
func BenchmarkInstallNothingDirty(b *testing.B) {
	d, in := installedShaped(b)
	b.ReportAllocs()
	for b.Loop() {
		if st, err := in.Install(context.Background(), d); err != nil || !st.Empty() {
			b.Fatalf("install: %+v %v", st, err)
		}
	}
}

// BenchmarkInstallOneOwner: one datapath-group lflow (500 flows) changes
// its actions, and Install sends the change.
func BenchmarkInstallOneOwner(b *testing.B) {
	s := shapedFlows()
	d, in := installedShaped(b)
	owner := s.owners[len(s.owners)-1]
	alt := slices.Clone(s.flows[owner])
	for i := range alt {
		alt[i].Actions = []openflow.Action{openflow.ResubmitTable(60)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fs := alt
		if i++; i%2 == 0 {
			fs = s.flows[owner]
		}
		d.Set(owner, fs)
		if st, err := in.Install(context.Background(), d); err != nil || st.Modified != len(fs) {
			b.Fatalf("install: %+v %v", st, err)
		}
	}
}

// BenchmarkHeapPerFlow reports the heap the desired and installed tables
// of the shaped flows hold, per flow, after a garbage collection (the
// flows given to Set are allocated before and kept after, so they are
// not counted), and what the first Install holds per flow as it starts
// sending its bundle of every flow (the installed table and the bundle's
// list; the switch here builds each message and keeps nothing).
func BenchmarkHeapPerFlow(b *testing.B) {
	s := shapedFlows()
	var desired, total, install float64
	for b.Loop() {
		before := heapInUse()
		d := NewDesired(nil)
		s.set(d)
		afterSet := heapInUse()
		in := NewInstaller(nil)
		sw := newDiscardSwitch()
		if err := in.Sync(context.Background(), sw); err != nil {
			b.Fatal(err)
		}
		beforeInstall := heapInUse()
		var sending int64
		sw.onBundle = func() { sending = heapInUse() }
		if _, err := in.Install(context.Background(), d); err != nil {
			b.Fatal(err)
		}
		after := heapInUse()
		desired = float64(afterSet-before) / float64(d.Len())
		total = float64(after-before) / float64(d.Len())
		install = float64(sending-beforeInstall) / float64(d.Len())
		runtime.KeepAlive(d)
		runtime.KeepAlive(in)
	}
	b.ReportMetric(desired, "desired-B/flow")
	b.ReportMetric(total, "desired+installed-B/flow")
	b.ReportMetric(install, "first-install-live-B/flow")
	runtime.KeepAlive(s)
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkResyncShaped: a fresh installer reads back a switch holding
// the shaped flows and finds nothing to send, as after a controller
// restart.
func BenchmarkResyncShaped(b *testing.B) {
	ctx := context.Background()
	d := NewDesired(nil)
	shapedFlows().set(d)
	sw := newFakeSwitch()
	in := NewInstaller(nil)
	if err := in.Sync(ctx, sw); err != nil {
		b.Fatal(err)
	}
	if _, err := in.Install(ctx, d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fresh := NewInstaller(nil)
		if err := fresh.Sync(ctx, sw); err != nil {
			b.Fatal(err)
		}
		if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
			b.Fatalf("install: %+v %v", st, err)
		}
	}
}

package flowtable

import (
	"context"
	"fmt"
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

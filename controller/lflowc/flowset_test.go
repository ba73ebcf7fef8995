package lflowc

import (
	"testing"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// TestFlowSetMergesRepeats adds each of 3,000 matches twice on one
// datapath, then once on a second through the same reused index: the
// first datapath keeps one flow per match with the first actions, a
// repeated clause flow carries both conjunction actions, and the second
// datapath's flows are not merged into the first's.
func TestFlowSetMergesRepeats(t *testing.T) {
	const n = 3000
	spare := newFlowIndex()
	first := []openflow.Action{&openflow.Output{Port: 1}}
	second := []openflow.Action{&openflow.Output{Port: 2}}
	match := func(i int) ofMatch {
		o := openflow.Reg(0).Exact(uint64(i))
		return ofMatch{{o.Field, o.Value, regMask}}
	}
	conj := func(id uint32) []openflow.Action {
		return []openflow.Action{&openflow.Conjunction{ID: id, Clause: 0, NClauses: 2}}
	}
	fs := &flowSet{table: 8, prio: 100, spare: spare}
	for i := range n {
		fs.add(match(i), first, 1)
	}
	fs.addConj(match(n), conj(7))
	for i := range n {
		fs.add(match(i), second, 1)
	}
	fs.addConj(match(n), conj(8))
	if len(fs.flows) != n+1 {
		t.Fatalf("first datapath: %d flows, want %d", len(fs.flows), n+1)
	}
	for i, f := range fs.flows[:n] {
		if len(f.Actions) != 1 || f.Actions[0] != first[0] {
			t.Fatalf("flow %d: actions %v, want the first ones", i, f.Actions)
		}
	}
	if got := fs.flows[n].Actions; len(got) != 2 || got[0].(*openflow.Conjunction).ID != 7 || got[1].(*openflow.Conjunction).ID != 8 {
		t.Fatalf("clause flow: actions %v, want conjunctions 7 and 8", got)
	}
	fs2 := &flowSet{table: 8, prio: 100, flows: fs.flows, start: len(fs.flows), spare: spare}
	for i := range n {
		fs2.add(match(i), second, 1)
		fs2.add(match(i), first, 1)
	}
	if len(fs2.flows) != 2*n+1 {
		t.Fatalf("both datapaths: %d flows, want %d", len(fs2.flows), 2*n+1)
	}
	for i, f := range fs2.flows[n+1:] {
		if f.Actions[0] != second[0] || !sameMatch(f.Match, match(i).openflow()) {
			t.Fatalf("second datapath's flow %d: %v", i, dump([]flowtable.Flow{f}))
		}
	}
}

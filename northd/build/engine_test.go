package build

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sbOf is the SB a result leaves behind, as Build reads it back: tunnel
// keys of datapaths and port bindings.
func sbOf(r *Result) *SB {
	sb := &SB{}
	for _, d := range r.Datapaths {
		sb.Datapaths = append(sb.Datapaths, sbDatapath(d))
	}
	for _, p := range r.Ports {
		sb.PortBindings = append(sb.PortBindings, sbBinding(p))
	}
	return sb
}

// applyDelta is what a consumer of Delta does to the SB: prev with d
// applied, as a new Result (DNS, LBs, Problems and Tags taken from want,
// where Delta only flags or carries them whole).
func applyDelta(t *testing.T, prev *Result, d *Delta, want *Result) *Result {
	r := &Result{Global: prev.Global, DNS: want.DNS, LBs: want.LBs, Problems: d.Problems, Tags: d.Tags}
	if d.Global != nil {
		r.Global = *d.Global
	}
	dps := map[int]Datapath{}
	for _, x := range prev.Datapaths {
		dps[x.Key] = x
	}
	for _, k := range d.DatapathsGone {
		delete(dps, k)
	}
	for _, x := range d.Datapaths {
		dps[x.Key] = x
	}
	pbs := map[string]Port{}
	for _, x := range prev.Ports {
		pbs[x.Name] = x
	}
	for _, n := range d.PortsGone {
		delete(pbs, n)
	}
	for _, x := range d.Ports {
		pbs[x.Name] = x
	}
	type mcID struct {
		dp   int
		name string
	}
	mcs := map[mcID]MCGroup{}
	for _, x := range prev.MCGroups {
		mcs[mcID{x.Datapath, x.Name}] = x
	}
	for _, x := range d.MCGroupsGone {
		delete(mcs, mcID{x.Datapath, x.Name})
	}
	for _, x := range d.MCGroups {
		mcs[mcID{x.Datapath, x.Name}] = x
	}
	sets := func(prev []NamedSet, gone []string, set []NamedSet) []NamedSet {
		m := map[string]NamedSet{}
		for _, x := range prev {
			m[x.Name] = x
		}
		for _, n := range gone {
			delete(m, n)
		}
		for _, x := range set {
			m[x.Name] = x
		}
		out := slices.Collect(mapValues(m))
		sortSets(out)
		return out
	}
	// Flows keyed by their whole stage, independently of flowKey.
	type fullKey struct {
		stage          Stage
		priority       int
		match, actions string
	}
	flows := map[fullKey][]int{}
	for _, f := range prev.Flows {
		flows[fullKey{f.Stage, f.Priority, f.Match, f.Actions}] = f.Datapaths
	}
	for _, f := range d.FlowsGone {
		k := fullKey{f.Stage, f.Priority, f.Match, f.Actions}
		if !slices.Equal(flows[k], f.Datapaths) {
			t.Errorf("delta removes %v on %v, the SB has it on %v", k, f.Datapaths, flows[k])
		}
		delete(flows, k)
	}
	for _, f := range d.Flows {
		k := fullKey{f.Stage, f.Priority, f.Match, f.Actions}
		if _, dup := flows[k]; dup {
			t.Errorf("delta adds %v, already in SB", k)
		}
		flows[k] = f.Datapaths
	}
	r.Datapaths = slices.SortedFunc(mapValues(dps), func(a, b Datapath) int { return cmp.Compare(a.Key, b.Key) })
	r.Ports = slices.Collect(mapValues(pbs))
	r.MCGroups = slices.Collect(mapValues(mcs))
	r.PortGroups = sets(prev.PortGroups, d.PortGroupsGone, d.PortGroups)
	r.AddressSets = sets(prev.AddressSets, d.AddressSetsGone, d.AddressSets)
	for k, dps := range flows {
		r.Flows = append(r.Flows, Flow{k.stage, k.priority, k.match, k.actions, dps})
	}
	slices.SortFunc(r.Flows, compareFlows)
	return r
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// normalize puts r in a canonical form for reflect.DeepEqual: rows
// sorted, empty slices and maps nil.
func normalize(r *Result) *Result {
	c := *r
	c.Ports = slices.Clone(r.Ports)
	slices.SortFunc(c.Ports, func(a, b Port) int { return cmp.Compare(a.Name, b.Name) })
	c.MCGroups = slices.Clone(r.MCGroups)
	slices.SortFunc(c.MCGroups, func(a, b MCGroup) int {
		return cmp.Or(cmp.Compare(a.Datapath, b.Datapath), cmp.Compare(a.Name, b.Name))
	})
	nilSets := func(s []NamedSet) []NamedSet {
		out := slices.Clone(s)
		for i := range out {
			if len(out[i].Members) == 0 {
				out[i].Members = nil
			}
		}
		return out
	}
	c.PortGroups, c.AddressSets = nilSets(r.PortGroups), nilSets(r.AddressSets)
	for _, p := range []*[]string{&c.Problems} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if len(c.Datapaths) == 0 {
		c.Datapaths = nil
	}
	if len(c.Ports) == 0 {
		c.Ports = nil
	}
	if len(c.MCGroups) == 0 {
		c.MCGroups = nil
	}
	if len(c.PortGroups) == 0 {
		c.PortGroups = nil
	}
	if len(c.AddressSets) == 0 {
		c.AddressSets = nil
	}
	if len(c.Flows) == 0 {
		c.Flows = nil
	}
	if len(c.DNS) == 0 {
		c.DNS = nil
	}
	if len(c.LBs) == 0 {
		c.LBs = nil
	}
	return &c
}

// diffResults is "" when a and b are the same SB content, else a diff.
func diffResults(a, b *Result) string {
	if reflect.DeepEqual(normalize(a), normalize(b)) {
		return ""
	}
	return gocmp.Diff(a, b, resultOpts)
}

// resultOpts compares results as SB content: rows in any order, nil and
// empty alike.
var resultOpts = gocmp.Options{
	cmpopts.EquateEmpty(),
	cmpopts.SortSlices(func(a, b Port) bool { return a.Name < b.Name }),
	cmpopts.SortSlices(func(a, b MCGroup) bool {
		return cmp.Or(cmp.Compare(a.Datapath, b.Datapath), cmp.Compare(a.Name, b.Name)) < 0
	}),
}

// TestEngineMatchesBuild runs seeded random change sequences over every
// kind of NB change and checks after each step that the incremental
// result equals a full Build, and that the delta turns the previous
// result into it.
func TestEngineMatchesBuild(t *testing.T) {
	steps := 150
	if testing.Short() {
		steps = 40
	}
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			g := newGen(seed)
			nb := g.initial()
			e := NewEngine(nb, &SB{})
			// par computes its switches all at once, finishing in
			// no particular order: its results must not differ.
			par := NewEngineFanout(nb, &SB{}, concurrently)
			prev := Build(nb, &SB{})
			if diff := diffResults(prev, e.Result()); diff != "" {
				t.Fatalf("initial engine result differs from Build (-build +engine):\n%s", diff)
			}
			if diff := diffResults(prev, par.Result()); diff != "" {
				t.Fatalf("initial concurrent engine result differs from Build (-build +engine):\n%s", diff)
			}
			for step := range steps {
				ch, what := g.mutate(nb)
				d := e.Update(ch)
				dPar := par.Update(ch)
				want := Build(nb, sbOf(prev))
				got := e.Result()
				if diff := diffResults(want, got); diff != "" {
					t.Fatalf("step %d (%s): engine differs from Build (-build +engine):\n%s", step, what, diff)
				}
				if diff := diffResults(want, par.Result()); diff != "" {
					t.Fatalf("step %d (%s): concurrent engine differs from Build (-build +engine):\n%s", step, what, diff)
				}
				if diff := diffResults(want, applyDelta(t, prev, d, want)); diff != "" {
					t.Fatalf("step %d (%s): previous result + delta differs from Build (-build +applied):\n%s", step, what, diff)
				}
				if diff := diffResults(want, applyDelta(t, prev, dPar, want)); diff != "" {
					t.Fatalf("step %d (%s): previous result + concurrent delta differs from Build (-build +applied):\n%s", step, what, diff)
				}
				if t.Failed() {
					t.Fatalf("step %d (%s)", step, what)
				}
				prev = want
			}
		})
	}
}

// concurrently is a Fanout that runs every call in a goroutine of its
// own at once.
func concurrently(n int, work func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { work(i) })
	}
	wg.Wait()
}

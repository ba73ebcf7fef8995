package controller

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// world is a small SB and chassis state the test mutates at random.
type world struct {
	v  *sbView
	st *chassis.State
}

const testChassis = "hv1"

func newWorld() *world {
	v := &sbView{chassis: testChassis, chassisRows: map[string]*sbdb.Chassis{
		"ch-hv1": {UUID: "ch-hv1", Name: "hv1"}, "ch-hv2": {UUID: "ch-hv2", Name: "hv2"}},
		dpKey: map[string]uint32{}, dpGroups: map[string][]uint32{},
		routers: map[uint32]bool{}, ports: map[string]*sbdb.PortBinding{}, portUUID: map[string]*sbdb.PortBinding{},
		mcast: map[mcKey]*sbdb.MulticastGroup{}, addrSets: map[string][]string{}, portGroups: map[string][]string{}}
	st := &chassis.State{Chassis: testChassis, LocalDatapaths: map[string]chassis.LocalDatapath{},
		LocalPorts: map[string]chassis.LocalPort{}, Localnet: map[string]chassis.LocalnetPort{}}
	for d := 1; d <= 3; d++ {
		id := fmt.Sprintf("dp%d", d)
		v.dpKey[id] = uint32(d)
		for p := 1; p <= 4; p++ {
			name := fmt.Sprintf("sw%d-p%d", d, p)
			pb := &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Datapath: id, TunnelKey: p}
			v.ports[name], v.portUUID[pb.UUID] = pb, pb
		}
		v.mcast[mcKey{uint32(d), "_MC_flood"}] = &sbdb.MulticastGroup{UUID: fmt.Sprintf("mc%d", d), Datapath: id, Name: "_MC_flood", TunnelKey: 32768}
	}
	v.dpGroups["grp"] = []uint32{1, 2, 3}
	return &world{v: v, st: st}
}

// lflowTemplates are switch-pipeline lflows over ports, port groups and
// address sets; %d is the switch number.
var lflowTemplates = []struct{ match, actions string }{
	{`inport == "sw%d-p1"`, `next;`},
	{`inport == @pg1 && ip4`, `reg0[0] = 1; next;`},
	{`outport == @pg1 && ip4.src == $as1`, `ct_commit; next;`},
	{`ip4.dst == $as2 && tcp.dst == {80, 443}`, `ct_next;`},
	{`outport == "sw%d-p2"`, `output;`},
	{`eth.dst == 00:00:00:00:00:0%d`, `outport = "sw%d-p3"; output;`},
	{`is_chassis_resident("sw%d-p4")`, `next;`},
	{`eth.mcast`, `outport = "_MC_flood"; output;`},
}

func (w *world) addFlow(r *rand.Rand, id int) {
	t := lflowTemplates[r.IntN(len(lflowTemplates))]
	d := 1 + r.IntN(3)
	sub := func(s string) string {
		if n := strings.Count(s, "%d"); n > 0 {
			args := make([]any, n)
			for i := range args {
				args[i] = d
			}
			return fmt.Sprintf(s, args...)
		}
		return s
	}
	lf := &sbdb.LogicalFlow{UUID: fmt.Sprintf("%08x-0000-0000-0000-000000000000", id), Pipeline: "ingress",
		TableID: r.IntN(5), Priority: 10 * r.IntN(10), Match: sub(t.match), Actions: sub(t.actions)}
	if r.IntN(4) == 0 {
		grp := "grp"
		lf.LogicalDpGroup = &grp
	} else {
		dp := fmt.Sprintf("dp%d", d)
		lf.LogicalDatapath = &dp
	}
	w.v.flows = append(w.v.flows, lf)
}

// mutate makes one random change to the SB or the chassis state.
func (w *world) mutate(r *rand.Rand, next *int) string {
	port := func() string { return fmt.Sprintf("sw%d-p%d", 1+r.IntN(3), 1+r.IntN(4)) }
	switch r.IntN(7) {
	case 0:
		*next++
		w.addFlow(r, *next)
		return "add lflow"
	case 1:
		if len(w.v.flows) > 0 {
			i := r.IntN(len(w.v.flows))
			w.v.flows = slices.Delete(w.v.flows, i, i+1)
		}
		return "delete lflow"
	case 2:
		name := fmt.Sprintf("as%d", 1+r.IntN(2))
		addr := fmt.Sprintf("10.0.0.%d", r.IntN(6))
		if i := slices.Index(w.v.addrSets[name], addr); i >= 0 {
			w.v.addrSets[name] = slices.Delete(slices.Clone(w.v.addrSets[name]), i, i+1)
		} else {
			w.v.addrSets[name] = append(slices.Clone(w.v.addrSets[name]), addr)
		}
		return "address set " + name
	case 3:
		d := 1 + r.IntN(3)
		name := fmt.Sprintf("%d_pg1", d)
		p := fmt.Sprintf("sw%d-p%d", d, 1+r.IntN(4))
		if i := slices.Index(w.v.portGroups[name], p); i >= 0 {
			w.v.portGroups[name] = slices.Delete(slices.Clone(w.v.portGroups[name]), i, i+1)
		} else {
			w.v.portGroups[name] = append(slices.Clone(w.v.portGroups[name]), p)
		}
		return "port group " + name
	case 4:
		// Bind or unbind a port here; its datapath becomes local.
		p := port()
		pb := *w.v.ports[p]
		if pb.Chassis != nil && *pb.Chassis == "ch-hv1" {
			pb.Chassis = nil
		} else {
			c := "ch-hv1"
			pb.Chassis = &c
		}
		w.v.ports[p], w.v.portUUID[pb.UUID] = &pb, &pb
		return "bind " + p
	case 5:
		id := fmt.Sprintf("dp%d", 1+r.IntN(3))
		if _, ok := w.st.LocalDatapaths[id]; ok {
			delete(w.st.LocalDatapaths, id)
		} else {
			w.st.LocalDatapaths[id] = chassis.LocalDatapath{UUID: id, Key: int64(w.v.dpKey[id])}
		}
		return "local datapath " + id
	default:
		if len(w.v.flows) > 0 {
			i := r.IntN(len(w.v.flows))
			lf := *w.v.flows[i]
			lf.Priority++
			w.v.flows[i] = &lf
		}
		return "change lflow"
	}
}

var conjRE = regexp.MustCompile(`conj_id=\d+|conjunction\(\d+`)

// table renders the desired table with conjunction ids blanked: ids
// depend on allocation history, not on what the flows mean.
func table(d *flowtable.Desired) []string {
	var out []string
	for _, f := range d.Flows() {
		acts := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			acts[i] = fmt.Sprint(a)
		}
		s := fmt.Sprintf("table=%d priority=%d %s actions=%s", f.Table, f.Priority, f.Match, strings.Join(acts, ","))
		out = append(out, conjRE.ReplaceAllString(s, "conj#"))
	}
	slices.Sort(out)
	return out
}

func testLoop() *loop {
	return newLoop(&Controller{log: slog.New(slog.DiscardHandler)}, nil, nil)
}

// TestIncrementalEqualsFull applies random SB and chassis changes and
// checks after each that the loop's incrementally maintained logical
// flows equal those of a loop that compiles everything from scratch.
func TestIncrementalEqualsFull(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		w := newWorld()
		w.st.LocalDatapaths["dp1"] = chassis.LocalDatapath{UUID: "dp1", Key: 1}
		next := 0
		for ; next < 12; next++ {
			w.addFlow(r, next)
		}
		inc := testLoop()
		inc.compileLflows(w.v, w.st)
		seen := 0
		for step := 0; step < 40; step++ {
			what := w.mutate(r, &next)
			inc.compileLflows(w.v, w.st)
			full := testLoop()
			full.compileLflows(w.v, w.st)
			got, want := table(inc.desired), table(full.desired)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d (%s): incremental differs from full recompute\nincremental:\n%s\nfull:\n%s",
					seed, step, what, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			seen += len(got)
		}
		if seen == 0 {
			t.Errorf("seed %d: no flows at all; the test exercises nothing", seed)
		}
	}
}

// TestMissingDatapath: a Port_Binding whose datapath the replica does not
// have (a row that raced its datapath's deletion) costs only the flows that
// name it; the rest still compile and the physical flows still build.
func TestMissingDatapath(t *testing.T) {
	w := newWorld()
	w.st.LocalDatapaths["dp1"] = chassis.LocalDatapath{UUID: "dp1", Key: 1}
	orphan := &sbdb.PortBinding{UUID: "pb-orphan", LogicalPort: "orphan", Datapath: "dp-gone", TunnelKey: 9}
	w.v.ports["orphan"], w.v.portUUID[orphan.UUID] = orphan, orphan
	here := "ch-hv1"
	w.v.ports["sw1-p1"].Chassis = &here
	dp := "dp1"
	w.v.flows = []*sbdb.LogicalFlow{
		{UUID: "00000001-0000-0000-0000-000000000000", Pipeline: "ingress", TableID: 0, Priority: 50,
			Match: `inport == "orphan"`, Actions: "next;", LogicalDatapath: &dp},
		{UUID: "00000002-0000-0000-0000-000000000000", Pipeline: "ingress", TableID: 0, Priority: 50,
			Match: `inport == "sw1-p1"`, Actions: "next;", LogicalDatapath: &dp},
	}
	l := testLoop()
	l.compileLflows(w.v, w.st)
	flows := table(l.desired)
	if len(flows) != 1 || !strings.Contains(flows[0], "reg14=0x1") {
		t.Errorf("flows = %q, want only the one for sw1-p1", flows)
	}
	if err := l.physicalFlows(w.v, w.st); err != nil {
		t.Errorf("physical flows: %v", err)
	}
}

package controller

import (
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// A port the chassis manager has just claimed is local and resident to
// the compiler at once, before the SB's Port_Binding.chassis comes back
// with the claim (as ovn-controller sees its own write at once): its
// lflows are compiled in the round of the claim, so that its first
// packets do not wait for the echo. The echo then changes nothing, and
// a release takes the flows away again before the SB says so.
func TestClaimedPortIsLocalBeforeTheEcho(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	w.flow("lf-in", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 0, Priority: 50,
		Match: `inport == "sw1-p3"`, Actions: "next;"})
	w.flow("lf-tag", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 1, Priority: 60,
		Match: "eth.src == 00:00:00:00:00:33", Actions: "next;", Tags: map[string]string{"in_out_port": "sw1-p3"}})
	w.flow("lf-res", &sbdb.LogicalFlow{LogicalDatapath: strPtr("dp1"), Pipeline: "ingress", TableID: 2, Priority: 70,
		Match: `is_chassis_resident("sw1-p3")`, Actions: "next;"})
	l := testLoop()
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	w.sb.take()
	portFlows := func(what string) []string {
		var out []string
		for _, f := range table(l.desired) {
			if strings.Contains(f, "priority=50 ") || strings.Contains(f, "priority=60 ") || strings.Contains(f, "priority=70 ") {
				out = append(out, f)
			}
		}
		want, err := fullTable(w)
		if err != nil {
			t.Fatal(err)
		}
		if got := table(l.desired); !slices.Equal(got, want) {
			t.Fatalf("%s: incremental differs from full recompute:\n%s\nfull:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		return out
	}
	if got := portFlows("not bound"); len(got) != 0 {
		t.Fatalf("flows of a port bound nowhere: %v", got)
	}

	// The claim: the chassis state binds the port; the SB row still
	// names no chassis.
	w.st.LocalPorts["sw1-p3"] = chassis.LocalPort{Name: "sw1-p3", OFPort: 3, Zone: 3}
	if err := l.step(w, changeSet{}); err != nil {
		t.Fatal(err)
	}
	claimed := portFlows("claimed")
	if len(claimed) != 3 {
		t.Fatalf("claimed, not yet echoed: %d of the port's 3 lflows compiled: %v", len(claimed), claimed)
	}

	// The echo changes nothing.
	pb := w.port("sw1-p3")
	pb.Chassis = strPtr("ch-hv1")
	w.sb.put(sbdb.PortBindingTable, pb)
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	if got := portFlows("echoed"); !slices.Equal(got, claimed) {
		t.Fatalf("the echo changed the port's flows: %v, before %v", got, claimed)
	}

	// Released (the interface went) and echoed.
	delete(w.st.LocalPorts, "sw1-p3")
	pb = w.port("sw1-p3")
	pb.Chassis = nil
	w.sb.put(sbdb.PortBindingTable, pb)
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	if got := portFlows("released"); len(got) != 0 {
		t.Fatalf("flows of a released port: %v", got)
	}
}

func strPtr(s string) *string { return &s }

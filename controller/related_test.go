package controller

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// TestRelatedPortTypes: inport/outport lflows of a router's patch ports
// (and localports, vtep ports) compile on every chassis that has the
// datapath, bound or not, as ovn-controller's related ports; another
// chassis's VIF still matches nothing. Without this a router's
// admission, NAT and ARP flows for its ports were never installed.
func TestRelatedPortTypes(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	set := func(name string, f func(pb *sbdb.PortBinding)) {
		pb := w.port(name)
		f(pb)
		w.sb.put(sbdb.PortBindingTable, pb)
	}
	there := "ch-hv2"
	set("sw1-p1", func(pb *sbdb.PortBinding) { pb.Type = "patch" })
	set("sw1-p2", func(pb *sbdb.PortBinding) { pb.Type = "localport" })
	set("sw1-p3", func(pb *sbdb.PortBinding) { pb.Chassis = &there }) // a VIF bound elsewhere
	dp := "dp1"
	for i, p := range []string{"sw1-p1", "sw1-p2", "sw1-p3", "sw1-p4"} {
		w.flow("0000000"+string(rune('1'+i))+"-0000-0000-0000-000000000000", &sbdb.LogicalFlow{
			Pipeline: "ingress", TableID: 0, Priority: 50, Match: `inport == "` + p + `"`, Actions: "next;",
			LogicalDatapath: &dp, Tags: map[string]string{"in_out_port": p}})
	}
	l := testLoop()
	l.pendSB = changeSet{Full: true}
	l.updateView(w.sb, w.st)
	flows := strings.Join(table(l.desired), "\n")
	for _, want := range []string{"reg14=0x1", "reg14=0x2"} {
		if !strings.Contains(flows, want) {
			t.Errorf("no flow with %s (patch, localport):\n%s", want, flows)
		}
	}
	for _, not := range []string{"reg14=0x3", "reg14=0x4"} {
		if strings.Contains(flows, not) {
			t.Errorf("a flow with %s (a VIF not bound here):\n%s", not, flows)
		}
	}
}

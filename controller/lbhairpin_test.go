package controller

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// TestLBHairpinFlows: a load balancer on a local datapath gets its
// hairpin flows (tables 68 and 70), one on another datapath none; they
// go when the load balancer does, and ct_label replaces ct_mark when the
// SB says ct_lb_mark is not in use.
func TestLBHairpinFlows(t *testing.T) {
	w := newWorld()
	w.st.LocalDatapaths["dp1"] = chassis.LocalDatapath{UUID: "dp1", Key: 1}
	tcp := sbdb.LoadBalancerProtocol("tcp")
	w.v.lbs = []*sbdb.LoadBalancer{
		{UUID: "11111111-0000-0000-0000-000000000000", Protocol: &tcp, Datapaths: []string{"dp1"},
			Vips: map[string]string{"10.66.0.200:80": "10.6.0.21:8080"}, Options: map[string]string{"hairpin_orig_tuple": "true"}},
		{UUID: "22222222-0000-0000-0000-000000000000", Protocol: &tcp, Datapaths: []string{"dp2"},
			Vips: map[string]string{"10.77.0.1:80": "10.7.0.1:80"}},
	}
	l := testLoop()
	l.lbHairpinFlows(w.v, w.st)
	flows := strings.Join(table(l.desired), "\n")
	for _, want := range []string{"table=68 priority=100", "nw_src=10.6.0.21", "ct_mark=0x2/0x2", "table=70 priority=100", "nat(src=10.66.0.200)"} {
		if !strings.Contains(flows, want) {
			t.Errorf("no %q in\n%s", want, flows)
		}
	}
	if strings.Contains(flows, "10.7.0.1") {
		t.Errorf("flows for a load balancer on a datapath that is not local:\n%s", flows)
	}

	w.v.global = &sbdb.SBGlobal{Options: map[string]string{"lb_hairpin_use_ct_mark": "false"}}
	l.lbHairpinFlows(w.v, w.st)
	if flows := strings.Join(table(l.desired), "\n"); !strings.Contains(flows, "ct_label=0x2/0x2") || strings.Contains(flows, "ct_mark") {
		t.Errorf("lb_hairpin_use_ct_mark=false, want ct_label:\n%s", flows)
	}

	w.v.lbs = nil
	l.lbHairpinFlows(w.v, w.st)
	if flows := table(l.desired); len(flows) != 0 {
		t.Errorf("load balancer gone, flows left:\n%s", strings.Join(flows, "\n"))
	}
}

package controller

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// TestLBHairpinFlows: a load balancer on a local datapath gets its
// hairpin flows (tables 68 and 70), one on another datapath none; they
// go when the load balancer does, and ct_label replaces ct_mark when the
// SB says ct_lb_mark is not in use. Each change reaches the flows
// through the loop's incremental path.
func TestLBHairpinFlows(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	tcp := sbdb.LoadBalancerProtocol("tcp")
	w.sb.put(sbdb.LoadBalancerTable, &sbdb.LoadBalancer{UUID: "11111111-0000-0000-0000-000000000000", Protocol: &tcp,
		Datapaths: []string{"dp1"}, Vips: map[string]string{"10.66.0.200:80": "10.6.0.21:8080"},
		Options: map[string]string{"hairpin_orig_tuple": "true"}})
	w.sb.put(sbdb.LoadBalancerTable, &sbdb.LoadBalancer{UUID: "22222222-0000-0000-0000-000000000000", Protocol: &tcp,
		Datapaths: []string{"dp2"}, Vips: map[string]string{"10.77.0.1:80": "10.7.0.1:80"}})
	l := testLoop()
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	w.sb.take()
	flows := strings.Join(table(l.desired), "\n")
	for _, want := range []string{"table=68 priority=100", "nw_src=10.6.0.21", "ct_mark=0x2/0x2", "table=70 priority=100", "nat(src=10.66.0.200)"} {
		if !strings.Contains(flows, want) {
			t.Errorf("no %q in\n%s", want, flows)
		}
	}
	if strings.Contains(flows, "10.7.0.1") {
		t.Errorf("flows for a load balancer on a datapath that is not local:\n%s", flows)
	}

	w.sb.put(sbdb.SBGlobalTable, &sbdb.SBGlobal{UUID: "global", Options: map[string]string{"lb_hairpin_use_ct_mark": "false"}})
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	if flows := strings.Join(table(l.desired), "\n"); !strings.Contains(flows, "ct_label=0x2/0x2") || strings.Contains(flows, "ct_mark=0x2/0x2") {
		t.Errorf("lb_hairpin_use_ct_mark=false, want ct_label:\n%s", flows)
	}

	w.local("dp2", 2)
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	if flows := strings.Join(table(l.desired), "\n"); !strings.Contains(flows, "10.7.0.1") {
		t.Errorf("dp2 became local, no flows for its load balancer:\n%s", flows)
	}

	w.sb.del(sbdb.LoadBalancerTable, "11111111-0000-0000-0000-000000000000")
	w.sb.del(sbdb.LoadBalancerTable, "22222222-0000-0000-0000-000000000000")
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	for _, f := range table(l.desired) {
		if strings.HasPrefix(f, "table=68 ") || strings.HasPrefix(f, "table=70 ") {
			t.Errorf("load balancers gone, flow left: %s", f)
		}
	}
}

package lbhairpin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/flowtable"
)

func render(fs []flowtable.Flow) []string {
	var out []string
	for _, f := range fs {
		acts := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			acts[i] = fmt.Sprint(a)
		}
		out = append(out, fmt.Sprintf("table=%d priority=%d cookie=%#x %s actions=%s", f.Table, f.Priority, f.Cookie, f.Match, strings.Join(acts, ",")))
	}
	slices.Sort(out)
	return out
}

// The NAT_LB scenario's load balancer, as ovn-controller 23.03 installs
// it (ovs-ofctl dump-flows on the chassis, via testbed's TestFlowDiff):
//
//	table=68, priority=100,ct_mark=0x2/0x2,tcp,reg1=0xa4200c8,reg2=0x50/0xffff,nw_src=10.6.0.21,nw_dst=10.6.0.21,tp_dst=8080
//	  actions=set_field:0x80/0x80->reg10,learn(table=69,delete_learned,cookie=0xd118dba7,OXM_OF_METADATA[],eth_type=0x800,
//	  NXM_OF_IP_SRC[],ip_dst=10.66.0.200,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])
//	table=70, priority=100,tcp,reg1=0xa4200c8,reg2=0x50/0xffff actions=ct(commit,zone=NXM_NX_REG12[0..15],nat(src=10.66.0.200))
func TestNATLBScenario(t *testing.T) {
	lb := LB{UUID: "d118dba7-0000-4000-8000-000000000001", Protocol: "tcp",
		VIPs:    map[string]string{"10.66.0.200:80": "10.6.0.21:8080,10.6.0.22:8080"},
		Options: map[string]string{"hairpin_orig_tuple": "true"}}
	byOwner, err := Flows([]LB{lb}, Config{UseCTMark: true})
	if err != nil {
		t.Fatal(err)
	}
	got := render(byOwner["lb/"+lb.UUID])
	if len(got) != 3 {
		t.Fatalf("%d flows, want 3:\n%s", len(got), strings.Join(got, "\n"))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"table=68 priority=100 cookie=0xd118dba7",
		"ct_mark=0x2/0x2",
		"reg1=0xa4200c8",
		"reg2=0x50/0xffff",
		"nw_src=10.6.0.21",
		"nw_dst=10.6.0.21",
		"nw_dst=10.6.0.22",
		"actions=set_field:0x80/0x80->reg10,learn(table=69,delete_learned,cookie=0xd118dba7,OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=10.66.0.200,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])",
		"table=70 priority=100 cookie=0xd118dba7",
		"actions=ct(commit,zone=NXM_NX_REG12[0..15],nat(src=10.66.0.200))",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
}

// Without ct_lb_mark the natted bit is read from ct_label; without the
// original tuple in registers, from the connection's; hairpin_snat_ip
// replaces the VIP as the source; IPv6 VIPs use the IPv6 fields.
func TestVariants(t *testing.T) {
	lb := LB{UUID: "00000001-0000-0000-0000-000000000000", Protocol: "udp",
		VIPs:    map[string]string{"10.0.0.1:53": "10.0.1.1:5353", "[fd00::1]:53": "[fd00::2]:53,10.0.1.9:53", "10.0.0.2": "10.0.1.2"},
		Options: map[string]string{"hairpin_snat_ip": "169.254.0.1 fd69::1"}}
	byOwner, err := Flows([]LB{lb}, Config{UseCTMark: false})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(render(byOwner["lb/"+lb.UUID]), "\n")
	for _, want := range []string{
		"ct_label=0x2/0x2",
		"ct_nw_dst=10.0.0.1",
		"ct_tp_dst=53",
		"ip_dst=169.254.0.1",
		"nat(src=169.254.0.1)",
		"NXM_OF_UDP_SRC[]=NXM_OF_UDP_DST[]",
		"ipv6_dst=fd69::1",
		"nat(src=fd69::1)",
		"ct_ipv6_dst=fd00::1",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
	if strings.Contains(all, "10.0.1.9") {
		t.Errorf("an IPv4 backend of an IPv6 VIP got flows:\n%s", all)
	}
	// The portless VIP: no transport match, no transport learn spec.
	for _, l := range strings.Split(all, "\n") {
		if strings.Contains(l, "10.0.1.2") && (strings.Contains(l, "tp_dst") || strings.Contains(l, "UDP")) {
			t.Errorf("portless backend with a transport match: %s", l)
		}
	}
}

// Bad rows cost only their own flows and say why.
func TestBadInput(t *testing.T) {
	lbs := []LB{
		{UUID: "00000002-0000-0000-0000-000000000000", Protocol: "icmp", VIPs: map[string]string{"10.0.0.1:1": "10.0.0.2:1"}},
		{UUID: "00000003-0000-0000-0000-000000000000", VIPs: map[string]string{"not-an-ip:80": "10.0.0.2:1", "10.0.0.3:80": "10.0.0.4:80"}},
		{UUID: "00000004-0000-0000-0000-000000000000", VIPs: map[string]string{"10.0.0.5:80": "10.0.0.6:x"}},
		{UUID: "00000005-0000-0000-0000-000000000000", Options: map[string]string{"hairpin_snat_ip": "nope"}},
		{UUID: "x"},
	}
	byOwner, err := Flows(lbs, Config{UseCTMark: true})
	if err == nil {
		t.Fatal("no error for bad rows")
	}
	for _, s := range []string{"icmp", "not-an-ip", "10.0.0.6:x", "nope"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
	if n := len(byOwner["lb/00000003-0000-0000-0000-000000000000"]); n != 2 {
		t.Errorf("the good VIP of a row with a bad one: %d flows, want 2", n)
	}
}

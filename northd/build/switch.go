package build

import (
	"fmt"
	"net/netip"
	"strings"
)

// staticFlow is a flow every logical switch gets.
type staticFlow struct {
	stage    Stage
	priority int
	match    string
	actions  string
}

const (
	ndMatch     = "nd || nd_ra || nd_rs || mldv1 || mldv2"
	ndMatchLB   = "nd || nd_rs || nd_ra || mldv1 || mldv2"
	ctCommit    = "ct_commit { ct_mark.blocked = 0; }; next;"
	ctCommitLbl = "ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;"
)

// switchStatic is what ovn-northd 23.03 puts on every logical switch
// before looking at its ports, ACLs or load balancers.
var switchStatic = []staticFlow{
	{LSInCheckPortSec, 100, "eth.src[40]", "drop;"},
	{LSInCheckPortSec, 100, "vlan.present", "drop;"},
	{LSInCheckPortSec, 50, "1", "reg0[15] = check_in_port_sec(); next;"},
	{LSInApplyPortSec, 50, "reg0[15] == 1", "drop;"},
	{LSInPreACL, 110, "eth.dst == $svc_monitor_mac", "next;"},
	{LSInPreLB, 110, "eth.dst == $svc_monitor_mac", "next;"},
	{LSInPreLB, 110, "eth.mcast", "next;"},
	{LSInPreLB, 110, ndMatchLB, "next;"},
	{LSInPreLB, 110, "reg0[16] == 1", "next;"},
	{LSInPreStateful, 110, "reg0[2] == 1", "ct_lb_mark;"},
	{LSInPreStateful, 100, "reg0[0] == 1", "ct_next;"},
	{LSInACLAfterLB, 65532, ndMatch, "next;"},
	{LSInStateful, 100, "reg0[1] == 1 && reg0[13] == 0", ctCommit},
	{LSInStateful, 100, "reg0[1] == 1 && reg0[13] == 1", ctCommitLbl},
	{LSInL2Lkup, 110, "eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)", "handle_svc_check(inport);"},
	{LSInL2Lkup, 70, "eth.mcast", `outport = "_MC_flood"; output;`},
	{LSInL2Lkup, 0, "1", "outport = get_fdb(eth.dst); next;"},
	{LSInL2Unknown, 0, "1", "output;"},

	{LSOutPreACL, 110, "eth.src == $svc_monitor_mac", "next;"},
	{LSOutPreLB, 110, "eth.mcast", "next;"},
	{LSOutPreLB, 110, "eth.src == $svc_monitor_mac", "next;"},
	{LSOutPreLB, 110, ndMatchLB, "next;"},
	{LSOutPreLB, 110, "reg0[16] == 1", "next;"},
	{LSOutPreStateful, 110, "reg0[2] == 1", "ct_lb_mark;"},
	{LSOutPreStateful, 100, "reg0[0] == 1", "ct_next;"},
	{LSOutStateful, 100, "reg0[1] == 1 && reg0[13] == 0", ctCommit},
	{LSOutStateful, 100, "reg0[1] == 1 && reg0[13] == 1", ctCommitLbl},
	{LSOutCheckPortSec, 100, "eth.mcast", "reg0[15] = 0; next;"},
	{LSOutCheckPortSec, 0, "1", "reg0[15] = check_out_port_sec(); next;"},
	{LSOutApplyPortSec, 50, "reg0[15] == 1", "drop;"},
	{LSOutApplyPortSec, 0, "1", "output;"},
}

// defaultNext lists the stages whose priority-0 flow is "next;". The
// stages not here end the pipeline at priority 0 on their own terms
// (check_port_sec, l2_lkup, l2_unknown, out_*_port_sec).
var defaultNext = []Stage{
	LSInApplyPortSec, LSInLookupFDB, LSInPutFDB, LSInPreACL, LSInPreLB,
	LSInPreStateful, LSInQoSMark, LSInQoSMeter, LSInLBAffCheck, LSInLB,
	LSInLBAffLearn, LSInPreHairpin, LSInNATHairpin, LSInHairpin,
	LSInACLAfterLB, LSInStateful, LSInARPRsp, LSInDHCPOptions,
	LSInDHCPResponse, LSInDNSLookup, LSInDNSResponse, LSInExternalPort,
	LSOutPreACL, LSOutPreLB, LSOutPreStateful, LSOutQoSMark, LSOutQoSMeter,
	LSOutStateful,
}

// switchFlows builds the logical flows of every switch.
func switchFlows(nb *NB, sws []*lswitch, r *Result) []Flow {
	fs := newFlowSet()
	bad, problems := checkACLs(nb)
	r.Problems = append(r.Problems, problems...)
	for _, sw := range sws {
		sw.flows(nb, fs, bad)
	}
	return fs.flows()
}

// flows adds the logical flows of one switch to fs, leaving out the ACLs
// in bad. They depend on nothing outside the switch but its ports, the
// ACLs that apply to it, and the DHCP options, DNS records, QoS rules and
// load balancers it refers to: the unit of incremental recomputation.
func (sw *lswitch) flows(nb *NB, fs *flowSet, bad map[string]bool) {
	for _, f := range switchStatic {
		fs.add(sw.key, f.stage, f.priority, f.match, f.actions)
	}
	for _, st := range defaultNext {
		fs.add(sw.key, st, 0, "1", "next;")
	}
	vs := vips(sw.switchLBs(nb))
	sw.portFlows(fs, len(vs) > 0)
	sw.unknownFlows(fs)
	if len(vs) > 0 {
		sw.lbFlows(fs, vs)
	}
	stateful := sw.aclFlows(nb, fs, bad, len(vs) > 0)
	sw.dnsFlows(fs, nb, stateful)
	sw.qosFlows(fs, nb)
	for _, p := range sw.ports {
		sw.dhcpFlows(fs, nb, p, stateful)
		sw.dhcp6Flows(fs, nb, p, stateful)
	}
}

// portFlows adds the per-port flows: FDB learning for ports with unknown
// addresses, the ARP responder and L2 lookup for known MACs.
func (sw *lswitch) portFlows(fs *flowSet, hasLB bool) {
	for _, p := range sw.ports {
		in := fmt.Sprintf("inport == %q", p.nb.Name)
		switch p.nb.Type {
		case "localnet":
			sw.localnetFlows(fs, p, in, hasLB)
		case "virtual":
			sw.virtualFlows(fs, p)
		}
		if p.hasUnknown() && p.nb.Type == "" {
			fs.add(sw.key, LSInLookupFDB, 100, in, "reg0[11] = lookup_fdb(inport, eth.src); next;")
			fs.add(sw.key, LSInPutFDB, 100, in+" && reg0[11] == 0", "put_fdb(inport, eth.src); next;")
		}
		if !p.enabled() {
			sw.disabledFlows(fs, p, in)
		}
		for _, a := range p.addrs() {
			if p.enabled() && p.nb.Type != "external" {
				fs.add(sw.key, LSInL2Lkup, 50, "eth.dst == "+a.mac, fmt.Sprintf("outport = %q; output;", p.nb.Name))
			}
			// ovn-northd 23.03 keeps answering ARP and ND for a
			// disabled port's addresses.
			if (p.nb.Type == "" || p.nb.Type == "localport") && !p.hasUnknown() {
				sw.arpFlows(fs, p, a, in)
				sw.ndFlows(fs, a, in)
			}
		}
	}
}

// localnetFlows keeps traffic through a localnet port out of the load
// balancer's conntrack and out of the ARP responder: the physical network
// answers for itself. The egress side depends on the ACLs
// (localnetConntrack).
// ovn-northd 23.03 leaves the pre_lb exemptions out once the switch has a
// load balancer VIP.
func (sw *lswitch) localnetFlows(fs *flowSet, p *lport, in string, hasLB bool) {
	if !hasLB {
		fs.add(sw.key, LSInPreLB, 110, "ip && "+in, "next;")
	}
	fs.add(sw.key, LSInARPRsp, 100, in, "next;")
}

// virtualFlows binds a virtual port to whichever of its virtual parents
// claims the virtual IP by ARP.
func (sw *lswitch) virtualFlows(fs *flowSet, p *lport) {
	vip, err := netip.ParseAddr(p.nb.Options["virtual-ip"])
	if err != nil {
		return
	}
	// The missing space after "||" in the IPv6 form is ovn-northd 23.03's.
	claim := fmt.Sprintf("(arp.op == 1 && arp.spa == %s && arp.tpa == %s) || (arp.op == 2 && arp.spa == %s)", vip, vip, vip)
	if vip.Is6() {
		claim = fmt.Sprintf("(nd_ns && ip6.dst == {%s, %s} && nd.target == %s) ||(nd_na && nd.target == %s)",
			vip, solicitedNode(vip), vip, vip)
	}
	for _, parent := range strings.Split(p.nb.Options["virtual-parents"], ",") {
		if parent = strings.TrimSpace(parent); parent != "" {
			fs.add(sw.key, LSInARPRsp, 100, fmt.Sprintf("inport == %q && (%s)", parent, claim),
				fmt.Sprintf("bind_vport(%q, inport); next;", p.nb.Name))
		}
	}
}

// disabledFlows drops traffic from, to and for the MACs of a port with
// enabled=false.
func (sw *lswitch) disabledFlows(fs *flowSet, p *lport, in string) {
	fs.add(sw.key, LSInCheckPortSec, 100, in, "reg0[15] = 1; next;")
	for _, a := range p.addrs() {
		fs.add(sw.key, LSInL2Lkup, 50, "eth.dst == "+a.mac, "drop;")
	}
	fs.add(sw.key, LSInL2Unknown, 50, fmt.Sprintf("outport == %q", p.nb.Name), "drop;")
}

// arpFlows answers ARP requests for the port's IPv4 addresses, except the
// port's own requests for them.
func (sw *lswitch) arpFlows(fs *flowSet, p *lport, a lportAddrs, in string) {
	for _, ip := range a.ip4 {
		m := fmt.Sprintf("arp.tpa == %s && arp.op == 1", ip)
		fs.add(sw.key, LSInARPRsp, 100, m+" && "+in, "next;")
		fs.add(sw.key, LSInARPRsp, 50, m, strings.Join([]string{
			"eth.dst = eth.src;",
			"eth.src = " + a.mac + ";",
			"arp.op = 2; /* ARP reply */",
			"arp.tha = arp.sha;",
			"arp.sha = " + a.mac + ";",
			"arp.tpa = arp.spa;",
			"arp.spa = " + ip.String() + ";",
			"outport = inport;",
			"flags.loopback = 1;",
			"output;",
		}, " "))
	}
}

// ndFlows answers neighbour solicitations for the port's IPv6 addresses,
// sent to the address or its solicited-node group, except the port's own.
func (sw *lswitch) ndFlows(fs *flowSet, a lportAddrs, in string) {
	for _, ip := range a.ip6 {
		m := fmt.Sprintf("nd_ns && ip6.dst == {%s, %s} && nd.target == %s", ip, solicitedNode(ip), ip)
		fs.add(sw.key, LSInARPRsp, 100, m+" && "+in, "next;")
		fs.add(sw.key, LSInARPRsp, 50, m, fmt.Sprintf(
			"nd_na { eth.src = %s; ip6.src = %s; nd.target = %s; nd.tll = %s; outport = inport; flags.loopback = 1; output; };",
			a.mac, ip, ip, a.mac))
	}
}

// solicitedNode is ip's solicited-node multicast address (RFC 4291).
func solicitedNode(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom16([16]byte{0: 0xff, 1: 0x02, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// unknownFlows sends traffic for MACs nobody owns to _MC_unknown when some
// port accepts unknown addresses, and drops it otherwise.
func (sw *lswitch) unknownFlows(fs *flowSet) {
	act := "drop;"
	for _, p := range sw.ports {
		if p.hasUnknown() && p.enabled() {
			act = `outport = "_MC_unknown"; output;`
			break
		}
	}
	fs.add(sw.key, LSInL2Unknown, 50, `outport == "none"`, act)
}

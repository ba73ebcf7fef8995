package build

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// LB is one SB Load_Balancer: an NB load balancer on the switches that
// use it (directly or through a load balancer group).
type LB struct {
	NBUUID    string
	Name      string
	Protocol  string
	Vips      map[string]string
	Options   map[string]string
	Datapaths []int
}

// vip is one load balancer VIP with backends.
type vip struct {
	ip       netip.Addr
	port     int // 0 when the VIP has no port
	proto    string
	backends string // "" drops (or rejects) new connections
	reject   bool
}

// switchLBs is the load balancers on sw, sorted by UUID.
func (sw *lswitch) switchLBs(nb *NB) []nbdb.LoadBalancer {
	uuids := slices.Clone(sw.nb.LoadBalancer)
	for _, g := range sw.nb.LoadBalancerGroup {
		uuids = append(uuids, nb.LBGroups[g].LoadBalancer...)
	}
	slices.Sort(uuids)
	var lbs []nbdb.LoadBalancer
	for _, u := range slices.Compact(uuids) {
		if lb, ok := nb.LBs[u]; ok {
			lbs = append(lbs, lb)
		}
	}
	return lbs
}

func lbProtocol(lb nbdb.LoadBalancer) string {
	if lb.Protocol != nil && *lb.Protocol != "" {
		return string(*lb.Protocol)
	}
	return "tcp"
}

// vips parses the VIPs of lbs, in a stable order.
func vips(lbs []nbdb.LoadBalancer) []vip {
	var out []vip
	for _, lb := range lbs {
		for k, backends := range lb.Vips {
			ip, port, ok := parseVIP(k)
			if ok {
				out = append(out, vip{ip, port, lbProtocol(lb), strings.ReplaceAll(backends, " ", ""), lb.Options["reject"] == "true"})
			}
		}
	}
	slices.SortFunc(out, func(a, b vip) int {
		return cmp.Or(a.ip.Compare(b.ip), cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto))
	})
	return out
}

// parseVIP parses "IP", "IP:PORT", "IPv6" or "[IPv6]:PORT".
func parseVIP(s string) (netip.Addr, int, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), int(ap.Port()), true
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return ip, 0, err == nil
}

// lbFlows adds the load balancing flows of a switch with VIPs: conntrack
// for all IP traffic, DNAT of new connections to the backends, and
// hairpin handling for a backend that reaches itself through the VIP.
func (sw *lswitch) lbFlows(fs *flowSet, vs []vip) {
	fs.add(sw.key, LSInPreLB, 100, "ip", "reg0[2] = 1; next;")
	fs.add(sw.key, LSOutPreLB, 100, "ip", "reg0[2] = 1; next;")
	for _, v := range vs {
		ipv, reg := "ip4", "reg1"
		if v.ip.Is6() {
			ipv, reg = "ip6", "xxreg1"
		}
		m := fmt.Sprintf("%s.dst == %s", ipv, v.ip)
		save := fmt.Sprintf("%s = %s; ", reg, v.ip)
		prio := 110
		if v.port != 0 {
			m += fmt.Sprintf(" && %s.dst == %d", v.proto, v.port)
			save += "reg2[0..15] = " + strconv.Itoa(v.port) + "; "
			prio = 120
		}
		fs.add(sw.key, LSInPreStateful, 120, "reg0[2] == 1 && "+m, save+"ct_lb_mark;")
		fs.add(sw.key, LSInLB, prio, "ct.new && "+m, v.lbAction())
	}
	fs.add(sw.key, LSInPreHairpin, 100, "ip && ct.trk", "reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;")
	fs.add(sw.key, LSInNATHairpin, 100, "ip && ct.est && ct.trk && reg0[6] == 1", "ct_snat;")
	fs.add(sw.key, LSInNATHairpin, 100, "ip && ct.new && ct.trk && reg0[6] == 1", "ct_snat_to_vip; next;")
	fs.add(sw.key, LSInNATHairpin, 90, "ip && reg0[12] == 1", "ct_snat;")
	fs.add(sw.key, LSInHairpin, 1, "(reg0[6] == 1 || reg0[12] == 1)", "eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;")
}

// lbAction load-balances a new connection to the VIP's backends; a VIP
// without backends drops it or, with options:reject=true, rejects it.
func (v vip) lbAction() string {
	switch {
	case v.backends != "":
		return "reg0[1] = 0; ct_lb_mark(backends=" + v.backends + ");"
	case v.reject:
		return "reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=" + strconv.Itoa(LSOutQoSMark.Table) + ");};"
	default:
		return "drop;"
	}
}

// lbRows maps every NB load balancer on a switch to its SB row.
func lbRows(nb *NB, sws []*lswitch) []LB {
	rows := map[string]*LB{}
	for _, sw := range sws {
		for _, lb := range sw.switchLBs(nb) {
			r := rows[lb.UUID]
			if r == nil {
				opts := copyMap(lb.Options)
				opts["hairpin_orig_tuple"] = "true"
				r = &LB{NBUUID: lb.UUID, Name: lb.Name, Protocol: lbProtocol(lb), Vips: copyMap(lb.Vips), Options: opts}
				rows[lb.UUID] = r
			}
			r.Datapaths = append(r.Datapaths, sw.key)
		}
	}
	var out []LB
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b LB) int { return cmp.Compare(a.NBUUID, b.NBUUID) })
	return out
}

package openflow

import (
	"fmt"
	"strings"
)

// matchPrinter renders a Match in the field order and with the names
// ovs-ofctl uses (lib/match.c match_format): shorthand protocol names such
// as "tcp", registers in numeric order, OpenFlow 1.0 names such as dl_src.
type matchPrinter struct {
	f    map[string]OXM
	regs [16]struct{ v, m uint32 }
	out  []string
}

// String renders m as ovs-ofctl prints a match, without the priority.
func (m Match) String() string { return m.format(-1) }

// format renders m preceded by "priority=N" when priority is not -1 and not
// the OpenFlow default 0x8000.
func (m Match) format(priority int) string {
	p := &matchPrinter{f: map[string]OXM{}}
	for _, o := range m {
		p.f[o.Field.Name] = o
		p.addReg(o)
	}
	if priority >= 0 && priority != 0x8000 {
		p.put(fmt.Sprintf("priority=%d", priority))
	}
	p.meta()
	ethType, proto := p.shorthand()
	p.registers()
	p.tunnel()
	p.generic("metadata", "metadata")
	p.generic("in_port", "in_port")
	p.generic("in_port_oxm", "in_port")
	p.vlan()
	p.generic("eth_src", "dl_src")
	p.generic("eth_dst", "dl_dst")
	if ethType == "" {
		p.generic("eth_type", "dl_type")
	}
	p.l3(proto)
	return strings.Join(p.out, ",")
}

func (p *matchPrinter) put(s string) { p.out = append(p.out, s) }

// generic prints field name as label=value if the match has it.
func (p *matchPrinter) generic(name, label string) {
	if o, ok := p.f[name]; ok {
		p.put(label + "=" + valueString(o))
	}
}

// decimal prints exact values in decimal and masked ones in hex, as
// format_be16_masked does.
func (p *matchPrinter) decimal(name, label string) {
	o, ok := p.f[name]
	if !ok {
		return
	}
	if o.exact() {
		p.put(fmt.Sprintf("%s=%d", label, o.Uint()))
		return
	}
	p.put(label + "=" + hexC(o.Value) + "/" + hexC(o.Mask))
}

func (p *matchPrinter) meta() {
	p.generic("pkt_mark", "pkt_mark")
	p.generic("recirc_id", "recirc_id")
	p.generic("dp_hash", "dp_hash")
	p.generic("conj_id", "conj_id")
	p.generic("actset_output", "actset_output")
	p.generic("ct_state", "ct_state")
	p.decimal("ct_zone", "ct_zone")
	p.generic("ct_mark", "ct_mark")
	p.generic("ct_label", "ct_label")
	for _, n := range []string{"ct_nw_src", "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst"} {
		p.generic(n, n)
	}
	p.decimal("ct_nw_proto", "ct_nw_proto")
	p.decimal("ct_tp_src", "ct_tp_src")
	p.decimal("ct_tp_dst", "ct_tp_dst")
}

var protoShorthand = map[uint64]map[uint64]string{
	0x0800: {1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 132: "sctp"},
	0x86dd: {58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6"},
}

var ethShorthand = map[uint64]string{0x0800: "ip", 0x86dd: "ipv6", 0x0806: "arp", 0x8035: "rarp", 0x8847: "mpls", 0x8848: "mplsm"}

// shorthand prints "tcp", "ip", "arp"... and returns the eth and ip
// protocol names it printed ("" if none).
func (p *matchPrinter) shorthand() (eth, proto string) {
	t, ok := p.f["eth_type"]
	if !ok {
		return "", ""
	}
	eth = ethShorthand[t.Uint()]
	if eth == "" {
		return "", ""
	}
	if ip, ok := p.f["nw_proto"]; ok && ip.exact() {
		if proto = protoShorthand[t.Uint()][ip.Uint()]; proto != "" {
			p.put(proto)
			return eth, proto
		}
	}
	p.put(eth)
	return eth, ""
}

func (p *matchPrinter) addReg(o OXM) {
	var n, k int
	switch {
	case strings.HasPrefix(o.Field.Name, "reg"):
		fmt.Sscanf(o.Field.Name, "reg%d", &n)
		k = 1
	case strings.HasPrefix(o.Field.Name, "xreg"):
		fmt.Sscanf(o.Field.Name, "xreg%d", &n)
		n, k = n*2, 2
	case strings.HasPrefix(o.Field.Name, "xxreg"):
		fmt.Sscanf(o.Field.Name, "xxreg%d", &n)
		n, k = n*4, 4
	default:
		return
	}
	m := o.Mask
	if m == nil {
		m = uintBytes(^uint64(0), len(o.Value))
		if len(o.Value) == 16 {
			m = append(uintBytes(^uint64(0), 8), uintBytes(^uint64(0), 8)...)
		}
	}
	for i := range k {
		if 4*i+4 > len(o.Value) {
			break
		}
		p.regs[n+i].v = be32(o.Value[4*i:])
		p.regs[n+i].m = be32(m[4*i:])
	}
}

func (p *matchPrinter) registers() {
	for i, r := range p.regs {
		switch r.m {
		case 0:
		case 0xffffffff:
			p.put(fmt.Sprintf("reg%d=%s", i, hexU(uint64(r.v))))
		default:
			p.put(fmt.Sprintf("reg%d=%s/%s", i, hexU(uint64(r.v)), hexU(uint64(r.m))))
		}
	}
}

func (p *matchPrinter) tunnel() {
	for _, n := range []string{"tun_id", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_flags"} {
		p.generic(n, n)
	}
	for _, n := range tunMetadataNames {
		p.generic(n, n)
	}
}

var tunMetadataNames = func() (n [64]string) {
	for i := range n {
		n[i] = fmt.Sprintf("tun_metadata%d", i)
	}
	return n
}()

func (p *matchPrinter) vlan() {
	o, ok := p.f["vlan_vid"]
	if !ok {
		return
	}
	v, m := o.Uint(), uint64(0x1fff)
	if o.Mask != nil {
		m = bytesUint(o.Mask)
	}
	if m == 0x1fff && v&0x1000 != 0 {
		p.put(fmt.Sprintf("dl_vlan=%d", v&0xfff))
		return
	}
	p.put(fmt.Sprintf("vlan_tci=0x%04x/0x%04x", v, m))
}

func (p *matchPrinter) l3(proto string) {
	p.generic("ipv6_src", "ipv6_src")
	p.generic("ipv6_dst", "ipv6_dst")
	if o, ok := p.f["ipv6_label"]; ok {
		s := fmt.Sprintf("ipv6_label=0x%05x", o.Uint())
		if !o.exact() {
			s += fmt.Sprintf("/0x%05x", bytesUint(o.Mask))
		}
		p.put(s)
	}
	p.generic("arp_spa", "arp_spa")
	p.generic("arp_tpa", "arp_tpa")
	p.generic("ip_src", "nw_src")
	p.generic("ip_dst", "nw_dst")
	if proto == "" {
		p.decimal("nw_proto", "nw_proto")
	}
	p.decimal("arp_op", "arp_op")
	p.decimal("nw_tos", "nw_tos")
	if o, ok := p.f["ip_dscp"]; ok {
		p.put(fmt.Sprintf("nw_tos=%d", o.Uint()<<2))
	}
	p.decimal("nw_ecn", "nw_ecn")
	p.decimal("nw_ttl", "nw_ttl")
	if o, ok := p.f["ip_frag"]; ok {
		m := uint64(3)
		if o.Mask != nil {
			m = bytesUint(o.Mask)
		}
		p.put("nw_frag=" + fragString(o.Uint(), m))
	}
	p.generic("arp_sha", "arp_sha")
	p.generic("arp_tha", "arp_tha")
	p.decimal("icmp_type", "icmp_type")
	p.decimal("icmp_code", "icmp_code")
	p.decimal("icmpv6_type", "icmp_type")
	p.decimal("icmpv6_code", "icmp_code")
	p.generic("nd_target", "nd_target")
	p.generic("nd_sll", "nd_sll")
	p.generic("nd_tll", "nd_tll")
	for _, l4 := range []string{"tcp", "udp", "sctp"} {
		p.decimal(l4+"_src", "tp_src")
		p.decimal(l4+"_dst", "tp_dst")
	}
	p.generic("tcp_flags", "tcp_flags")
}

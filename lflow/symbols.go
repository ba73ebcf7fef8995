package lflow

import "fmt"

// Symbols is OVN 23.03's logical-flow symbol table: every field, subfield
// and predicate a match or an action may name, with each field's width,
// level of measurement, prerequisites and OpenFlow home.
//
// A field is ordinal exactly when OVS lets its OpenFlow field be masked;
// that makes ip.ttl, ip.dscp, ip.ecn and the ICMP type and code nominal,
// and with them nd, nd_ns and the other predicates built on them.
//
// Logical metadata lives where ovn-architecture(7) puts it: the logical
// input and output ports in reg14 and reg15, logical flags in reg10, the
// logical datapath in metadata (not a symbol). Registers reg0..reg9 and
// their 64- and 128-bit overlays map one-to-one onto the OVS registers.
//
// The flag bit numbers, the ct_mark/ct_label subfield layouts and the
// multicast predicates are those OVN 23.03 installs; ovn-northd(8) names
// them but does not define them. They were checked by giving a real
// ovn-controller 23.03 an ACL per symbol and reading the OpenFlow flows it
// installed.
var Symbols = NewSymtab(symbolList())

func symbolList() []Symbol {
	var s []Symbol
	s = append(s, registers()...)
	s = append(s, metadata()...)
	s = append(s, conntrack()...)
	s = append(s, l2()...)
	s = append(s, l3()...)
	s = append(s, l4()...)
	return append(s, predicates()...)
}

func field(name string, width int, of string, lvl Level, f Format, prereq string) Symbol {
	return Symbol{Name: name, Kind: Field, Width: width, OF: of, Level: lvl, Format: f, Prereq: prereq}
}

func sub(name, parent string, lo, hi int, prereq string) Symbol {
	return Symbol{Name: name, Kind: Subfield, Width: hi - lo + 1, Parent: parent, Lo: lo, Hi: hi, Prereq: prereq}
}

func pred(name, expansion string) Symbol {
	return Symbol{Name: name, Kind: Predicate, Width: 1, Expansion: expansion, Level: Nominal}
}

// registers lays the 32-bit registers over the wide ones the way OVS does
// (and OVN relies on): xxreg0 is reg0..reg3 and xreg0..xreg1 with the
// lowest-numbered register most significant; reg8 and reg9 make xreg4.
// Only the widest registers are Fields, so normalisation sees conflicts
// between, say, reg0 == 1 and xxreg0[96..127] == 2.
func registers() []Symbol {
	s := []Symbol{
		field("xxreg0", 128, "xxreg0", Ordinal, Hexadecimal, ""),
		field("xxreg1", 128, "xxreg1", Ordinal, Hexadecimal, ""),
		field("xreg4", 64, "xreg4", Ordinal, Hexadecimal, ""),
	}
	for i := 0; i < 8; i++ {
		lo := (3 - i%4) * 32
		s = append(s, sub(fmt.Sprintf("reg%d", i), fmt.Sprintf("xxreg%d", i/4), lo, lo+31, ""))
	}
	for i := 0; i < 4; i++ {
		lo := (1 - i%2) * 64
		s = append(s, sub(fmt.Sprintf("xreg%d", i), fmt.Sprintf("xxreg%d", i/2), lo, lo+63, ""))
	}
	return append(s, sub("reg8", "xreg4", 32, 63, ""), sub("reg9", "xreg4", 0, 31, ""))
}

func metadata() []Symbol {
	return []Symbol{
		{Name: "inport", Kind: Field, String: true, OF: "reg14", Level: Nominal},
		{Name: "outport", Kind: Field, String: true, OF: "reg15", Level: Nominal},
		field("flags", 32, "reg10", Ordinal, Hexadecimal, ""),
		sub("flags.loopback", "flags", 0, 0, ""),
		sub("flags.force_snat_for_dnat", "flags", 2, 2, ""),
		sub("flags.force_snat_for_lb", "flags", 3, 3, ""),
		sub("flags.skip_snat_for_lb", "flags", 9, 9, ""),
		sub("flags.use_snat_zone", "flags", 11, 11, ""),
		field("pkt.mark", 32, "pkt_mark", Ordinal, Hexadecimal, ""),
	}
}

func conntrack() []Symbol {
	ro := func(s Symbol) Symbol { s.ReadOnly = true; return s }
	return []Symbol{
		ro(field("ct_state", 32, "ct_state", Ordinal, Hexadecimal, "")),
		ro(sub("ct.new", "ct_state", 0, 0, "ct.trk")),
		ro(sub("ct.est", "ct_state", 1, 1, "ct.trk")),
		ro(sub("ct.rel", "ct_state", 2, 2, "ct.trk")),
		ro(sub("ct.rpl", "ct_state", 3, 3, "ct.trk")),
		ro(sub("ct.inv", "ct_state", 4, 4, "ct.trk")),
		ro(sub("ct.trk", "ct_state", 5, 5, "")),
		ro(sub("ct.snat", "ct_state", 6, 6, "ct.trk")),
		ro(sub("ct.dnat", "ct_state", 7, 7, "ct.trk")),
		field("ct_mark", 32, "ct_mark", Ordinal, Hexadecimal, ""),
		sub("ct_mark.blocked", "ct_mark", 0, 0, ""),
		sub("ct_mark.natted", "ct_mark", 1, 1, ""),
		sub("ct_mark.skip_snat", "ct_mark", 2, 2, ""),
		sub("ct_mark.force_snat", "ct_mark", 3, 3, ""),
		sub("ct_mark.ecmp_reply_port", "ct_mark", 16, 31, ""),
		field("ct_label", 128, "ct_label", Ordinal, Hexadecimal, ""),
		sub("ct_label.blocked", "ct_label", 0, 0, ""),
		sub("ct_label.natted", "ct_label", 1, 1, ""),
		sub("ct_label.skip_snat", "ct_label", 2, 2, ""),
		sub("ct_label.force_snat", "ct_label", 3, 3, ""),
		sub("ct_label.ecmp_reply_eth", "ct_label", 32, 79, ""),
		sub("ct_label.ecmp_reply_port", "ct_label", 80, 95, ""),
		sub("ct_label.label", "ct_label", 96, 127, ""),
	}
}

func l2() []Symbol {
	return []Symbol{
		field("eth.src", 48, "eth_src", Ordinal, Ethernet, ""),
		field("eth.dst", 48, "eth_dst", Ordinal, Ethernet, ""),
		field("eth.type", 16, "eth_type", Nominal, Hexadecimal, ""),
		field("vlan.tci", 16, "vlan_tci", Ordinal, Hexadecimal, ""),
		sub("vlan.vid", "vlan.tci", 0, 11, "vlan.present"),
		sub("vlan.pcp", "vlan.tci", 13, 15, "vlan.present"),
		field("arp.op", 16, "arp_op", Nominal, Decimal, "arp"),
		field("arp.spa", 32, "arp_spa", Ordinal, IPv4, "arp"),
		field("arp.tpa", 32, "arp_tpa", Ordinal, IPv4, "arp"),
		field("arp.sha", 48, "arp_sha", Ordinal, Ethernet, "arp"),
		field("arp.tha", 48, "arp_tha", Ordinal, Ethernet, "arp"),
		field("rarp.op", 16, "arp_op", Nominal, Decimal, "rarp"),
		field("rarp.spa", 32, "arp_spa", Ordinal, IPv4, "rarp"),
		field("rarp.tpa", 32, "arp_tpa", Ordinal, IPv4, "rarp"),
		field("rarp.sha", 48, "arp_sha", Ordinal, Ethernet, "rarp"),
		field("rarp.tha", 48, "arp_tha", Ordinal, Ethernet, "rarp"),
	}
}

func l3() []Symbol {
	return []Symbol{
		field("ip.proto", 8, "nw_proto", Nominal, Decimal, "ip"),
		field("ip.dscp", 6, "ip_dscp", Nominal, Decimal, "ip"),
		field("ip.ecn", 2, "nw_ecn", Nominal, Decimal, "ip"),
		field("ip.ttl", 8, "nw_ttl", Nominal, Decimal, "ip"),
		field("ip.frag", 2, "nw_frag", Ordinal, Decimal, "ip"),
		field("ip4.src", 32, "ip_src", Ordinal, IPv4, "ip4"),
		field("ip4.dst", 32, "ip_dst", Ordinal, IPv4, "ip4"),
		field("ip6.src", 128, "ipv6_src", Ordinal, IPv6, "ip6"),
		field("ip6.dst", 128, "ipv6_dst", Ordinal, IPv6, "ip6"),
		field("ip6.label", 20, "ipv6_label", Ordinal, Hexadecimal, "ip6"),
		field("icmp4.type", 8, "icmp_type", Nominal, Decimal, "icmp4"),
		field("icmp4.code", 8, "icmp_code", Nominal, Decimal, "icmp4"),
		field("icmp6.type", 8, "icmpv6_type", Nominal, Decimal, "icmp6"),
		field("icmp6.code", 8, "icmpv6_code", Nominal, Decimal, "icmp6"),
		field("nd.target", 128, "nd_target", Ordinal, IPv6, "nd"),
		field("nd.sll", 48, "nd_sll", Ordinal, Ethernet, "nd_ns"),
		field("nd.tll", 48, "nd_tll", Ordinal, Ethernet, "nd_na"),
		{Name: "icmp4.frag_mtu", Kind: Field, Width: 16, Format: Decimal, Prereq: "icmp4", ActionOnly: true},
		{Name: "icmp6.frag_mtu", Kind: Field, Width: 32, Format: Decimal, Prereq: "icmp6", ActionOnly: true},
	}
}

func l4() []Symbol {
	return []Symbol{
		field("tcp.src", 16, "tcp_src", Ordinal, Decimal, "tcp"),
		field("tcp.dst", 16, "tcp_dst", Ordinal, Decimal, "tcp"),
		field("tcp.flags", 12, "tcp_flags", Ordinal, Hexadecimal, "tcp"),
		field("udp.src", 16, "udp_src", Ordinal, Decimal, "udp"),
		field("udp.dst", 16, "udp_dst", Ordinal, Decimal, "udp"),
		field("sctp.src", 16, "sctp_src", Ordinal, Decimal, "sctp"),
		field("sctp.dst", 16, "sctp_dst", Ordinal, Decimal, "sctp"),
	}
}

func predicates() []Symbol {
	return []Symbol{
		pred("eth.bcast", "eth.dst == ff:ff:ff:ff:ff:ff"),
		pred("eth.mcast", "eth.dst[40]"),
		pred("eth.mcastv6", "eth.dst[32..47] == 0x3333"),
		pred("vlan.present", "vlan.tci[12]"),
		pred("ip4", "eth.type == 0x800"),
		pred("ip6", "eth.type == 0x86dd"),
		pred("ip", "ip4 || ip6"),
		pred("ip4.src_mcast", "ip4.src[28..31] == 0xe"),
		pred("ip4.mcast", "eth.mcast && ip4.dst[28..31] == 0xe"),
		pred("ip6.mcast", "eth.mcastv6 && ip6.dst[120..127] == 0xff"),
		pred("ip6.mcast_rsvd", "ip6.dst[116..127] == 0xff0 && ip6.dst[0..111] == 0x0"),
		pred("ip6.mcast_all_nodes", "ip6.dst == ff01::1 || ip6.dst == ff02::1"),
		pred("ip6.mcast_all_rtrs", "ip6.dst == ff01::2 || ip6.dst == ff02::2 || ip6.dst == ff05::2"),
		pred("ip6.mcast_sol_node", "ip6.dst == ff02::1:ff00:0/104"),
		pred("ip6.mcast_flood", "eth.mcastv6 && (ip6.mcast_rsvd || ip6.mcast_all_nodes || ip6.mcast_all_rtrs || ip6.mcast_sol_node)"),
		pred("ip.is_frag", "ip.frag[0]"),
		pred("ip.later_frag", "ip.frag[1]"),
		pred("ip.first_frag", "ip.is_frag && !ip.later_frag"),
		pred("arp", "eth.type == 0x806"),
		pred("rarp", "eth.type == 0x8035"),
		pred("icmp4", "ip4 && ip.proto == 1"),
		pred("icmp6", "ip6 && ip.proto == 58"),
		pred("icmp", "icmp4 || icmp6"),
		pred("igmp", "ip4 && ip.proto == 2"),
		pred("mldv1", "ip6.src == fe80::/10 && icmp6.type == {130, 131, 132}"),
		pred("mldv2", "ip6.dst == ff02::16 && icmp6.type == 143"),
		pred("nd", "icmp6.type == {135, 136} && icmp6.code == 0 && ip.ttl == 255"),
		pred("nd_ns", "icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255"),
		pred("nd_na", "icmp6.type == 136 && icmp6.code == 0 && ip.ttl == 255"),
		pred("nd_rs", "icmp6.type == 133 && icmp6.code == 0 && ip.ttl == 255"),
		pred("nd_ra", "icmp6.type == 134 && icmp6.code == 0 && ip.ttl == 255"),
		pred("tcp", "ip.proto == 6"),
		pred("udp", "ip.proto == 17"),
		pred("sctp", "ip.proto == 132"),
	}
}

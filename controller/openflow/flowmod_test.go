package openflow

import (
	"net"
	"net/netip"
	"testing"
)

const fmPrefix = "OFPT_FLOW_MOD (OF1.5) (xid=0x1): "

func mac(s string) []byte {
	b := make([]byte, 6)
	for i := range 6 {
		var v byte
		for _, c := range s[3*i : 3*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func TestFlowModMatches(t *testing.T) {
	for _, tc := range []struct {
		match Match
		want  string
	}{
		{Match{Reg(14).Exact(1), F("metadata").Exact(1), F("eth_src").Bytes(mac("00:00:00:00:00:01"), nil)},
			"reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(6), F("ip_src").Bytes(ip("10.0.0.0"), ip("255.0.0.0")),
			F("tcp_dst").Exact(80), Reg(0).Masked(1, 0xff)}, "tcp,reg0=0x1/0xff,nw_src=10.0.0.0/8,tp_dst=80"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(17), F("udp_src").Exact(68), F("udp_dst").Masked(2, 0xff),
			F("ip_dst").Bytes(ip("255.255.255.255"), nil), F("nw_ttl").Exact(64), F("ip_dscp").Exact(8), F("nw_ecn").Exact(1)},
			"udp,nw_dst=255.255.255.255,nw_tos=32,nw_ecn=1,nw_ttl=64,tp_src=68,tp_dst=0x2/0xff"},
		{Match{F("eth_type").Exact(0x0800), F("ct_state").Masked(0x20, 0x21), F("ct_zone").Exact(5), F("ct_mark").Masked(1, 1),
			F("ct_label").Bytes(uintBytes(1, 16), uintBytes(1, 16))},
			"ct_state=-new+trk,ct_zone=5,ct_mark=0x1/0x1,ct_label=0x1/0x1,ip"},
		// ct_nw_* and ct_tp_* need a valid connection: +trk-inv.
		{Match{F("eth_type").Exact(0x0800), F("ct_state").Masked(0x20, 0x30), F("ct_nw_proto").Exact(6),
			F("ct_nw_src").Bytes(ip("1.1.1.1"), nil), F("ct_nw_dst").Bytes(ip("10.0.0.0"), ip("255.255.0.0")), F("ct_tp_dst").Exact(80)},
			"ct_state=-inv+trk,ct_nw_src=1.1.1.1,ct_nw_dst=10.0.0.0/16,ct_nw_proto=6,ct_tp_dst=80,ip"},
		{Match{F("eth_type").Exact(0x86dd), F("ct_state").Masked(0x20, 0x30), F("ct_ipv6_dst").Bytes(ip("fd00::1"), nil)},
			"ct_state=-inv+trk,ct_ipv6_dst=fd00::1,ipv6"},
		{Match{F("in_port_oxm").Exact(7), F("vlan_vid").Exact(0x1005), F("eth_dst").Bytes(mac("01:00:00:00:00:00"), mac("01:00:00:00:00:00")),
			F("eth_type").Exact(0x88cc)}, "in_port=7,dl_vlan=5,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,dl_type=0x88cc"},
		{Match{F("eth_type").Exact(0x0806), F("arp_op").Exact(1), F("arp_spa").Bytes(ip("1.1.1.1"), nil),
			F("arp_tpa").Bytes(ip("2.2.2.2"), nil), F("arp_sha").Bytes(mac("00:00:00:00:00:01"), nil),
			F("arp_tha").Bytes(mac("00:00:00:00:00:02"), nil)},
			"arp,arp_spa=1.1.1.1,arp_tpa=2.2.2.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:02"},
		{Match{F("eth_type").Exact(0x86dd), F("nw_proto").Exact(58), F("ipv6_src").Bytes(ip("::1"), nil),
			F("ipv6_dst").Bytes(ip("fe80::"), ip("ffff:ffff:ffff:ffff::")), F("icmpv6_type").Exact(135),
			F("icmpv6_code").Exact(0), F("nd_target").Bytes(ip("::3"), nil), F("nd_sll").Bytes(mac("00:00:00:00:00:01"), nil)},
			"icmp6,ipv6_src=::1,ipv6_dst=fe80::/64,icmp_type=135,icmp_code=0,nd_target=::3,nd_sll=00:00:00:00:00:01"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(1), F("icmp_type").Exact(8), F("icmp_code").Exact(0)},
			"icmp,icmp_type=8,icmp_code=0"},
		{Match{F("eth_type").Exact(0x86dd), F("nw_proto").Exact(6), F("tcp_flags").Masked(2, 0x12)},
			"tcp6,tcp_flags=+syn-ack"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(89)}, "ip,nw_proto=89"},
		{Match{F("pkt_mark").Exact(1), F("recirc_id").Exact(2), F("dp_hash").Masked(3, 0xf), F("conj_id").Exact(4),
			F("actset_output").Exact(5)}, "pkt_mark=0x1,recirc_id=0x2,dp_hash=0x3/0xf,conj_id=4,actset_output=5"},
		{Match{F("tun_id").Exact(9), F("tun_src").Bytes(ip("3.3.3.3"), nil), F("tun_dst").Bytes(ip("4.4.4.4"), nil),
			F("tun_flags").Masked(1, 1), TunMetadata(0).Exact(0x1234)},
			"tun_id=0x9,tun_src=3.3.3.3,tun_dst=4.4.4.4,tun_flags=+oam,tun_metadata0=0x1234"},
		{Match{F("xreg3").Exact(5), F("xxreg0").Bytes(uintBytes(7, 16), nil)},
			"reg0=0,reg1=0,reg2=0,reg3=0x7,reg6=0,reg7=0x5"},
		{Match{F("eth_type").Exact(0x0800), F("ct_state").Exact(0x21)}, "ct_state=new|trk,ip"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(6), F("tcp_flags").Exact(0x12)}, "tcp,tcp_flags=syn|ack"},
		{Match{F("eth_type").Exact(0x0800), F("ip_frag").Masked(1, 3)}, "ip,nw_frag=first"},
		{Match{F("eth_type").Exact(0x0800), F("ip_frag").Masked(0, 2)}, "ip,nw_frag=not_later"},
		{Match{F("vlan_vid").Exact(0)}, "vlan_tci=0x0000/0x1fff"},
		{Match{F("vlan_vid").Masked(0x1000, 0x1000)}, "vlan_tci=0x1000/0x1000"},
		{Match{F("eth_type").Exact(0x86dd), F("ipv6_label").Masked(5, 0xff)}, "ipv6,ipv6_label=0x00005/0x000ff"},
		{Match{F("in_port_oxm").Exact(PortLocal), F("metadata").Masked(0x10, 0xff)}, "metadata=0x10/0xff,in_port=LOCAL"},
	} {
		fm := NewFlowMod(FlowAdd, 0, 100)
		fm.Match = tc.match
		want := "ADD priority=100," + tc.want + " actions=drop"
		checkMessage(t, fm, fmPrefix+want)
		if got := fm.String(); got != want {
			t.Errorf("String:\n got %s\nwant %s", got, want)
		}
	}
}

func TestFieldHelpers(t *testing.T) {
	m := Match{F("eth_type").Exact(0x86dd), F("ipv6_src").Prefix(netip.MustParsePrefix("fd00::1/64")),
		F("ipv6_dst").Addr(netip.MustParseAddr("::1")), F("eth_src").MAC(net.HardwareAddr(mac("00:00:00:00:00:01"))),
		F("ip_src").Prefix(netip.MustParsePrefix("10.1.2.3/31"))}
	want := "ipv6,dl_src=00:00:00:00:00:01,ipv6_src=fd00::/64,ipv6_dst=::1,nw_src=10.1.2.2/31"
	if got := m.String(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFlowModHeader(t *testing.T) {
	fm := NewFlowMod(FlowModifyStrict, 8, 0x8000)
	fm.Cookie, fm.CookieMask = 5, 0xff
	fm.IdleTimeout, fm.HardTimeout, fm.Importance = 10, 20, 3
	fm.Flags = FlagSendFlowRem | FlagResetCounts
	fm.Instructions.Apply = []Action{ResubmitTable(9)}
	want := "MOD_STRICT table:8 cookie:0x5/0xff idle:10 hard:20 send_flow_rem reset_counts actions=resubmit(,9)"
	checkMessage(t, fm, fmPrefix+want)
	if got := fm.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	del := NewFlowMod(FlowDelete, TableAll, 0)
	del.OutPort, del.OutGroup = 3, 4
	want = "DEL table:255 priority=0 out_port:3 actions=drop"
	checkMessage(t, del, fmPrefix+want)
	if got := del.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
}

func TestMatchGet(t *testing.T) {
	m := Match{F("xreg0").Masked(5<<32|7, 0xffffffff_0000ffff), F("xxreg1").Bytes(uintBytes(9, 16), nil), F("dl_type").Exact(0x800)}
	for _, tc := range []struct {
		n       int
		v, mask uint32
		ok      bool
	}{{0, 5, 0xffffffff, true}, {1, 7, 0xffff, true}, {7, 9, 0xffffffff, true}, {4, 0, 0xffffffff, true}, {8, 0, 0, false}} {
		v, mask, ok := m.Reg(tc.n)
		if v != tc.v || mask != tc.mask || ok != tc.ok {
			t.Errorf("Reg(%d) = %#x/%#x %v, want %#x/%#x %v", tc.n, v, mask, ok, tc.v, tc.mask, tc.ok)
		}
	}
	if o, ok := m.Get("eth_type"); !ok || o.Uint() != 0x800 {
		t.Errorf("Get(eth_type) = %v %v", o, ok)
	}
	if _, ok := m.Get("ip_src"); ok {
		t.Error("Get(ip_src) found something")
	}
}

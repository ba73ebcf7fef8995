package openflow

import "fmt"

// OXM classes and experimenter ids used by the field table.
const (
	ClassNXM0         = 0x0000 // NXM_OF_*
	ClassNXM1         = 0x0001 // NXM_NX_*
	ClassOpenFlow     = 0x8000 // OXM_OF_*
	ClassPacketReg    = 0x8001 // OXM_OF_PKT_REG*
	ClassExperimenter = 0xffff

	ExperimenterNicira = 0x00002320
	ExperimenterONF    = 0x4f4e4600
)

// Kind says how a field's value reads as text.
type Kind uint8

// Field value kinds, after mf_format in OVS.
const (
	KindHex Kind = iota
	KindDecimal
	KindMAC
	KindIPv4
	KindIPv6
	KindPort
	KindCtState
	KindTunFlags
	KindTCPFlags
)

// Field is one match field: its ovs-fields name, the OXM/NXM header it is
// encoded with, and how its value reads.
type Field struct {
	Name     string // ovs-fields name, e.g. "reg0", "eth_src"
	NXMName  string // name in subfield syntax, e.g. "NXM_NX_REG0"
	Class    uint16
	Exp      uint32 // experimenter id when Class is ClassExperimenter
	Code     uint8
	Width    int // bytes; 0 for the variable-width tun_metadata fields
	Bits     int // significant bits for a whole-field subfield ("REG0[]")
	Maskable bool
	Kind     Kind
}

// fieldDefs is the field table: name, subfield name, class, code, width,
// maskable, kind. Registers and tun_metadata are appended by init.
var fieldDefs = []Field{
	{"in_port", "NXM_OF_IN_PORT", ClassNXM0, 0, 0, 2, 16, false, KindPort},
	{"in_port_oxm", "OXM_OF_IN_PORT", ClassOpenFlow, 0, 0, 4, 32, false, KindPort},
	{"metadata", "OXM_OF_METADATA", ClassOpenFlow, 0, 2, 8, 64, true, KindHex},
	{"eth_dst", "NXM_OF_ETH_DST", ClassOpenFlow, 0, 3, 6, 48, true, KindMAC},
	{"eth_src", "NXM_OF_ETH_SRC", ClassOpenFlow, 0, 4, 6, 48, true, KindMAC},
	{"eth_type", "NXM_OF_ETH_TYPE", ClassOpenFlow, 0, 5, 2, 16, false, KindHex},
	{"vlan_vid", "OXM_OF_VLAN_VID", ClassOpenFlow, 0, 6, 2, 12, true, KindDecimal},
	{"vlan_pcp", "OXM_OF_VLAN_PCP", ClassOpenFlow, 0, 7, 1, 3, false, KindDecimal},
	{"ip_dscp", "OXM_OF_IP_DSCP", ClassOpenFlow, 0, 8, 1, 6, false, KindDecimal},
	{"nw_ecn", "NXM_NX_IP_ECN", ClassOpenFlow, 0, 9, 1, 2, false, KindDecimal},
	{"nw_proto", "NXM_OF_IP_PROTO", ClassOpenFlow, 0, 10, 1, 8, false, KindDecimal},
	{"ip_src", "NXM_OF_IP_SRC", ClassOpenFlow, 0, 11, 4, 32, true, KindIPv4},
	{"ip_dst", "NXM_OF_IP_DST", ClassOpenFlow, 0, 12, 4, 32, true, KindIPv4},
	{"tcp_src", "NXM_OF_TCP_SRC", ClassOpenFlow, 0, 13, 2, 16, true, KindDecimal},
	{"tcp_dst", "NXM_OF_TCP_DST", ClassOpenFlow, 0, 14, 2, 16, true, KindDecimal},
	{"udp_src", "NXM_OF_UDP_SRC", ClassOpenFlow, 0, 15, 2, 16, true, KindDecimal},
	{"udp_dst", "NXM_OF_UDP_DST", ClassOpenFlow, 0, 16, 2, 16, true, KindDecimal},
	{"sctp_src", "OXM_OF_SCTP_SRC", ClassOpenFlow, 0, 17, 2, 16, true, KindDecimal},
	{"sctp_dst", "OXM_OF_SCTP_DST", ClassOpenFlow, 0, 18, 2, 16, true, KindDecimal},
	{"icmp_type", "NXM_OF_ICMP_TYPE", ClassOpenFlow, 0, 19, 1, 8, false, KindDecimal},
	{"icmp_code", "NXM_OF_ICMP_CODE", ClassOpenFlow, 0, 20, 1, 8, false, KindDecimal},
	{"arp_op", "NXM_OF_ARP_OP", ClassOpenFlow, 0, 21, 2, 16, false, KindDecimal},
	{"arp_spa", "NXM_OF_ARP_SPA", ClassOpenFlow, 0, 22, 4, 32, true, KindIPv4},
	{"arp_tpa", "NXM_OF_ARP_TPA", ClassOpenFlow, 0, 23, 4, 32, true, KindIPv4},
	{"arp_sha", "NXM_NX_ARP_SHA", ClassOpenFlow, 0, 24, 6, 48, true, KindMAC},
	{"arp_tha", "NXM_NX_ARP_THA", ClassOpenFlow, 0, 25, 6, 48, true, KindMAC},
	{"ipv6_src", "NXM_NX_IPV6_SRC", ClassOpenFlow, 0, 26, 16, 128, true, KindIPv6},
	{"ipv6_dst", "NXM_NX_IPV6_DST", ClassOpenFlow, 0, 27, 16, 128, true, KindIPv6},
	{"ipv6_label", "NXM_NX_IPV6_LABEL", ClassOpenFlow, 0, 28, 4, 20, true, KindHex},
	{"icmpv6_type", "NXM_NX_ICMPV6_TYPE", ClassOpenFlow, 0, 29, 1, 8, false, KindDecimal},
	{"icmpv6_code", "NXM_NX_ICMPV6_CODE", ClassOpenFlow, 0, 30, 1, 8, false, KindDecimal},
	{"nd_target", "NXM_NX_ND_TARGET", ClassOpenFlow, 0, 31, 16, 128, true, KindIPv6},
	{"nd_sll", "NXM_NX_ND_SLL", ClassOpenFlow, 0, 32, 6, 48, true, KindMAC},
	{"nd_tll", "NXM_NX_ND_TLL", ClassOpenFlow, 0, 33, 6, 48, true, KindMAC},
	{"mpls_label", "OXM_OF_MPLS_LABEL", ClassOpenFlow, 0, 34, 4, 20, false, KindDecimal},
	{"mpls_tc", "OXM_OF_MPLS_TC", ClassOpenFlow, 0, 35, 1, 3, false, KindDecimal},
	{"mpls_bos", "OXM_OF_MPLS_BOS", ClassOpenFlow, 0, 36, 1, 1, false, KindDecimal},
	{"tun_id", "NXM_NX_TUN_ID", ClassOpenFlow, 0, 38, 8, 64, true, KindHex},
	{"tcp_flags", "NXM_NX_TCP_FLAGS", ClassOpenFlow, 0, 42, 2, 12, true, KindTCPFlags},
	{"actset_output", "ONFOXM_ET_ACTSET_OUTPUT", ClassOpenFlow, 0, 43, 4, 32, false, KindPort},
	{"nw_tos", "NXM_OF_IP_TOS", ClassNXM0, 0, 5, 1, 8, false, KindDecimal},
	{"nw_ttl", "NXM_NX_IP_TTL", ClassNXM1, 0, 29, 1, 8, false, KindDecimal},
	{"ip_frag", "NXM_NX_IP_FRAG", ClassNXM1, 0, 26, 1, 2, true, KindHex},
	{"tun_src", "NXM_NX_TUN_IPV4_SRC", ClassNXM1, 0, 31, 4, 32, true, KindIPv4},
	{"tun_dst", "NXM_NX_TUN_IPV4_DST", ClassNXM1, 0, 32, 4, 32, true, KindIPv4},
	{"pkt_mark", "NXM_NX_PKT_MARK", ClassNXM1, 0, 33, 4, 32, true, KindHex},
	{"dp_hash", "NXM_NX_DP_HASH", ClassNXM1, 0, 35, 4, 32, true, KindHex},
	{"recirc_id", "NXM_NX_RECIRC_ID", ClassNXM1, 0, 36, 4, 32, false, KindHex},
	{"conj_id", "NXM_NX_CONJ_ID", ClassNXM1, 0, 37, 4, 32, false, KindDecimal},
	{"tun_flags", "NXM_NX_TUN_FLAGS", ClassNXM1, 0, 104, 2, 1, true, KindTunFlags},
	{"ct_state", "NXM_NX_CT_STATE", ClassNXM1, 0, 105, 4, 32, true, KindCtState},
	{"ct_zone", "NXM_NX_CT_ZONE", ClassNXM1, 0, 106, 2, 16, false, KindHex},
	{"ct_mark", "NXM_NX_CT_MARK", ClassNXM1, 0, 107, 4, 32, true, KindHex},
	{"ct_label", "NXM_NX_CT_LABEL", ClassNXM1, 0, 108, 16, 128, true, KindHex},
	{"tun_ipv6_src", "NXM_NX_TUN_IPV6_SRC", ClassNXM1, 0, 109, 16, 128, true, KindIPv6},
	{"tun_ipv6_dst", "NXM_NX_TUN_IPV6_DST", ClassNXM1, 0, 110, 16, 128, true, KindIPv6},
	{"ct_nw_proto", "NXM_NX_CT_NW_PROTO", ClassNXM1, 0, 119, 1, 8, false, KindDecimal},
	{"ct_nw_src", "NXM_NX_CT_NW_SRC", ClassNXM1, 0, 120, 4, 32, true, KindIPv4},
	{"ct_nw_dst", "NXM_NX_CT_NW_DST", ClassNXM1, 0, 121, 4, 32, true, KindIPv4},
	{"ct_ipv6_src", "NXM_NX_CT_IPV6_SRC", ClassNXM1, 0, 122, 16, 128, true, KindIPv6},
	{"ct_ipv6_dst", "NXM_NX_CT_IPV6_DST", ClassNXM1, 0, 123, 16, 128, true, KindIPv6},
	{"ct_tp_src", "NXM_NX_CT_TP_SRC", ClassNXM1, 0, 124, 2, 16, true, KindDecimal},
	{"ct_tp_dst", "NXM_NX_CT_TP_DST", ClassNXM1, 0, 125, 2, 16, true, KindDecimal},
}

// nxmAliases are the NXM headers that decode to a field encoded as OXM.
var nxmAliases = map[string][2]uint16{
	"eth_dst": {ClassNXM0, 1}, "eth_src": {ClassNXM0, 2}, "eth_type": {ClassNXM0, 3},
	"nw_proto": {ClassNXM0, 6}, "ip_src": {ClassNXM0, 7}, "ip_dst": {ClassNXM0, 8},
	"tcp_src": {ClassNXM0, 9}, "tcp_dst": {ClassNXM0, 10}, "udp_src": {ClassNXM0, 11},
	"udp_dst": {ClassNXM0, 12}, "icmp_type": {ClassNXM0, 13}, "icmp_code": {ClassNXM0, 14},
	"arp_op": {ClassNXM0, 15}, "arp_spa": {ClassNXM0, 16}, "arp_tpa": {ClassNXM0, 17},
	"tun_id": {ClassNXM1, 16}, "arp_sha": {ClassNXM1, 17}, "arp_tha": {ClassNXM1, 18},
	"ipv6_src": {ClassNXM1, 19}, "ipv6_dst": {ClassNXM1, 20}, "icmpv6_type": {ClassNXM1, 21},
	"icmpv6_code": {ClassNXM1, 22}, "nd_target": {ClassNXM1, 23}, "nd_sll": {ClassNXM1, 24},
	"nd_tll": {ClassNXM1, 25}, "ipv6_label": {ClassNXM1, 27}, "nw_ecn": {ClassNXM1, 28},
	"tcp_flags": {ClassNXM1, 34},
}

type fieldKey struct {
	class uint16
	exp   uint32
	code  uint8
}

var (
	fieldsByName    = map[string]*Field{}
	fieldsByNXMName = map[string]*Field{}
	fieldsByKey     = map[fieldKey]*Field{}
)

func init() {
	for i := range 16 {
		fieldDefs = append(fieldDefs, Field{fmt.Sprintf("reg%d", i), fmt.Sprintf("NXM_NX_REG%d", i),
			ClassNXM1, 0, uint8(i), 4, 32, true, KindHex})
	}
	for i := range 8 {
		fieldDefs = append(fieldDefs, Field{fmt.Sprintf("xreg%d", i), fmt.Sprintf("OXM_OF_PKT_REG%d", i),
			ClassPacketReg, 0, uint8(i), 8, 64, true, KindHex})
	}
	for i := range 4 {
		fieldDefs = append(fieldDefs, Field{fmt.Sprintf("xxreg%d", i), fmt.Sprintf("NXM_NX_XXREG%d", i),
			ClassNXM1, 0, uint8(111 + i), 16, 128, true, KindHex})
	}
	for i := range 64 {
		fieldDefs = append(fieldDefs, Field{fmt.Sprintf("tun_metadata%d", i), fmt.Sprintf("NXM_NX_TUN_METADATA%d", i),
			ClassNXM1, 0, uint8(40 + i), 0, 0, true, KindHex})
	}
	for i := range fieldDefs {
		f := &fieldDefs[i]
		fieldsByName[f.Name] = f
		fieldsByNXMName[f.NXMName] = f
		fieldsByKey[fieldKey{f.Class, f.Exp, f.Code}] = f
		if a, ok := nxmAliases[f.Name]; ok {
			fieldsByKey[fieldKey{a[0], 0, uint8(a[1])}] = f
		}
	}
	// OpenFlow 1.3 carried these two as ONF experimenter fields.
	fieldsByKey[fieldKey{ClassExperimenter, ExperimenterONF, 42}] = fieldsByName["tcp_flags"]
	fieldsByKey[fieldKey{ClassExperimenter, ExperimenterONF, 43}] = fieldsByName["actset_output"]
}

// fieldAliases are the other names ovs-fields accepts for a field.
var fieldAliases = map[string]string{
	"dl_src": "eth_src", "dl_dst": "eth_dst", "dl_type": "eth_type", "ip_proto": "nw_proto",
	"nw_src": "ip_src", "nw_dst": "ip_dst", "ip_ecn": "nw_ecn", "nw_frag": "ip_frag",
	"tunnel_id": "tun_id", "tp_src": "tcp_src", "tp_dst": "tcp_dst",
}

// FieldByName returns the field with the given ovs-fields name or alias,
// or nil.
func FieldByName(name string) *Field {
	if a, ok := fieldAliases[name]; ok {
		name = a
	}
	return fieldsByName[name]
}

// F returns the named field and panics if there is none; use it with
// constant names, like regexp.MustCompile.
func F(name string) *Field {
	f := FieldByName(name)
	if f == nil {
		panic("openflow: unknown field " + name)
	}
	return f
}

// Reg returns register field reg<n> (0..15).
func Reg(n int) *Field { return F(fmt.Sprintf("reg%d", n)) }

// TunMetadata returns field tun_metadata<n> (0..63).
func TunMetadata(n int) *Field { return F(fmt.Sprintf("tun_metadata%d", n)) }

// header returns the 32-bit OXM header for a payload of n bytes (value plus
// mask, without the experimenter id).
func (f *Field) header(n int, masked bool) uint32 {
	if f.Class == ClassExperimenter {
		n += 4
	}
	h := uint32(f.Class)<<16 | uint32(f.Code)<<9 | uint32(n)
	if masked {
		h |= 1 << 8
	}
	return h
}

// nbits is the number of bits "FIELD[]" covers.
func (f *Field) nbits(valueLen int) int {
	if f.Bits != 0 {
		return f.Bits
	}
	return valueLen * 8
}

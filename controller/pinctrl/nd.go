package pinctrl

import (
	"encoding/binary"
	"fmt"
)

// ICMPv6 neighbor discovery (RFC 4861).
const (
	icmp6NS    = 135
	icmp6NA    = 136
	ndOptSLL   = 1
	ndOptTLL   = 2
	naRouter   = 0x80000000
	naSolicit  = 0x40000000
	naOverride = 0x20000000
	protoICMP6 = 58
)

// ipv6 splits an Ethernet frame carrying IPv6 into the L2 header, the
// IPv6 header and its payload (extension headers are not walked).
func ipv6(in []byte) (hdr, ip, payload []byte, err error) {
	hdr, typ, rest, err := l2(in)
	if err != nil {
		return nil, nil, nil, err
	}
	if typ != 0x86dd || len(rest) < 40 || rest[0]>>4 != 6 {
		return nil, nil, nil, fmt.Errorf("not an ipv6 packet (ethertype 0x%04x)", typ)
	}
	n := int(binary.BigEndian.Uint16(rest[4:]))
	if 40+n > len(rest) {
		return nil, nil, nil, fmt.Errorf("ipv6 payload length %d beyond the frame", n)
	}
	return hdr, rest[:40], rest[40 : 40+n], nil
}

// buildNDNA is nd_na { }: a neighbor advertisement answering the
// neighbor solicitation in, from the solicited target to the
// solicitor, with the solicited and override flags and the target
// link-layer address option set to the frame's destination MAC; the
// nested actions set the real addresses.
func buildNDNA(in []byte) ([]byte, error) { return buildNA(in, naSolicit|naOverride) }

// buildNDNARouter is nd_na_router { }: nd_na with the router flag.
func buildNDNARouter(in []byte) ([]byte, error) { return buildNA(in, naRouter|naSolicit|naOverride) }

func buildNA(in []byte, flags uint32) ([]byte, error) {
	hdr, ip, icmp, err := ipv6(in)
	if err != nil {
		return nil, err
	}
	if ip[6] != protoICMP6 || len(icmp) < 24 || icmp[0] != icmp6NS {
		return nil, fmt.Errorf("nd_na on a packet that is not a neighbor solicitation")
	}
	dst, src := hdr[6:12], hdr[0:6]
	var body []byte
	body = append(body, icmp6NA, 0, 0, 0)
	body = binary.BigEndian.AppendUint32(body, flags)
	body = append(body, icmp[8:24]...) // target
	body = append(append(body, ndOptTLL, 1), src...)
	return icmp6Frame(hdr, src, dst, icmp[8:24], ip[8:24], body), nil
}

// buildNDNS is nd_ns { }: a neighbor solicitation for the IPv6
// destination of in, from its source, to the solicited-node multicast
// group, with the source link-layer address option.
func buildNDNS(in []byte) ([]byte, error) {
	hdr, ip, _, err := ipv6(in)
	if err != nil {
		return nil, err
	}
	target := ip[24:40]
	group := []byte{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target[13], target[14], target[15]}
	mac := []byte{0x33, 0x33, 0xff, target[13], target[14], target[15]}
	var body []byte
	body = append(body, icmp6NS, 0, 0, 0, 0, 0, 0, 0)
	body = append(body, target...)
	body = append(append(body, ndOptSLL, 1), hdr[6:12]...)
	return icmp6Frame(hdr, hdr[6:12], mac, ip[8:24], group, body), nil
}

// icmp6Frame builds an Ethernet frame (keeping the VLAN tags of hdr)
// carrying an ICMPv6 message with hop limit 255 and its checksum.
func icmp6Frame(hdr, ethSrc, ethDst, src, dst, body []byte) []byte {
	b := make([]byte, 0, len(hdr)+2+40+len(body))
	b = append(append(append(b, ethDst...), ethSrc...), hdr[12:]...)
	b = binary.BigEndian.AppendUint16(b, 0x86dd)
	ipAt := len(b)
	b = append(b, 0x60, 0, 0, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	b = append(b, protoICMP6, 255)
	b = append(append(b, src...), dst...)
	l4 := len(b)
	b = append(b, body...)
	binary.BigEndian.PutUint16(b[l4+2:], l4Checksum(b[ipAt:l4], b[l4:], protoICMP6))
	return b
}

// l4Checksum is the checksum of an IPv6 upper-layer packet over the
// pseudo-header of ip6.
func l4Checksum(ip6, l4 []byte, proto uint32) uint16 {
	var sum uint32
	for i := 8; i < 40; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip6[i:]))
	}
	sum += uint32(len(l4)) + proto
	return inetChecksum(sum, l4)
}

// inetChecksum is the Internet checksum of b, starting from sum.
func inetChecksum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

package pinctrl

import (
	"encoding/binary"
	"fmt"
)

const (
	protoICMP4 = 1
	protoTCP   = 6
	protoUDP   = 17
)

// ipPacket is the part of an IP packet the error and reset builders
// need.
type ipPacket struct {
	ethDst, ethSrc []byte
	tags           []byte // VLAN tags, kept on the answer
	v6             bool
	src, dst       []byte
	tos            byte   // IPv4 ToS, or IPv6 traffic class
	label          uint32 // IPv6 flow label
	proto          byte
	whole          []byte // the IP packet, header included, without frame padding
	l4             []byte // the transport header and payload
	l3Off, l4Off   int    // offsets of the IP and transport headers in the frame
}

func parseIP(in []byte) (ipPacket, error) {
	hdr, typ, rest, err := l2(in)
	if err != nil {
		return ipPacket{}, err
	}
	p := ipPacket{ethDst: hdr[0:6], ethSrc: hdr[6:12], tags: hdr[12:], l3Off: len(hdr) + 2}
	switch {
	case typ == 0x0800 && len(rest) >= 20 && rest[0]>>4 == 4:
		ihl, total := int(rest[0]&0xf)*4, int(binary.BigEndian.Uint16(rest[2:]))
		if ihl < 20 || total < ihl || total > len(rest) {
			return ipPacket{}, fmt.Errorf("ipv4 packet with bad lengths (header %d, total %d)", ihl, total)
		}
		p.src, p.dst, p.tos, p.proto = rest[12:16], rest[16:20], rest[1], rest[9]
		p.whole, p.l4, p.l4Off = rest[:total], rest[ihl:total], p.l3Off+ihl
	case typ == 0x86dd && len(rest) >= 40 && rest[0]>>4 == 6:
		n := int(binary.BigEndian.Uint16(rest[4:]))
		if 40+n > len(rest) {
			return ipPacket{}, fmt.Errorf("ipv6 payload length %d beyond the frame", n)
		}
		vtf := binary.BigEndian.Uint32(rest)
		p.v6, p.src, p.dst, p.proto = true, rest[8:24], rest[24:40], rest[6]
		p.tos, p.label = byte(vtf>>20), vtf&0xfffff
		p.whole, p.l4, p.l4Off = rest[:40+n], rest[40:40+n], p.l3Off+40
	default:
		return ipPacket{}, fmt.Errorf("not an ip packet (ethertype 0x%04x)", typ)
	}
	return p, nil
}

// addrs are the answer's Ethernet and IP addresses: the packet's own,
// or swapped for an answer that goes back where it came from (reject).
func (p ipPacket) addrs(loopback bool) (ethSrc, ethDst, src, dst []byte) {
	if loopback {
		return p.ethDst, p.ethSrc, p.dst, p.src
	}
	return p.ethSrc, p.ethDst, p.src, p.dst
}

// frame builds an Ethernet frame with the packet's VLAN tags around an
// IP header and l4 (whose checksum at csumAt, if >= 0, is filled in).
func (p ipPacket) frame(ethSrc, ethDst, src, dst []byte, proto, ttl, tos byte, l4 []byte, csumAt int) []byte {
	b := append(append(append([]byte(nil), ethDst...), ethSrc...), p.tags...)
	var ip []byte
	if !p.v6 {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip = []byte{0x45, tos, 0, 0, 0, 0, 0x40, 0, ttl, proto, 0, 0}
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		ip = append(append(ip, src...), dst...)
		binary.BigEndian.PutUint16(ip[10:], inetChecksum(0, ip))
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		ip = binary.BigEndian.AppendUint32(nil, 6<<28|uint32(tos)<<20|p.label)
		ip = binary.BigEndian.AppendUint16(ip, uint16(len(l4)))
		ip = append(append(append(ip, proto, ttl), src...), dst...)
	}
	l4 = append([]byte(nil), l4...)
	if csumAt >= 0 {
		binary.BigEndian.PutUint16(l4[csumAt:], 0)
		switch {
		case proto == protoICMP4:
			binary.BigEndian.PutUint16(l4[csumAt:], inetChecksum(0, l4))
		case p.v6:
			binary.BigEndian.PutUint16(l4[csumAt:], l4Checksum(ip, l4, uint32(proto)))
		default:
			binary.BigEndian.PutUint16(l4[csumAt:], l4Checksum4(ip, l4, uint32(proto)))
		}
	}
	return append(append(b, ip...), l4...)
}

// l4Checksum4 is the checksum of an IPv4 upper-layer packet over the
// pseudo-header of ip4.
func l4Checksum4(ip4, l4 []byte, proto uint32) uint16 {
	var sum uint32
	for i := 12; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip4[i:]))
	}
	sum += uint32(len(l4)) + proto
	return inetChecksum(sum, l4)
}

// icmpBuilder is icmp4 { } / icmp6 { } (and, with setCode false,
// icmp4_error / icmp6_error): a destination unreachable error (code 1,
// or port unreachable for UDP when setCode) quoting as much of the packet
// as fits in 576 bytes (IPv4) or the IPv6 minimum MTU, hop limit 255;
// loopback (reject) sends it back to the packet's source.
func icmpBuilder(setCode, loopback bool) builder {
	return func(in []byte) ([]byte, error) {
		p, err := parseIP(in)
		if err != nil {
			return nil, fmt.Errorf("icmp action: %w", err)
		}
		ethSrc, ethDst, src, dst := p.addrs(loopback)
		quote := p.whole
		if !p.v6 {
			code := byte(1)
			if setCode && p.proto == protoUDP {
				code = 3
			}
			if room := 576 - (14 + 20 + 8); len(quote) > room {
				quote = quote[:room]
			}
			l4 := append([]byte{3, code, 0, 0, 0, 0, 0, 0}, quote...)
			return p.frame(ethSrc, ethDst, src, dst, protoICMP4, 255, p.tos, l4, 2), nil
		}
		code := byte(1)
		if setCode && p.proto == protoUDP {
			code = 4
		}
		if room := 1280 - (14 + 40 + 8); len(quote) > room {
			quote = quote[:room]
		}
		l4 := append([]byte{1, code, 0, 0, 0, 0, 0, 0}, quote...)
		return p.frame(ethSrc, ethDst, src, dst, protoICMP6, 255, p.tos, l4, 2), nil
	}
}

// tcpResetBuilder is tcp_reset { }: a RST+ACK acknowledging the
// segment's sequence number plus one, from its destination port to its
// source port, TTL 63; loopback (reject) sends it back.
func tcpResetBuilder(loopback bool) builder {
	return func(in []byte) ([]byte, error) {
		p, err := parseIP(in)
		if err != nil {
			return nil, fmt.Errorf("tcp_reset: %w", err)
		}
		if p.proto != protoTCP || len(p.l4) < 20 {
			return nil, fmt.Errorf("tcp_reset on a packet that is not tcp (protocol %d)", p.proto)
		}
		ethSrc, ethDst, src, dst := p.addrs(loopback)
		th := make([]byte, 20)
		copy(th[0:2], p.l4[2:4])
		copy(th[2:4], p.l4[0:2])
		binary.BigEndian.PutUint32(th[8:], binary.BigEndian.Uint32(p.l4[4:])+1)
		th[12], th[13] = 5<<4, 0x14 // data offset 5; RST, ACK
		tos := byte(0xc0)           // DSCP CS6
		if p.v6 {
			tos = 0
		}
		return p.frame(ethSrc, ethDst, src, dst, protoTCP, 63, tos, th, 16), nil
	}
}

// buildReject is reject { }: a TCP reset for TCP, an ABORT for SCTP,
// otherwise an ICMP port or host unreachable, sent back to the packet's
// source.
func buildReject(in []byte) ([]byte, error) {
	p, err := parseIP(in)
	if err != nil {
		return nil, fmt.Errorf("reject: %w", err)
	}
	switch p.proto {
	case protoTCP:
		return tcpResetBuilder(true)(in)
	case protoSCTP:
		return sctpAbortBuilder(true)(in)
	}
	return icmpBuilder(true, true)(in)
}

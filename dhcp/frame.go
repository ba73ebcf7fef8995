package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors the reply functions return. Each wraps more detail.
var (
	// ErrMalformed: the frame is not a well-formed DHCP request over UDP.
	ErrMalformed = errors.New("malformed dhcp request")
	// ErrNoReply: the request is valid but gets no answer
	// (DHCPRELEASE, DHCPDECLINE, or a message type the server ignores).
	ErrNoReply = errors.New("dhcp request needs no reply")
	// ErrBadOptions: the options from the logical flow cannot be encoded.
	ErrBadOptions = errors.New("bad dhcp options from the logical flow")
)

const (
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	protoUDP      = 17
	udpHeaderLen  = 8
	ipv6HeaderLen = 40
)

// frame locates the headers of a UDP packet in an Ethernet frame.
type frame struct {
	b    []byte
	l3   int // offset of the IP header
	l4   int // offset of the UDP header
	end  int // end of the UDP datagram (frame padding excluded)
	ipv6 bool
}

// parseFrame finds the IPv4 or IPv6 and UDP headers of b, skipping VLAN
// tags. want6 selects the IP version expected.
func parseFrame(b []byte, want6 bool) (frame, error) {
	off := 12
	for {
		if len(b) < off+2 {
			return frame{}, fmt.Errorf("%w: short ethernet header", ErrMalformed)
		}
		t := binary.BigEndian.Uint16(b[off:])
		if t == etherTypeVLAN || t == etherTypeQinQ {
			off += 4
			continue
		}
		f := frame{b: b, l3: off + 2}
		switch {
		case t == etherTypeIPv4 && !want6:
			return f, f.parseIPv4()
		case t == etherTypeIPv6 && want6:
			f.ipv6 = true
			return f, f.parseIPv6()
		}
		return frame{}, fmt.Errorf("%w: ethertype 0x%04x", ErrMalformed, t)
	}
}

func (f *frame) parseIPv4() error {
	b := f.b[f.l3:]
	if len(b) < 20 || b[0]>>4 != 4 {
		return fmt.Errorf("%w: bad ipv4 header", ErrMalformed)
	}
	ihl := int(b[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < 20 || total < ihl || total > len(b) {
		return fmt.Errorf("%w: bad ipv4 lengths", ErrMalformed)
	}
	if b[9] != protoUDP {
		return fmt.Errorf("%w: ip protocol %d is not udp", ErrMalformed, b[9])
	}
	f.l4, f.end = f.l3+ihl, f.l3+total
	return f.checkUDP()
}

func (f *frame) parseIPv6() error {
	b := f.b[f.l3:]
	if len(b) < ipv6HeaderLen || b[0]>>4 != 6 {
		return fmt.Errorf("%w: bad ipv6 header", ErrMalformed)
	}
	if b[6] != protoUDP {
		return fmt.Errorf("%w: ipv6 next header %d is not udp", ErrMalformed, b[6])
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if ipv6HeaderLen+plen > len(b) {
		return fmt.Errorf("%w: ipv6 payload length %d beyond the frame", ErrMalformed, plen)
	}
	f.l4, f.end = f.l3+ipv6HeaderLen, f.l3+ipv6HeaderLen+plen
	return f.checkUDP()
}

func (f *frame) checkUDP() error {
	if f.end-f.l4 < udpHeaderLen {
		return fmt.Errorf("%w: short udp header", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint16(f.b[f.l4+4:]))
	if n < udpHeaderLen || f.l4+n > f.end {
		return fmt.Errorf("%w: bad udp length %d", ErrMalformed, n)
	}
	f.end = f.l4 + n
	return nil
}

// payload is the UDP payload.
func (f frame) payload() []byte { return f.b[f.l4+udpHeaderLen : f.end] }

// checksum is the Internet checksum of b, folded, starting from sum.
func checksum(sum uint32, b []byte) uint16 {
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

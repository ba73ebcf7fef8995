package pinctrl

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/openflow"
)

var (
	macA = []byte{0x0a, 0, 0, 0, 1, 1}
	macB = []byte{0x0a, 0, 0, 0, 2, 2}
)

// ipFrame builds a frame from macA to macB carrying l4 over IPv4 or
// IPv6 from 10.0.0.1 / fd00::1 to 10.0.0.2 / fd00::2.
func ipFrame(v6 bool, proto byte, l4 []byte) []byte {
	p := ipPacket{v6: v6}
	if v6 {
		return p.frame(macA, macB, netip.MustParseAddr("fd00::1").AsSlice(), netip.MustParseAddr("fd00::2").AsSlice(),
			proto, 64, 0, l4, -1)
	}
	return p.frame(macA, macB, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, proto, 64, 0x10, l4, -1)
}

// tcpSYN is a SYN from port 40000 to 80 with sequence number 1000.
func tcpSYN() []byte {
	th := make([]byte, 20)
	binary.BigEndian.PutUint16(th[0:], 40000)
	binary.BigEndian.PutUint16(th[2:], 80)
	binary.BigEndian.PutUint32(th[4:], 1000)
	th[12], th[13] = 5<<4, 0x02
	return th
}

func udpDatagram(n int) []byte {
	u := make([]byte, 8+n)
	binary.BigEndian.PutUint16(u[0:], 5000)
	binary.BigEndian.PutUint16(u[2:], 53)
	binary.BigEndian.PutUint16(u[4:], uint16(8+n))
	return u
}

// checksumOK verifies the IP header and transport checksums of a built
// frame.
func checksumOK(t *testing.T, b []byte) ipPacket {
	t.Helper()
	p, err := parseIP(b)
	if err != nil {
		t.Fatal(err)
	}
	ip := b[p.l3Off:p.l4Off]
	switch {
	case !p.v6 && inetChecksum(0, ip) != 0:
		t.Error("bad ipv4 header checksum")
	case p.v6 && l4Checksum(ip, p.l4, uint32(p.proto)) != 0:
		t.Error("bad transport checksum")
	case !p.v6 && p.proto == protoICMP4 && inetChecksum(0, p.l4) != 0:
		t.Error("bad icmp checksum")
	case !p.v6 && p.proto == protoTCP && l4Checksum4(ip, p.l4, protoTCP) != 0:
		t.Error("bad tcp checksum")
	}
	return p
}

func TestNestedPackets(t *testing.T) {
	udp4 := ipFrame(false, protoUDP, udpDatagram(10))
	udp6 := ipFrame(true, protoUDP, udpDatagram(10))
	big4 := ipFrame(false, protoUDP, udpDatagram(1400))
	syn4, syn6 := ipFrame(false, protoTCP, tcpSYN()), ipFrame(true, protoTCP, tcpSYN())
	for _, c := range []struct {
		name   string
		action string
		in     []byte
		// want: proto, first bytes of l4, ip src/dst, eth src/dst (as
		// "a" or "b"), length of l4
		proto    byte
		l4Prefix []byte
		src, dst string
		ethDst   []byte
		l4Len    int
	}{
		{"icmp4 port unreachable", "icmp4 { eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; next; };", udp4,
			protoICMP4, []byte{3, 3}, "10.0.0.1", "10.0.0.2", macB, 8 + 20 + 18},
		{"icmp4_error host unreachable", "icmp4_error { ip4.dst = ip4.src; ip4.src = 10.0.0.254; ip.ttl = 254; next; };", udp4,
			protoICMP4, []byte{3, 1}, "10.0.0.1", "10.0.0.2", macB, 8 + 20 + 18},
		{"icmp4 quote fits in 576 bytes", "icmp4 { next; };", big4,
			protoICMP4, []byte{3, 3}, "10.0.0.1", "10.0.0.2", macB, 576 - 14 - 20},
		{"icmp6", "icmp6 { eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; next; };", udp6,
			protoICMP6, []byte{1, 4}, "fd00::1", "fd00::2", macB, 8 + 40 + 18},
		{"tcp_reset", "tcp_reset { eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };", syn4,
			protoTCP, []byte{0, 80, 0x9c, 0x40, 0, 0, 0, 0, 0, 0, 0x03, 0xe9, 0x50, 0x14}, "10.0.0.1", "10.0.0.2", macB, 20},
		{"reject tcp goes back", "reject { next; };", syn6,
			protoTCP, []byte{0, 80, 0x9c, 0x40}, "fd00::2", "fd00::1", macA, 20},
		{"reject udp goes back", "reject { next; };", udp4,
			protoICMP4, []byte{3, 3}, "10.0.0.2", "10.0.0.1", macA, 8 + 20 + 18},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Handle(packetIn(userdata(t, c.action), c.in))
			if r.Err != nil || len(r.Msgs) != 1 {
				t.Fatalf("err %v, %d messages", r.Err, len(r.Msgs))
			}
			out := r.Msgs[0].(*openflow.PacketOut)
			p := checksumOK(t, out.Data)
			if p.proto != c.proto || !strings.HasPrefix(string(p.l4), string(c.l4Prefix)) || len(p.l4) != c.l4Len {
				t.Errorf("proto %d, l4 % x (%d bytes); want %d, prefix % x, %d bytes", p.proto, p.l4[:min(16, len(p.l4))],
					len(p.l4), c.proto, c.l4Prefix, c.l4Len)
			}
			src, _ := netip.AddrFromSlice(p.src)
			dst, _ := netip.AddrFromSlice(p.dst)
			if src.String() != c.src || dst.String() != c.dst || string(p.ethDst) != string(c.ethDst) {
				t.Errorf("%s -> %s (eth dst % x), want %s -> %s (% x)", src, dst, p.ethDst, c.src, c.dst, c.ethDst)
			}
		})
	}
	// tcp_reset on UDP and icmp on ARP are refused.
	if r := Handle(packetIn(userdata(t, "tcp_reset { next; };"), udp4)); r.Err == nil {
		t.Error("tcp_reset on udp answered")
	}
}

// TestFragMTU: icmp4.frag_mtu inside icmp4_error pauses; the answer
// writes the MTU into the ICMP header and resumes.
func TestFragMTU(t *testing.T) {
	for _, c := range []struct {
		action string
		v6     bool
		at     int
		want   []byte
	}{
		{"icmp4_error { icmp4.type = 3; icmp4.code = 4; icmp4.frag_mtu = 1442; next; };", false, 6, []byte{0x05, 0xa2}},
		{"icmp6_error { icmp6.type = 2; icmp6.code = 0; icmp6.frag_mtu = 1422; next; };", true, 4, []byte{0, 0, 0x05, 0x8e}},
	} {
		// The packet-out of the icmp*_error body carries a paused
		// controller action; find its userdata.
		r := Handle(packetIn(userdata(t, c.action), ipFrame(c.v6, protoUDP, udpDatagram(100))))
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out := r.Msgs[0].(*openflow.PacketOut)
		var ud []byte
		for _, a := range out.Actions {
			if ctl, ok := a.(*openflow.Controller); ok && ctl.Pause {
				ud = ctl.Userdata
			}
		}
		if ud == nil {
			t.Fatalf("%s: no paused controller action in %v", c.action, out.Actions)
		}
		r = Handle(packetIn(ud, out.Data))
		if r.Err != nil || len(r.Msgs) != 1 {
			t.Fatalf("%s: err %v, %d messages", c.action, r.Err, len(r.Msgs))
		}
		res := r.Msgs[0].(*openflow.Resume)
		p := checksumOK(t, res.Packet)
		if got := p.l4[c.at : c.at+len(c.want)]; string(got) != string(c.want) {
			t.Errorf("%s: mtu bytes % x, want % x", c.action, got, c.want)
		}
	}
}

// sctpPacket is an SCTP packet from port 5000 to 6000 with verification
// tag vtag and one chunk of type chunk (an INIT carries initiate tag
// 0x11223344).
func sctpPacket(vtag uint32, chunk byte) []byte {
	l4 := make([]byte, 12, 32)
	binary.BigEndian.PutUint16(l4[0:], 5000)
	binary.BigEndian.PutUint16(l4[2:], 6000)
	binary.BigEndian.PutUint32(l4[4:], vtag)
	l4 = append(l4, chunk, 0, 0, 20, 0x11, 0x22, 0x33, 0x44, 0, 0, 0xff, 0xff, 0, 1, 0, 1, 0, 0, 0, 1)
	return ipFrame(false, protoSCTP, l4)
}

func TestSCTPAbort(t *testing.T) {
	for _, c := range []struct {
		name, action string
		in           []byte
		wantTag      uint32
		wantFlags    byte
		back         bool
	}{
		{"abort an INIT", "sctp_abort { next; };", sctpPacket(0, 1), 0x11223344, 0, false},
		{"abort DATA", "sctp_abort { next; };", sctpPacket(0xabcdef01, 0), 0xabcdef01, 1, false},
		{"reject goes back", "reject { next; };", sctpPacket(0xabcdef01, 0), 0xabcdef01, 1, true},
	} {
		r := Handle(packetIn(userdata(t, c.action), c.in))
		if r.Err != nil || len(r.Msgs) != 1 {
			t.Fatalf("%s: err %v, %d messages", c.name, r.Err, len(r.Msgs))
		}
		p := checksumOK(t, r.Msgs[0].(*openflow.PacketOut).Data)
		sh := p.l4
		if p.proto != protoSCTP || len(sh) != 16 || binary.BigEndian.Uint16(sh) != 6000 || binary.BigEndian.Uint16(sh[2:]) != 5000 {
			t.Fatalf("%s: not an sctp packet from 6000 to 5000: % x", c.name, sh)
		}
		if got := binary.BigEndian.Uint32(sh[4:]); got != c.wantTag || sh[12] != 6 || sh[13] != c.wantFlags {
			t.Errorf("%s: tag %#x chunk %d flags %d, want %#x abort %d", c.name, got, sh[12], sh[13], c.wantTag, c.wantFlags)
		}
		crc := binary.LittleEndian.Uint32(sh[8:])
		zeroed := append([]byte(nil), sh...)
		copy(zeroed[8:12], []byte{0, 0, 0, 0})
		if crc != crc32.Checksum(zeroed, crc32.MakeTable(crc32.Castagnoli)) {
			t.Errorf("%s: bad crc32c", c.name)
		}
		if back := netip.AddrFrom4([4]byte(p.dst)).String() == "10.0.0.1"; back != c.back {
			t.Errorf("%s: sent to %v", c.name, p.dst)
		}
	}
	if r := Handle(packetIn(userdata(t, "sctp_abort { next; };"), sctpPacket(1, 6))); r.Err == nil {
		t.Error("an ABORT answered")
	}
}

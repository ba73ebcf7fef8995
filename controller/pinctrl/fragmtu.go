package pinctrl

import (
	"encoding/binary"
	"fmt"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
)

// putFragMTU answers icmp4.frag_mtu = N / icmp6.frag_mtu = N, which
// run paused inside the body of icmp4_error / icmp6_error: write the MTU
// into the ICMP message the body is building (the 16-bit next-hop MTU of
// an ICMPv4 fragmentation-needed error, or the 32-bit MTU of an ICMPv6
// packet-too-big), fix the checksum and resume.
func putFragMTU(p *openflow.PacketIn2, u lflowc.Userdata) ([]openflow.Message, string, error) {
	v6 := u.Op == lflowc.OpPutICMP6FragMTU
	want := map[bool]int{false: 2, true: 4}[v6]
	if len(u.Payload) < want {
		return nil, "", fmt.Errorf("frag_mtu userdata of %d bytes", len(u.Payload))
	}
	ip, err := parseIP(p.Packet)
	if err != nil {
		return nil, "", fmt.Errorf("frag_mtu: %w", err)
	}
	proto := map[bool]byte{false: protoICMP4, true: protoICMP6}[v6]
	if ip.v6 != v6 || ip.proto != proto || len(ip.l4) < 8 {
		return nil, "", fmt.Errorf("frag_mtu on a packet that is not %s", map[bool]string{false: "icmp4", true: "icmp6"}[v6])
	}
	pkt := append([]byte(nil), p.Packet...)
	icmp := pkt[ip.l4Off : ip.l4Off+len(ip.l4)]
	binary.BigEndian.PutUint16(icmp[2:], 0)
	if v6 {
		copy(icmp[4:8], u.Payload[:4])
		binary.BigEndian.PutUint16(icmp[2:], l4Checksum(pkt[ip.l3Off:ip.l4Off], icmp, protoICMP6))
	} else {
		copy(icmp[6:8], u.Payload[:2])
		binary.BigEndian.PutUint16(icmp[2:], inetChecksum(0, icmp))
	}
	res := openflow.ResumeFrom(p)
	res.Packet = pkt
	return []openflow.Message{res}, "", nil
}

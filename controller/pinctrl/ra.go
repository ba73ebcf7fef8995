package pinctrl

import (
	"encoding/binary"
	"fmt"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
)

// putNDRAOpts answers R = put_nd_ra_opts(...) on a router solicitation:
// the userdata carries the whole router advertisement (ICMPv6 header and
// options, built when the flow was compiled); it replaces the
// solicitation's ICMPv6 message, its checksum fixed, with an unspecified
// source address turned into ff02::1 (where the reply goes once the next
// stage swaps the addresses), and the pipeline resumes with R set.
func putNDRAOpts(p *openflow.PacketIn2, u lflowc.Userdata) ([]openflow.Message, string, error) {
	sf, ra, err := u.Result()
	if err != nil {
		return nil, "", fmt.Errorf("put_nd_ra_opts: %w", err)
	}
	out, rerr := raReply(p.Packet, ra)
	md, err := setBit(p.Metadata, sf, rerr == nil)
	if err != nil {
		return nil, "", err
	}
	res := openflow.ResumeFrom(p)
	res.Metadata = md
	if rerr != nil {
		return []openflow.Message{res}, "", rerr
	}
	res.Packet = out
	return []openflow.Message{res}, fmt.Sprintf("router advertisement to %s", ethSrc(p.Packet)), nil
}

func raReply(in, ra []byte) ([]byte, error) {
	ip, err := parseIP(in)
	if err != nil || !ip.v6 || ip.proto != protoICMP6 || len(ip.l4) < 4 || ip.l4[0] != 133 {
		return nil, fmt.Errorf("put_nd_ra_opts on a packet that is not a router solicitation")
	}
	if len(ra) < 16 || ra[0] != 134 {
		return nil, fmt.Errorf("put_nd_ra_opts: userdata is not a router advertisement")
	}
	b := append(append([]byte(nil), in[:ip.l4Off]...), ra...)
	l3, icmp := b[ip.l3Off:ip.l4Off], b[ip.l4Off:]
	if allZero(l3[8:24]) {
		copy(l3[8:24], []byte{0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	}
	binary.BigEndian.PutUint16(l3[4:], uint16(len(icmp)))
	binary.BigEndian.PutUint16(icmp[2:], 0)
	binary.BigEndian.PutUint16(icmp[2:], l4Checksum(l3, icmp, protoICMP6))
	return b, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

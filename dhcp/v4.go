package dhcp

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// DHCPv4 message types (RFC 2132 option 53).
const (
	msgDiscover = 1
	msgOffer    = 2
	msgRequest  = 3
	msgDecline  = 4
	msgAck      = 5
	msgNak      = 6
	msgRelease  = 7
	msgInform   = 8
)

var v4TypeNames = map[byte]string{msgDiscover: "DHCPDISCOVER", msgOffer: "DHCPOFFER", msgRequest: "DHCPREQUEST",
	msgDecline: "DHCPDECLINE", msgAck: "DHCPACK", msgNak: "DHCPNAK", msgRelease: "DHCPRELEASE", msgInform: "DHCPINFORM"}

// DHCPv4 option codes the server looks at or rewrites.
const (
	optPad         = 0
	optNetmask     = 1
	optLeaseTime   = 51
	optT1          = 58
	optT2          = 59
	optMsgType     = 53
	optBootfile    = 67
	optEtherboot   = 175
	optBootfileAlt = 254
	optEnd         = 255
)

const (
	bootpHeaderLen = 236 // the fixed BOOTP header, up to the magic cookie
	bootRequest    = 1
	bootReply      = 2
	flagBroadcast  = 0x8000
)

// Reply is the answer to a request.
type Reply struct {
	Request string // the request's message type, e.g. "DHCPDISCOVER" or "SOLICIT"
	Type    string // the reply's, e.g. "DHCPOFFER", "DHCPNAK" or "ADVERTISE"
	Frame   []byte // the whole reply frame
}

// ReplyV4 answers the DHCPv4 request in the Ethernet frame req as
// ovn-controller 23.03 answers put_dhcp_opts: DHCPDISCOVER gets a
// DHCPOFFER of offer, DHCPREQUEST a DHCPACK (or a DHCPNAK when it asks
// for another address than offer), DHCPINFORM a DHCPACK without the
// lease options. opts are the action's options, each as code, length and
// value, in the order the action gives them.
//
// The reply keeps the request's Ethernet header and IP header, with the
// IP destination set to offer (or to the broadcast address when the
// client set the broadcast flag), and a zero UDP checksum. It returns
// ErrMalformed for a frame that is not a DHCPv4 request, ErrNoReply for
// a DHCPRELEASE, a DHCPDECLINE or an unknown message type, and
// ErrBadOptions when opts do not parse.
func ReplyV4(req []byte, offer netip.Addr, opts []byte) (Reply, error) {
	if !offer.Is4() {
		return Reply{}, fmt.Errorf("%w: offer %v is not an ipv4 address", ErrBadOptions, offer)
	}
	if err := checkV4Options(opts); err != nil {
		return Reply{}, err
	}
	f, err := parseFrame(req, false)
	if err != nil {
		return Reply{}, err
	}
	m, err := decodeV4(f.payload())
	if err != nil {
		return Reply{}, err
	}
	in := byte(m.MessageType())
	r := Reply{Request: v4TypeName(in)}
	out, err := v4ReplyType(m, in, offer)
	if err != nil {
		return r, err
	}
	r.Type = v4TypeName(out)
	switch {
	case out == msgNak:
		opts = nil
	case in == msgInform:
		opts = withoutLeaseOptions(opts)
	}
	opts = bootfileFor(opts, m.Options.Has(dhcpv4.GenericOptionCode(optEtherboot)))
	r.Frame = buildV4(f, in, out, offer, opts)
	return r, nil
}

func v4TypeName(t byte) string {
	if n, ok := v4TypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", t)
}

// decodeV4 decodes the BOOTP request in a UDP payload.
func decodeV4(p []byte) (*dhcpv4.DHCPv4, error) {
	if len(p) < bootpHeaderLen+4 {
		return nil, fmt.Errorf("%w: %d bytes is too short for dhcp", ErrMalformed, len(p))
	}
	m, err := dhcpv4.FromBytes(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.OpCode != bootRequest {
		return nil, fmt.Errorf("%w: bootp opcode %d is not a request", ErrMalformed, m.OpCode)
	}
	if !m.Options.Has(dhcpv4.OptionDHCPMessageType) || len(m.Options.Get(dhcpv4.OptionDHCPMessageType)) != 1 {
		return nil, fmt.Errorf("%w: no dhcp message type", ErrMalformed)
	}
	return m, nil
}

// v4ReplyType is the message type that answers in, or ErrNoReply.
func v4ReplyType(m *dhcpv4.DHCPv4, in byte, offer netip.Addr) (byte, error) {
	requested := m.ClientIPAddr.To4()
	if ip := m.Options.Get(dhcpv4.OptionRequestedIPAddress); len(ip) == 4 {
		requested = ip
	}
	switch in {
	case msgDiscover:
		return msgOffer, nil
	case msgRequest:
		if a, ok := netip.AddrFromSlice(requested); !ok || a != offer {
			return msgNak, nil
		}
		return msgAck, nil
	case msgInform:
		return msgAck, nil
	}
	return 0, fmt.Errorf("%w: %s", ErrNoReply, v4TypeName(in))
}

// checkV4Options checks that opts is a sequence of code, length, value.
func checkV4Options(opts []byte) error {
	for i := 0; i < len(opts); {
		if i+2 > len(opts) || i+2+int(opts[i+1]) > len(opts) {
			return fmt.Errorf("%w: option at byte %d runs past the end", ErrBadOptions, i)
		}
		i += 2 + int(opts[i+1])
	}
	return nil
}

// withoutLeaseOptions drops the options that make no sense in an answer
// to DHCPINFORM (RFC 2131 3.4): netmask, lease time, T1 and T2.
func withoutLeaseOptions(opts []byte) []byte {
	var out []byte
	for i := 0; i < len(opts); i += 2 + int(opts[i+1]) {
		switch opts[i] {
		case optNetmask, optLeaseTime, optT1, optT2:
		default:
			out = append(out, opts[i:i+2+int(opts[i+1])]...)
		}
	}
	return out
}

// bootfileFor picks between bootfile_name and bootfile_name_alt, which
// the action puts first: an iPXE client (option 175 in the request) gets
// bootfile_name, any other the alternative, sent as option 67.
func bootfileFor(opts []byte, ipxe bool) []byte {
	if len(opts) == 0 {
		return opts
	}
	out := append([]byte(nil), opts...)
	switch out[0] {
	case optBootfileAlt:
		out[0] = optBootfile
	case optBootfile:
		n := 2 + int(out[1])
		if n >= len(out) || out[n] != optBootfileAlt {
			break
		}
		if ipxe {
			return append(out[:n], out[n+2+int(out[n+1]):]...)
		}
		out = out[n:]
		out[0] = optBootfile
	}
	return out
}

// buildV4 lays out the reply: the request's L2/L3 headers, its UDP and
// BOOTP headers with op, yiaddr, lengths and checksums changed, the
// cookie, the message type, opts, 4 bytes of padding, the end option and
// 4 more bytes of padding.
func buildV4(f frame, in, out byte, offer netip.Addr, opts []byte) []byte {
	dhcpLen := bootpHeaderLen + 4 + 3 + len(opts) + 4 + 1 + 4
	b := make([]byte, 0, f.l4+udpHeaderLen+dhcpLen)
	b = append(b, f.b[:f.l4+udpHeaderLen+bootpHeaderLen]...)
	bootp := b[f.l4+udpHeaderLen:]
	bootp[0] = bootReply
	yiaddr := offer.As4()
	if out == msgNak || in == msgInform {
		yiaddr = [4]byte{}
	}
	copy(bootp[16:20], yiaddr[:])
	b = binary.BigEndian.AppendUint32(b, 0x63825363)
	b = append(b, optMsgType, 1, out)
	b = append(b, opts...)
	b = append(b, 0, 0, 0, 0, optEnd, 0, 0, 0, 0)

	udp := b[f.l4:]
	binary.BigEndian.PutUint16(udp[4:], uint16(udpHeaderLen+dhcpLen))
	binary.BigEndian.PutUint16(udp[6:], 0)
	ip := b[f.l3:f.l4]
	dst := yiaddrDst(bootp, offer)
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)+udpHeaderLen+dhcpLen))
	binary.BigEndian.PutUint16(ip[10:], 0)
	binary.BigEndian.PutUint16(ip[10:], checksum(0, ip))
	return b
}

// yiaddrDst is where the reply goes: the offered address, or the
// broadcast address when the client asked for broadcast replies.
func yiaddrDst(bootp []byte, offer netip.Addr) [4]byte {
	if binary.BigEndian.Uint16(bootp[10:])&flagBroadcast != 0 {
		return [4]byte{255, 255, 255, 255}
	}
	return offer.As4()
}

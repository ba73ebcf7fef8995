package dhcp

import (
	"encoding/binary"
	"fmt"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// DHCPv6 option codes (RFC 8415) in requests and in the action's options.
const (
	opt6ClientID     = 1
	opt6ServerID     = 2
	opt6IANA         = 3
	opt6IAAddr       = 5
	opt6DNSServers   = 23
	opt6DomainSearch = 24
)

const (
	duidLL     = 3 // DUID based on the link-layer address
	hwEthernet = 1
	infinite   = 0xffffffff
)

// v6Replies maps the requests the server answers to the reply type.
var v6Replies = map[dhcpv6.MessageType]dhcpv6.MessageType{
	dhcpv6.MessageTypeSolicit:            dhcpv6.MessageTypeAdvertise,
	dhcpv6.MessageTypeRequest:            dhcpv6.MessageTypeReply,
	dhcpv6.MessageTypeConfirm:            dhcpv6.MessageTypeReply,
	dhcpv6.MessageTypeDecline:            dhcpv6.MessageTypeReply,
	dhcpv6.MessageTypeInformationRequest: dhcpv6.MessageTypeReply,
}

// ReplyV6 answers the DHCPv6 request in the Ethernet frame req as
// ovn-controller 23.03 answers put_dhcpv6_opts: SOLICIT gets an
// ADVERTISE; REQUEST, CONFIRM, DECLINE and INFORMATION-REQUEST get a
// REPLY. opts are the action's options, each as 16-bit code, 16-bit
// length and value: server_id (a MAC, sent as a DUID-LL), ia_addr (sent
// inside an IA_NA with the client's IAID and infinite lifetimes, left out
// for INFORMATION-REQUEST), dns_server and domain_search.
//
// The reply keeps the request's Ethernet and IPv6 headers and its
// transaction ID, echoes the client identifier, and carries a correct
// UDP checksum. It returns ErrMalformed for a frame that is not a DHCPv6
// request (or lacks a client identifier, or an IA_NA where one is
// needed), ErrNoReply for message types the server does not answer
// (RENEW and REBIND among them, as in ovn-controller 23.03) and
// ErrBadOptions when opts do not parse.
func ReplyV6(req []byte, opts []byte) (Reply, error) {
	f, err := parseFrame(req, true)
	if err != nil {
		return Reply{}, err
	}
	p := f.payload()
	m, err := dhcpv6.MessageFromBytes(p)
	if err != nil {
		return Reply{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r := Reply{Request: m.MessageType.String()}
	out, ok := v6Replies[m.MessageType]
	if !ok {
		return r, fmt.Errorf("%w: %s", ErrNoReply, m.MessageType)
	}
	r.Type = out.String()
	clientID := rawOption6(p[4:], opt6ClientID)
	if clientID == nil {
		return r, fmt.Errorf("%w: %s without a client identifier", ErrMalformed, m.MessageType)
	}
	var iaid []byte
	if ia := m.Options.OneIANA(); ia != nil {
		iaid = ia.IaId[:]
	} else if m.MessageType != dhcpv6.MessageTypeInformationRequest {
		return r, fmt.Errorf("%w: %s without an IA_NA", ErrMalformed, m.MessageType)
	}
	body, err := composeV6(opts, iaid)
	if err != nil {
		return r, err
	}
	r.Frame = buildV6(f, byte(out), clientID, body)
	return r, nil
}

// rawOption6 returns option code of a DHCPv6 option list as it is on
// the wire, header included, or nil.
func rawOption6(b []byte, code uint16) []byte {
	for len(b) >= 4 {
		n := 4 + int(binary.BigEndian.Uint16(b[2:]))
		if n > len(b) {
			return nil
		}
		if binary.BigEndian.Uint16(b) == code {
			return b[:n]
		}
		b = b[n:]
	}
	return nil
}

// composeV6 turns the action's options into the reply's.
func composeV6(opts []byte, iaid []byte) ([]byte, error) {
	var out []byte
	for len(opts) > 0 {
		if len(opts) < 4 || 4+int(binary.BigEndian.Uint16(opts[2:])) > len(opts) {
			return nil, fmt.Errorf("%w: option runs past the end", ErrBadOptions)
		}
		code, n := binary.BigEndian.Uint16(opts), int(binary.BigEndian.Uint16(opts[2:]))
		v := opts[4 : 4+n]
		opts = opts[4+n:]
		switch code {
		case opt6ServerID:
			if n != 6 {
				return nil, fmt.Errorf("%w: server_id of %d bytes is not a mac", ErrBadOptions, n)
			}
			out = appendOpt6(out, opt6ServerID, 10)
			out = binary.BigEndian.AppendUint16(out, duidLL)
			out = binary.BigEndian.AppendUint16(out, hwEthernet)
			out = append(out, v...)
		case opt6IAAddr:
			if n != 16 {
				return nil, fmt.Errorf("%w: ia_addr of %d bytes is not an ipv6 address", ErrBadOptions, n)
			}
			if iaid != nil {
				out = appendIANA(out, iaid, v)
			}
		case opt6DNSServers:
			out = append(appendOpt6(out, opt6DNSServers, n), v...)
		case opt6DomainSearch:
			out = appendOpt6(out, opt6DomainSearch, n+2)
			out = append(append(append(out, byte(n)), v...), 0)
		default:
			return nil, fmt.Errorf("%w: unknown dhcpv6 option %d", ErrBadOptions, code)
		}
	}
	return out, nil
}

func appendOpt6(b []byte, code uint16, n int) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, code), uint16(n))
}

// appendIANA appends an IA_NA holding addr, with infinite T1, T2 and
// lifetimes.
func appendIANA(b, iaid, addr []byte) []byte {
	b = appendOpt6(b, opt6IANA, 12+4+24)
	b = append(b, iaid...)
	b = binary.BigEndian.AppendUint32(b, infinite)
	b = binary.BigEndian.AppendUint32(b, infinite)
	b = appendOpt6(b, opt6IAAddr, 24)
	b = append(b, addr...)
	b = binary.BigEndian.AppendUint32(b, infinite)
	return binary.BigEndian.AppendUint32(b, infinite)
}

// buildV6 lays out the reply: the request's L2/L3 and UDP headers, the
// reply type with the request's transaction ID, the client identifier,
// then body; lengths and the UDP checksum are recomputed.
func buildV6(f frame, typ byte, clientID, body []byte) []byte {
	udpLen := udpHeaderLen + 4 + len(clientID) + len(body)
	b := make([]byte, 0, f.l4+udpLen)
	b = append(b, f.b[:f.l4+udpHeaderLen+4]...)
	b[f.l4+udpHeaderLen] = typ
	b = append(append(b, clientID...), body...)
	ip, udp := b[f.l3:f.l4], b[f.l4:]
	binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	binary.BigEndian.PutUint16(udp[6:], 0)
	binary.BigEndian.PutUint16(udp[6:], udp6Checksum(ip, udp))
	return b
}

// udp6Checksum is the UDP checksum over the IPv6 pseudo-header; zero is
// sent as 0xffff.
func udp6Checksum(ip, udp []byte) uint16 {
	var sum uint32
	for i := 8; i < 40; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	sum += uint32(len(udp)) + protoUDP
	c := checksum(sum, udp)
	if c == 0 {
		c = 0xffff
	}
	return c
}

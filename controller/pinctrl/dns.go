package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
)

// DNS answers dns_lookup from the SB DNS table: SBEnv implements it.
type DNS interface {
	// Records returns the value of record name (lowercase, without the
	// final dot) in the DNS rows of datapath dp: space-separated
	// addresses, or a host name for a PTR record.
	Records(dp uint32, name string) (string, bool)
}

// DNS record types and the TTL ovn-controller answers with.
const (
	dnsTypeA    = 1
	dnsTypePTR  = 12
	dnsTypeAAAA = 28
	dnsClassIN  = 1
	dnsTTL      = 3600
)

// dnsLookup answers R = dns_lookup(): when the query's name has
// records of the asked type for the packet's datapath, the pipeline
// resumes with the response in place of the query and R set; otherwise
// with the query and R clear, so it goes on to the network.
func dnsLookup(p *openflow.PacketIn2, u lflowc.Userdata, dns DNS) ([]openflow.Message, string, error) {
	sf, _, err := u.Result()
	if err != nil {
		return nil, "", fmt.Errorf("dns_lookup: %w", err)
	}
	resp, info, lerr := dnsAnswer(p, dns)
	md, err := setBit(p.Metadata, sf, lerr == nil)
	if err != nil {
		return nil, "", err
	}
	res := openflow.ResumeFrom(p)
	res.Metadata = md
	if lerr == nil {
		res.Packet = resp
	}
	return []openflow.Message{res}, info, lerr
}

// errNoRecord is why a query is not answered when nothing is wrong
// with it; it is not logged.
var errNoRecord = fmt.Errorf("no dns record")

func dnsAnswer(p *openflow.PacketIn2, dns DNS) ([]byte, string, error) {
	o, ok := p.Metadata.Get("metadata")
	if !ok || dns == nil {
		return nil, "", errNoRecord
	}
	ip, err := parseIP(p.Packet)
	if err != nil || ip.proto != protoUDP || len(ip.l4) < 8+12 {
		return nil, "", fmt.Errorf("dns_lookup on a packet that is not a dns query over udp")
	}
	q := ip.l4[8:]
	if q[2]&0x80 != 0 || binary.BigEndian.Uint16(q[4:]) == 0 {
		return nil, "", fmt.Errorf("dns_lookup on a dns message that is not a query")
	}
	name, end, err := dnsName(q, 12)
	if err != nil || end+4 > len(q) {
		return nil, "", fmt.Errorf("dns query: bad question")
	}
	qtype := binary.BigEndian.Uint16(q[end:])
	value, ok := dns.Records(uint32(o.Uint()), strings.ToLower(name))
	if !ok {
		return nil, "", errNoRecord
	}
	answers, n := dnsAnswers(q[12:end], qtype, value)
	if n == 0 {
		return nil, "", errNoRecord
	}
	msg := append([]byte(nil), q[:end+4]...) // header and the question
	msg[2] |= 0x80                           // a response
	binary.BigEndian.PutUint16(msg[4:], 1)
	binary.BigEndian.PutUint16(msg[6:], uint16(n))
	binary.BigEndian.PutUint16(msg[8:], 0)
	binary.BigEndian.PutUint16(msg[10:], 0)
	msg = append(msg, answers...)
	return udpReplace(p.Packet, ip, msg), fmt.Sprintf("%s: %d answers", name, n), nil
}

// dnsName reads the (uncompressed) name at off of a DNS message.
func dnsName(m []byte, off int) (string, int, error) {
	var labels []string
	for {
		if off >= len(m) {
			return "", 0, fmt.Errorf("name past the end")
		}
		n := int(m[off])
		if n == 0 {
			return strings.Join(labels, "."), off + 1, nil
		}
		if n&0xc0 != 0 || off+1+n > len(m) {
			return "", 0, fmt.Errorf("bad label")
		}
		labels = append(labels, string(m[off+1:off+1+n]))
		off += 1 + n
	}
}

// dnsAnswers are the resource records answering qtype for the query's
// wire name from a record value, and how many there are.
func dnsAnswers(wireName []byte, qtype uint16, value string) ([]byte, int) {
	var out []byte
	n := 0
	rr := func(typ uint16, data []byte) {
		out = append(out, wireName...)
		out = binary.BigEndian.AppendUint16(out, typ)
		out = binary.BigEndian.AppendUint16(out, dnsClassIN)
		out = binary.BigEndian.AppendUint32(out, dnsTTL)
		out = binary.BigEndian.AppendUint16(out, uint16(len(data)))
		out = append(out, data...)
		n++
	}
	for _, f := range strings.Fields(value) {
		if qtype == dnsTypePTR {
			rr(dnsTypePTR, wireDNSName(f))
			continue
		}
		a, err := netip.ParseAddr(f)
		switch {
		case err != nil:
		case qtype == dnsTypeA && a.Is4():
			rr(dnsTypeA, a.AsSlice())
		case qtype == dnsTypeAAAA && a.Is6() && !a.Is4In6():
			rr(dnsTypeAAAA, a.AsSlice())
		}
	}
	return out, n
}

func wireDNSName(s string) []byte {
	var b []byte
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if l != "" && len(l) < 64 {
			b = append(append(b, byte(len(l))), l...)
		}
	}
	return append(b, 0)
}

// udpReplace returns the frame with its UDP payload replaced, lengths
// and checksums fixed (the IPv4 UDP checksum left at zero).
func udpReplace(frame []byte, ip ipPacket, payload []byte) []byte {
	b := append([]byte(nil), frame[:ip.l4Off+8]...)
	b = append(b, payload...)
	l3, udp := b[ip.l3Off:ip.l4Off], b[ip.l4Off:]
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	binary.BigEndian.PutUint16(udp[6:], 0)
	if ip.v6 {
		binary.BigEndian.PutUint16(l3[4:], uint16(len(udp)))
		c := l4Checksum(l3, udp, protoUDP)
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(udp[6:], c)
		return b
	}
	binary.BigEndian.PutUint16(l3[2:], uint16(len(l3)+len(udp)))
	binary.BigEndian.PutUint16(l3[10:], 0)
	binary.BigEndian.PutUint16(l3[10:], inetChecksum(0, l3))
	return b
}

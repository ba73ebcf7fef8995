package pinctrl

import (
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// records is a DNS over a map: "<dp>/<name>" -> value.
type records map[string]string

func (r records) Records(dp uint32, name string) (string, bool) {
	v, ok := r[string(rune('0'+dp))+"/"+name]
	return v, ok
}

var testRecords = records{
	"5/vm1.ovn.org":              "10.0.0.10 fd00::10",
	"5/10.0.0.0.10.in-addr.arpa": "vm1.ovn.org",
}

func query(t *testing.T, v6 bool, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	m := dnsmessage.Message{Header: dnsmessage.Header{ID: 0x1234, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}}}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	u := udpDatagram(0)
	u = append(u[:8], b...)
	u[4], u[5] = byte(len(u)>>8), byte(len(u))
	return ipFrame(v6, protoUDP, u)
}

// TestDNSLookup: a query for a name with records on the packet's
// datapath resumes as the response with reg0[4] set; other queries
// resume unchanged with it clear.
func TestDNSLookup(t *testing.T) {
	ud := userdata(t, "reg0[4] = dns_lookup(); next;")
	h := Handler{DNS: testRecords}
	for _, c := range []struct {
		name    string
		v6      bool
		qname   string
		typ     dnsmessage.Type
		answers []string
	}{
		{"A", false, "VM1.ovn.org.", dnsmessage.TypeA, []string{"10.0.0.10"}},
		{"AAAA over ipv6", true, "vm1.ovn.org.", dnsmessage.TypeAAAA, []string{"fd00::10"}},
		{"PTR", false, "10.0.0.0.10.in-addr.arpa.", dnsmessage.TypePTR, []string{"vm1.ovn.org."}},
		{"unknown name", false, "vm2.ovn.org.", dnsmessage.TypeA, nil},
		{"no record of the type", false, "vm1.ovn.org.", dnsmessage.TypeMX, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := query(t, c.v6, c.qname, c.typ)
			r := h.Handle(packetIn(ud, in))
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			res := onlyResume(t, r)
			bit, _, _ := res.Metadata.Reg(0)
			if c.answers == nil {
				if bit&0x10 != 0 || string(res.Packet) != string(in) {
					t.Errorf("unanswered query: reg0 %#x, packet changed %v", bit, string(res.Packet) != string(in))
				}
				return
			}
			if bit&0x10 == 0 {
				t.Errorf("reg0 = %#x, want bit 4 set", bit)
			}
			p := checksumOK(t, res.Packet)
			if !p.v6 && inetChecksum(0, res.Packet[p.l3Off:p.l4Off]) != 0 {
				t.Error("bad ipv4 header checksum")
			}
			var m dnsmessage.Message
			if err := m.Unpack(p.l4[8:]); err != nil {
				t.Fatal(err)
			}
			if !m.Response || m.ID != 0x1234 || len(m.Questions) != 1 {
				t.Errorf("header %+v, %d questions", m.Header, len(m.Questions))
			}
			var got []string
			for _, a := range m.Answers {
				if a.Header.TTL != 3600 {
					t.Errorf("ttl %d", a.Header.TTL)
				}
				switch b := a.Body.(type) {
				case *dnsmessage.AResource:
					got = append(got, netip.AddrFrom4(b.A).String())
				case *dnsmessage.AAAAResource:
					got = append(got, netip.AddrFrom16(b.AAAA).String())
				case *dnsmessage.PTRResource:
					got = append(got, b.PTR.String())
				}
			}
			if len(got) != len(c.answers) || got[0] != c.answers[0] {
				t.Errorf("answers %v, want %v", got, c.answers)
			}
		})
	}
	// A response, or garbage, is not answered and says why.
	resp := query(t, false, "vm1.ovn.org.", dnsmessage.TypeA)
	resp[14+20+8+2] |= 0x80
	for _, pkt := range [][]byte{resp, ipFrame(false, protoUDP, udpDatagram(3))} {
		r := h.Handle(packetIn(ud, pkt))
		if r.Err == nil {
			t.Error("bad query answered without an error")
		}
		if res := onlyResume(t, r); string(res.Packet) != string(pkt) {
			t.Error("bad query changed")
		}
	}
	// Without DNS records every query goes on.
	if r := Handle(packetIn(ud, query(t, false, "vm1.ovn.org.", dnsmessage.TypeA))); r.Err != nil {
		t.Error(r.Err)
	}
}

package openflow

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// arpText is how ovs-ofctl prints arpPacket.
const arpText = "arp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00"

// arpPacket is a broadcast ARP request from 00:00:00:00:00:01 for 10.0.0.2.
var arpPacket = func() []byte {
	b := append(mac("ff:ff:ff:ff:ff:ff"), mac("00:00:00:00:00:01")...)
	b = append(b, 0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1)
	b = append(b, mac("00:00:00:00:00:01")...)
	b = append(b, 10, 0, 0, 1)
	b = append(b, make([]byte, 6)...)
	return append(b, 10, 0, 0, 2)
}()

// continuation holds one NXCPT_BRIDGE property with a zero UUID.
var continuation = append([]byte{0x80, 0, 0, 20}, make([]byte, 20)...)

func TestPacketIn2(t *testing.T) {
	m := &PacketIn2{Packet: arpPacket, TableID: 12, Cookie: 0xabc, Reason: ReasonAction,
		Metadata: Match{F("metadata").Exact(1), Reg(14).Exact(2), F("in_port_oxm").Exact(3)},
		Userdata: []byte{0, 0, 0, 0}, Continuation: continuation}
	b, err := Marshal(1, m)
	if err != nil {
		t.Fatal(err)
	}
	want := "NXT_PACKET_IN2 (OF1.5) (xid=0x1): table_id=12 cookie=0xabc total_len=42 reg14=0x2,metadata=0x1,in_port=3 (via action) data_len=42 (unbuffered)\n" +
		" userdata=00.00.00.00\n" + arpText
	if got := ofpPrint(t, b); got != want {
		t.Errorf("ofp-print:\n%s", cmp.Diff(want, got))
	}
	checkRoundTrip(t, m)
}

func TestResume(t *testing.T) {
	p := &PacketIn2{Packet: arpPacket, Metadata: Match{F("metadata").Exact(1)}, Continuation: continuation}
	m := ResumeFrom(p)
	b, err := Marshal(1, m)
	if err != nil {
		t.Fatal(err)
	}
	want := "NXT_RESUME (OF1.5) (xid=0x1): total_len=42 metadata=0x1 (via no_match) data_len=42 (unbuffered)\n" + arpText
	if got := ofpPrint(t, b); got != want {
		t.Errorf("ofp-print:\n%s", cmp.Diff(want, got))
	}
	checkRoundTrip(t, m)
}

package openflow

import "testing"

func TestPacketOut(t *testing.T) {
	m := &PacketOut{BufferID: NoBuffer, Match: Match{F("in_port_oxm").Exact(1)},
		Actions: []Action{&Output{Port: 2}}, Data: arpPacket}
	want := "in_port=1 actions=output:2 data_len=42"
	checkMessage(t, m, "OFPT_PACKET_OUT (OF1.5) (xid=0x1): "+want+"\n"+arpText)
	if got := m.String(); got != want {
		t.Errorf("String:\n got %s\nwant %s", got, want)
	}
	m = &PacketOut{BufferID: NoBuffer, Match: Match{F("in_port_oxm").Exact(PortController), F("metadata").Exact(5), Reg(14).Exact(1)},
		Actions: []Action{ResubmitTable(8)}, Data: arpPacket}
	want = "reg14=0x1,metadata=0x5,in_port=CONTROLLER actions=resubmit(,8) data_len=42"
	checkMessage(t, m, "OFPT_PACKET_OUT (OF1.5) (xid=0x1): "+want+"\n"+arpText)
}

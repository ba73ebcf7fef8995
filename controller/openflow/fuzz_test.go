package openflow

import (
	"net/netip"
	"testing"
)

// fuzzSeeds are encodings of one message of each kind.
func fuzzSeeds(t testing.TB) [][]byte {
	fm := NewFlowMod(FlowAdd, 3, 100)
	fm.Match = Match{F("eth_type").Exact(0x0800), F("ct_state").Masked(0x20, 0x20), Reg(1).Masked(1, 3), TunMetadata(0).Exact(5)}
	fm.Instructions = Instructions{Apply: []Action{
		&CT{Flags: CTCommit, Table: 4, ZoneSrc: Reg(13).Sub(0, 16), Actions: []Action{
			&NAT{Flags: NATSrc, IPMin: netip.MustParseAddr("10.0.0.1"), ProtoMin: 1}, &SetField{OXM: F("ct_mark").Exact(1)}}},
		&Controller{MaxLen: 0xffff, Reason: ReasonAction, Userdata: []byte{1}, Pause: true},
		&Move{Src: Reg(1).All(), Dst: Reg(2).All()}, &Learn{Table: 1, Specs: []LearnSpec{
			{Kind: LearnMatch, Value: []byte{8, 0}, Dst: F("eth_type").All()}, {Kind: LearnOutput, Src: F("in_port").All()}}},
		&Conjunction{ID: 1, NClauses: 2}, &Note{Data: []byte("abcdef")}, &OutputReg{Src: Reg(15).All()},
		&CheckPktLarger{PktLen: 1, Dst: Reg(0).Sub(0, 1)}, &CTClear{}, &Resubmit{InPort: 1, Table: 2}},
		GotoTable: Goto(4), WriteMetadata: &WriteMetadata{1, 1}}
	msgs := []Message{
		&Hello{Versions: []uint8{6}}, &EchoRequest{Data: []byte{1}}, &FeaturesReply{}, &Error{ErrType: 1, Code: 2},
		fm, &BundleAdd{BundleID: 1, Message: fm}, &BundleControl{BundleID: 1},
		&GroupMod{GroupID: 1, Buckets: []Bucket{{Weight: 1, WatchPort: 2, Actions: []Action{&Output{Port: 1}}}}},
		&MeterMod{MeterID: 1, Bands: []MeterBand{{Type: BandDSCPRemark, Rate: 1}}},
		&PacketIn2{Packet: arpPacket, Metadata: Match{Reg(0).Exact(1)}, Userdata: []byte{1}, Continuation: continuation},
		&Resume{Packet: arpPacket, Continuation: continuation},
		&PacketOut{BufferID: NoBuffer, Match: Match{F("in_port_oxm").Exact(1)}, Actions: []Action{&Output{Port: 2}}, Data: arpPacket},
		&TLVTableMod{Maps: []TLVMap{{1, 2, 4, 0}}}, &TLVTableReply{Maps: []TLVMap{{1, 2, 4, 0}}},
		NewFlowStatsRequest(), &FlowStatsReply{Flows: []FlowStats{{Match: fm.Match, Instructions: fm.Instructions}}},
	}
	var seeds [][]byte
	for _, m := range msgs {
		b, err := Marshal(1, m)
		if err != nil {
			t.Fatalf("marshal %T: %v", m, err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzUnmarshal checks that no input makes the decoder panic, and that
// whatever decodes re-encodes.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, m, err := Unmarshal(b)
		if err != nil {
			return
		}
		_ = renderAny(m)
		Marshal(1, m)
	})
}

// renderAny calls String on m if it has one, to exercise the renderers.
func renderAny(m Message) string {
	if s, ok := m.(interface{ String() string }); ok {
		return s.String()
	}
	return ""
}

// TestDecodeTruncated decodes every prefix of every seed: none may panic.
func TestDecodeTruncated(t *testing.T) {
	for _, s := range fuzzSeeds(t) {
		for n := range len(s) {
			b := append([]byte(nil), s[:n]...)
			if n >= 4 {
				b[2], b[3] = byte(n>>8), byte(n)
			}
			if _, m, err := Unmarshal(b); err == nil {
				renderAny(m)
			}
		}
	}
}

package physical

import (
	"strings"
	"testing"
)

// A router port whose peer sits on a datapath that is not local (the
// external switch behind a distributed gateway port, on a chassis that
// is not its gateway) gets its patch flows once the peer is in
// Input.Peers, entering the peer's datapath with no zones (it has
// none here), as ovn-controller writes them; the peer gets no flows of
// its own. Without the peer, the router port has none.
func TestRemotePeer(t *testing.T) {
	in := Input{Chassis: "hv2", Datapaths: []Datapath{{Key: 3, DNATZone: 8, SNATZone: 9}},
		Ports: []Port{{UUID: "aaaaaaaa-0000-0000-0000-000000000001", Name: "nat-out", Datapath: 3, Key: 2,
			Type: TypePatch, Peer: "out-nat"}}}
	without, err := Flows(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(without[PortOwner("aaaaaaaa-0000-0000-0000-000000000001")]); n != 0 {
		t.Errorf("without the peer: %d flows, want none", n)
	}
	in.Peers = []Port{{UUID: "bbbbbbbb-0000-0000-0000-000000000002", Name: "out-nat", Datapath: 2, Key: 1,
		Type: TypePatch, Peer: "nat-out"}}
	with, err := Flows(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := with[PortOwner("bbbbbbbb-0000-0000-0000-000000000002")]; ok {
		t.Errorf("the remote peer got flows of its own")
	}
	all := strings.Join(renderAll(with[PortOwner("aaaaaaaa-0000-0000-0000-000000000001")]), "\n")
	for _, want := range []string{
		"table=40, priority=100,reg15=0x2,metadata=0x3 actions=set_field:0x8->reg11,set_field:0x9->reg12,resubmit(,41)",
		// Registers cleared, then straight into the peer: no zones.
		"set_field:0->reg13,set_field:0x2->metadata,set_field:0x1->reg14,",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
	in.Peers[0].Key = 0
	if _, err := Flows(in); err == nil {
		t.Error("a peer with tunnel key 0: no error")
	}
}

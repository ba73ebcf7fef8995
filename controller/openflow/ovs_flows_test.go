package openflow

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ovnLikeFlows is a sample of the constructs ovn-controller installs.
func ovnLikeFlows() []*FlowMod {
	flow := func(table uint8, prio uint16, m Match, acts ...Action) *FlowMod {
		fm := NewFlowMod(FlowAdd, table, prio)
		fm.Match, fm.Instructions.Apply = m, acts
		if acts == nil {
			fm.Instructions.Apply = nil
		}
		return fm
	}
	ip4 := F("eth_type").Exact(0x0800)
	withCookie := flow(8, 50, Match{Reg(14).Exact(1), F("metadata").Exact(1), F("eth_src").Bytes(mac("00:00:00:00:00:01"), nil)},
		&SetField{OXM: Reg(13).Exact(1)}, ResubmitTable(9))
	withCookie.Cookie = 0xdeadbeef
	timed := flow(10, 5, Match{F("in_port_oxm").Exact(1)}, &Output{Port: 2})
	timed.IdleTimeout, timed.HardTimeout = 300, 600
	return []*FlowMod{
		flow(0, 100, Match{F("in_port_oxm").Exact(1)}, &SetField{OXM: Reg(13).Masked(3, 0xffff)},
			&SetField{OXM: Reg(11).Exact(2)}, &SetField{OXM: Reg(12).Exact(3)}, &SetField{OXM: F("metadata").Exact(1)},
			&SetField{OXM: Reg(14).Exact(1)}, ResubmitTable(8)),
		flow(0, 100, Match{F("tun_id").Exact(1), TunMetadata(0).Masked(0x10002, 0x7fffffff)},
			&Move{Src: TunMetadata(0).Sub(16, 15), Dst: Reg(14).Sub(0, 15)}, ResubmitTable(38)),
		withCookie,
		flow(9, 0, nil),
		flow(12, 110, Match{ip4, F("ct_state").Masked(0x20, 0x20), F("metadata").Exact(1)},
			&CT{Table: 13, ZoneSrc: Reg(13).Sub(0, 16), Actions: []Action{&NAT{}}}),
		flow(13, 100, Match{ip4, F("nw_proto").Exact(6), F("ip_dst").Bytes(ip("10.0.0.10"), nil), F("tcp_dst").Exact(80)},
			&CT{Flags: CTCommit, Table: 14, ZoneSrc: Reg(13).Sub(0, 16),
				Actions: []Action{&NAT{Flags: NATDst, IPMin: netip.MustParseAddr("10.0.0.2"), ProtoMin: 8080}}}),
		flow(14, 1, Match{ip4, F("ct_state").Masked(0x21, 0x31)},
			&CT{Flags: CTCommit, Table: CTNoTable, ZoneSrc: Reg(13).Sub(0, 16),
				Actions: []Action{&SetField{OXM: F("ct_mark").Masked(0, 1)},
					&SetField{OXM: F("ct_label").Bytes(uintBytes(0, 16), uintBytes(0xffff, 16))}}},
			&CTClear{}, ResubmitTable(15)),
		flow(15, 2000, Match{ip4, F("ip_src").Bytes(ip("10.0.0.0"), ip("255.255.255.0")), F("metadata").Exact(1)},
			&Conjunction{ID: 7, Clause: 0, NClauses: 2}),
		flow(15, 2000, Match{ip4, F("ip_dst").Bytes(ip("10.0.1.5"), nil), F("metadata").Exact(1)},
			&Conjunction{ID: 7, Clause: 1, NClauses: 2}),
		flow(15, 2000, Match{F("conj_id").Exact(7), ip4, F("metadata").Exact(1)}, ResubmitTable(16)),
		flow(16, 90, Match{F("eth_type").Exact(0x0806), F("arp_op").Exact(1), F("arp_tpa").Bytes(ip("10.0.0.1"), nil)},
			&Move{Src: F("eth_src").All(), Dst: F("eth_dst").All()},
			&SetField{OXM: F("eth_src").Bytes(mac("00:00:00:00:ff:01"), nil)}, &SetField{OXM: F("arp_op").Exact(2)},
			&Move{Src: F("arp_sha").All(), Dst: F("arp_tha").All()}, &Move{Src: F("arp_spa").All(), Dst: F("arp_tpa").All()},
			&SetField{OXM: F("arp_sha").Bytes(mac("00:00:00:00:ff:01"), nil)}, &SetField{OXM: F("arp_spa").Bytes(ip("10.0.0.1"), nil)},
			&Move{Src: F("in_port").All(), Dst: Reg(14).Sub(0, 16)}, &SetField{OXM: Reg(10).Masked(1, 1)}, ResubmitTable(37)),
		flow(17, 100, Match{ip4, F("nw_ttl").Exact(1)}, &Controller{MaxLen: 0xffff, Reason: ReasonAction,
			Userdata: []byte{0, 0, 0, 0x0a, 0, 0, 0, 0}, Pause: true}),
		flow(18, 100, Match{ip4}, &DecTTL{}, &CheckPktLarger{PktLen: 1514, Dst: Reg(9).Sub(1, 1)}, ResubmitTable(19)),
		flow(37, 100, Match{Reg(15).Exact(0x8000), F("metadata").Exact(1)}, &Group{ID: 1}),
		flow(37, 100, Match{Reg(15).Exact(2), F("metadata").Exact(1)}, &SetField{OXM: F("tun_id").Exact(1)},
			&SetField{OXM: TunMetadata(0).Exact(0x10002)}, &Output{Port: 5}),
		flow(65, 100, Match{Reg(15).Exact(1), F("metadata").Exact(1)}, &OutputReg{Src: Reg(15).All(), MaxLen: 0xffff},
			&Note{Data: []byte("ovnd..")}, &Output{Port: PortInPort}),
		timed,
		{Command: FlowAdd, Table: 20, Priority: 10, BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny,
			Instructions: Instructions{Apply: []Action{&SetField{OXM: Reg(0).Exact(1)}},
				WriteMetadata: &WriteMetadata{Metadata: 2, Mask: 0xff}, GotoTable: Goto(21)}},
	}
}

func TestOVSInstallAndDump(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Features(ctx); err != nil {
		t.Fatalf("features: %v", err)
	}
	for _, m := range []Message{
		&TLVTableMod{Command: TLVAdd, Maps: []TLVMap{{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: 0}}},
		&SetPacketInFormat{Format: PacketInNXT2},
		&SetControllerID{ID: 0},
		&CTFlushZone{Zone: 5},
		&GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, CommandBucketID: BucketAll, Buckets: []Bucket{
			{ID: 0, Weight: 100, Actions: []Action{&Output{Port: 1}}}, {ID: 1, Weight: 100, Actions: []Action{&Output{Port: 2}}}}},
		&MeterMod{Command: MeterAdd, Flags: MeterPktps | MeterBurst, MeterID: 1, Bands: []MeterBand{{Type: BandDrop, Rate: 100, BurstSize: 10}}},
	} {
		if _, err := c.Send(ctx, m); err != nil {
			t.Fatalf("send %T: %v", m, err)
		}
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	select {
	case m := <-c.Async():
		t.Fatalf("switch complained: %v", m)
	default:
	}
	tlv, err := c.Request(ctx, &TLVTableRequest{})
	if err != nil {
		t.Fatalf("tlv table request: %v", err)
	}
	if r, ok := tlv.(*TLVTableReply); !ok || len(r.Maps) != 1 || r.Maps[0].OptionType != 0x80 {
		t.Fatalf("tlv table reply: %#v", tlv)
	}

	flows := ovnLikeFlows()
	msgs := make([]Message, len(flows))
	for i, f := range flows {
		msgs[i] = f
	}
	if err := c.Bundle(ctx, 1, msgs); err != nil {
		t.Fatalf("bundle: %v", err)
	}

	got, err := c.DumpFlows(ctx, NewFlowStatsRequest())
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, f := range got {
		ours = append(ours, f.NoStats())
	}
	slices.Sort(ours)
	want := dumpLines(o.ofctl(t, "--no-stats", "dump-flows", "br0"))
	if d := cmp.Diff(want, ours); d != "" {
		t.Errorf("our dump vs ovs-ofctl dump-flows --no-stats (-ovs-ofctl +ours):\n%s", d)
	}
	t.Logf("dump:\n%s", strings.Join(ours, "\n"))
	var desired []string
	for _, f := range flows {
		desired = append(desired, f.DumpString())
	}
	slices.Sort(desired)
	if d := cmp.Diff(want, desired); d != "" {
		t.Errorf("desired flows vs ovs-ofctl dump-flows --no-stats (-ovs-ofctl +desired):\n%s", d)
	}
	if len(ours) != len(flows) {
		t.Errorf("switch has %d flows, installed %d", len(ours), len(flows))
	}

	// A bundle with one bad flow changes nothing.
	bad := NewFlowMod(FlowAdd, 30, 1)
	bad.Instructions.Apply = []Action{&Group{ID: 99}}
	good := NewFlowMod(FlowAdd, 30, 2)
	err = c.Bundle(ctx, 2, []Message{good, bad})
	if err == nil {
		t.Fatal("bundle with a flow to a missing group succeeded")
	}
	t.Logf("bad bundle: %v", err)
	after, err := c.DumpFlows(ctx, &FlowStatsRequest{Table: 30, OutPort: PortAny, OutGroup: GroupAny})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 0 {
		t.Errorf("failed bundle left flows: %v", after)
	}
}

// TestOVSLargeBundle installs enough flows that the adds go out in several
// writes and the dump comes back in several multipart replies.
func TestOVSLargeBundle(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 3000
	msgs := make([]Message, n)
	for i := range n {
		fm := NewFlowMod(FlowAdd, 50, 100)
		fm.Match = Match{Reg(0).Exact(uint64(i)), F("metadata").Exact(7)}
		fm.Instructions.Apply = []Action{&SetField{OXM: Reg(1).Exact(uint64(i))}, ResubmitTable(51)}
		msgs[i] = fm
	}
	if err := c.Bundle(ctx, 9, msgs); err != nil {
		t.Fatal(err)
	}
	flows, err := c.DumpFlows(ctx, &FlowStatsRequest{Table: 50, OutPort: PortAny, OutGroup: GroupAny})
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != n {
		t.Fatalf("dumped %d flows, installed %d", len(flows), n)
	}
	// OVS sends reg0 back as the high half of xreg0; compare rendered.
	seen := map[string]bool{}
	for _, f := range flows {
		seen[f.NoStats()] = true
	}
	for _, m := range msgs {
		if s := m.(*FlowMod).DumpString(); !seen[s] {
			t.Fatalf("flow %s not in the dump", s)
		}
	}
}

// TestOVSBundleGroups puts a group and the flow that uses it in one
// bundle, as ofctrl does, then replaces the group's buckets.
func TestOVSBundleGroups(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	group := func(cmd uint16, port uint32) *GroupMod {
		return &GroupMod{Command: cmd, GroupType: GroupTypeSelect, GroupID: 7, CommandBucketID: BucketAll,
			Buckets: []Bucket{{ID: 0, Weight: 100, Actions: []Action{&Output{Port: port}}}}}
	}
	fm := NewFlowMod(FlowAdd, 0, 10)
	fm.Instructions.Apply = []Action{&Group{ID: 7}}
	if err := c.Bundle(ctx, 1, []Message{group(GroupAdd, 1), fm}); err != nil {
		t.Fatalf("bundle with group and flow: %v", err)
	}
	if err := c.Bundle(ctx, 2, []Message{group(GroupModify, 2)}); err != nil {
		t.Fatalf("bundle with group modify: %v", err)
	}
	got := strings.TrimSpace(o.ofctl(t, "dump-groups", "br0"))
	want := "OFPST_GROUP_DESC reply (OF1.5) (xid=0x2):\n group_id=7,type=select,bucket=bucket_id:0,weight:100,actions=output:2"
	if got != want {
		t.Errorf("dump-groups:\n%s", cmp.Diff(want, got))
	}
	groups, err := c.DumpGroups(ctx, GroupAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || " "+groups[0].String() != strings.Split(want, "\n")[1] {
		t.Errorf("our dump %v, ovs-ofctl's %q", groups, want)
	}
	m := &MeterMod{Command: MeterAdd, Flags: MeterPktps, MeterID: 3, Bands: []MeterBand{{Type: BandDrop, Rate: 10}}}
	// OVS refuses meter mods in bundles: ofctrl sends them before.
	var oe *Error
	if err := c.Bundle(ctx, 3, []Message{m}); !errors.As(err, &oe) || oe.ErrType != 17 || oe.Code != 10 {
		t.Errorf("meter mod in a bundle: %v, want OFPBFC_MSG_UNSUP", err)
	}
}

// TestOVSLargeBundleRefusal: OVS refuses one flow in the middle of a
// bundle of 3000 (it names a group the switch lacks); the error names
// that flow, and OVS applies nothing.
func TestOVSLargeBundleRefusal(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n, bad = 3000, 1717
	msg := func(i int) (Message, error) {
		fm := NewFlowMod(FlowAdd, 50, 100)
		fm.Match = Match{Reg(0).Exact(uint64(i)), F("metadata").Exact(7)}
		fm.Instructions.Apply = []Action{ResubmitTable(51)}
		if i == bad {
			fm.Instructions.Apply = []Action{&Group{ID: 4242}}
		}
		return fm, nil
	}
	err = c.BundleFunc(ctx, 3, n, msg)
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != bad {
		t.Fatalf("bundle with a flow naming a missing group: %v, want message %d refused", err, bad)
	}
	if s := be.Message.(*FlowMod).DumpString(); !strings.Contains(s, "reg0=0x6b5") || !strings.Contains(s, "group:4242") {
		t.Errorf("refused message = %s", s)
	}
	flows, err := c.DumpFlows(ctx, NewFlowStatsRequest())
	if err != nil || len(flows) != 0 {
		t.Fatalf("after the refused bundle the switch holds %d flows (%v), want none", len(flows), err)
	}
}

// TestOVSBundleStreamRefusal: a bundle sent in parts (OpenBundle, Add,
// Add, Commit) whose second part holds a flow OVS refuses is refused as
// a whole, and the error counts the refused message's index over both
// parts; a bundle in parts that OVS takes applies all of them at the
// commit and none before.
func TestOVSBundleStreamRefusal(t *testing.T) {
	o := startOVS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := Dial(ctx, "unix", o.mgmt(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	flow := func(base, bad int) func(int) (Message, error) {
		return func(i int) (Message, error) {
			fm := NewFlowMod(FlowAdd, 50, 100)
			fm.Match = Match{Reg(0).Exact(uint64(base + i))}
			fm.Instructions.Apply = []Action{ResubmitTable(51)}
			if i == bad {
				fm.Instructions.Apply = []Action{&Group{ID: 4242}}
			}
			return fm, nil
		}
	}
	send := func(id uint32, bad int) error {
		s, err := c.OpenBundle(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, 300, flow(0, -1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(ctx, 200, flow(300, bad)); err != nil {
			t.Fatal(err)
		}
		if s.Len() != 500 {
			t.Fatalf("bundle of %d messages, want 500", s.Len())
		}
		if flows, err := c.DumpFlows(ctx, NewFlowStatsRequest()); err != nil || len(flows) != 0 {
			t.Fatalf("before the commit the switch holds %d flows (%v)", len(flows), err)
		}
		return s.Commit(ctx, nil)
	}
	err = send(5, 17)
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != 317 {
		t.Fatalf("bundle in parts with a flow naming a missing group: %v, want message 317 refused", err)
	}
	if flows, err := c.DumpFlows(ctx, NewFlowStatsRequest()); err != nil || len(flows) != 0 {
		t.Fatalf("after the refused bundle the switch holds %d flows (%v), want none", len(flows), err)
	}
	if err := send(6, -1); err != nil {
		t.Fatal(err)
	}
	if flows, err := c.DumpFlows(ctx, NewFlowStatsRequest()); err != nil || len(flows) != 500 {
		t.Fatalf("after the bundle the switch holds %d flows (%v), want 500", len(flows), err)
	}
}

package openflow

import (
	"strings"
	"testing"
)

func TestFlowStatsRequest(t *testing.T) {
	m := NewFlowStatsRequest()
	checkMessage(t, m, "OFPST_FLOW request (OF1.5) (xid=0x1):")
	m = &FlowStatsRequest{Table: 3, OutPort: PortAny, OutGroup: GroupAny, Cookie: 5, CookieMask: ^uint64(0),
		Match: Match{Reg(14).Exact(1)}}
	checkMessage(t, m, "OFPST_FLOW request (OF1.5) (xid=0x1): table=3 reg14=0x1")
}

func TestFlowStatsReply(t *testing.T) {
	flows := []FlowStats{
		{Table: 0, DurationSec: 1, DurationNsec: 500000000, Priority: 100, Cookie: 0x5, PacketCount: 2, ByteCount: 84,
			Match:        Match{Reg(14).Exact(1), F("metadata").Exact(1), F("eth_src").Bytes(mac("00:00:00:00:00:01"), nil)},
			Instructions: Instructions{Apply: []Action{&SetField{OXM: Reg(13).Exact(1)}, ResubmitTable(8)}}},
		{Table: 8, Priority: 0x8000, IdleTimeout: 10, HardTimeout: 20, Flags: FlagSendFlowRem, Importance: 3},
	}
	m := &FlowStatsReply{Flows: flows}
	want := []string{
		"cookie=0x5, duration=1.500s, table=0, n_packets=2, n_bytes=84, priority=100,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01 actions=set_field:0x1->reg13,resubmit(,8)",
		"cookie=0x0, duration=0s, table=8, n_packets=0, n_bytes=0, idle_timeout=10, hard_timeout=20, send_flow_rem importance=3, actions=drop",
	}
	checkMessage(t, m, "OFPST_FLOW reply (OF1.5) (xid=0x1):\n "+strings.Join(want, "\n "))
	for i, f := range flows {
		if got := f.String(); got != want[i] {
			t.Errorf("String:\n got %s\nwant %s", got, want[i])
		}
	}
	if got, want := flows[0].NoStats(), "cookie=0x5, priority=100,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01 actions=set_field:0x1->reg13,resubmit(,8)"; got != want {
		t.Errorf("NoStats:\n got %s\nwant %s", got, want)
	}
}

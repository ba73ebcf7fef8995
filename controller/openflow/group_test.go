package openflow

import (
	"strings"
	"testing"
)

func TestGroupMod(t *testing.T) {
	for _, tc := range []struct {
		m    *GroupMod
		want string
	}{
		{&GroupMod{Command: GroupAdd, GroupType: GroupTypeSelect, GroupID: 1, CommandBucketID: BucketAll, Buckets: []Bucket{
			{ID: 0, Weight: 10, Actions: []Action{&Output{Port: 1}}},
			{ID: 1, Weight: 20, WatchPort: 3, Actions: []Action{ResubmitTable(8)}}}},
			"ADD group_id=1,type=select,bucket=bucket_id:0,weight:10,actions=output:1,bucket=bucket_id:1,weight:20,watch_port:3,actions=resubmit(,8)"},
		{&GroupMod{Command: GroupModify, GroupType: GroupTypeAll, GroupID: 2, CommandBucketID: BucketAll, Buckets: []Bucket{
			{ID: 7, Actions: []Action{&SetField{OXM: Reg(15).Exact(3)}, ResubmitTable(37)}}}},
			"MOD group_id=2,type=all,bucket=bucket_id:7,actions=set_field:0x3->reg15,resubmit(,37)"},
		{&GroupMod{Command: GroupAdd, GroupType: GroupTypeFastFailover, GroupID: 3, CommandBucketID: BucketAll, Buckets: []Bucket{
			{ID: 0, WatchPort: 1, Actions: []Action{&Output{Port: 1}}}, {ID: 1, WatchGroup: 9, Actions: []Action{&Output{Port: 2}}}}},
			"ADD group_id=3,type=ff,bucket=bucket_id:0,watch_port:1,actions=output:1,bucket=bucket_id:1,watch_group:9,actions=output:2"},
		{&GroupMod{Command: GroupAdd, GroupType: GroupTypeIndirect, GroupID: 4, CommandBucketID: BucketAll, Buckets: []Bucket{
			{ID: 0, Actions: []Action{&Output{Port: 1}}}}},
			"ADD group_id=4,type=indirect,bucket=bucket_id:0,actions=output:1"},
		{&GroupMod{Command: GroupDelete, GroupID: 1, CommandBucketID: BucketAll}, "DEL group_id=1,type=all"},
		{&GroupMod{Command: GroupDelete, GroupID: GroupAll, CommandBucketID: BucketAll}, "DEL group_id=4294967292,type=all"},
	} {
		checkMessage(t, tc.m, "OFPT_GROUP_MOD (OF1.5) (xid=0x1):\n "+tc.want)
		if got := tc.m.String(); got != tc.want {
			t.Errorf("String:\n got %s\nwant %s", got, tc.want)
		}
	}
}

func TestMeterMod(t *testing.T) {
	for _, tc := range []struct {
		m    *MeterMod
		want string
	}{
		{&MeterMod{Command: MeterAdd, Flags: MeterKbps | MeterBurst | MeterStats, MeterID: 1, Bands: []MeterBand{
			{Type: BandDrop, Rate: 100, BurstSize: 10}, {Type: BandDSCPRemark, Rate: 200, PrecLevel: 1}}},
			"ADD meter=1 kbps burst stats bands=\ntype=drop rate=100 burst_size=10\ntype=dscp_remark rate=200 burst_size=0 prec_level=1"},
		{&MeterMod{Command: MeterModify, Flags: MeterPktps, MeterID: 2, Bands: []MeterBand{{Type: BandDrop, Rate: 5}}},
			"MOD meter=2 pktps bands=\ntype=drop rate=5"},
		{&MeterMod{Command: MeterDelete, MeterID: 2}, "DEL meter=2 bands="},
		{&MeterMod{Command: MeterDelete, MeterID: MeterAll}, "DEL meter=all bands="},
	} {
		checkMessage(t, tc.m, "OFPT_METER_MOD (OF1.5) (xid=0x1): "+tc.want)
		if got := tc.m.String(); got != tc.want {
			t.Errorf("String:\n got %s\nwant %s", got, tc.want)
		}
	}
}

func TestGroupDesc(t *testing.T) {
	checkMessage(t, &GroupDescRequest{GroupID: GroupAll}, "OFPST_GROUP_DESC request (OF1.5) (xid=0x1): group_id=ALL")
	groups := []GroupDesc{
		{GroupType: GroupTypeSelect, GroupID: 7, Buckets: []Bucket{{ID: 0, Weight: 100, Actions: []Action{&Output{Port: 2}}}}},
		{GroupType: GroupTypeAll, GroupID: 8, Buckets: []Bucket{{ID: 1, Actions: []Action{ResubmitTable(3)}}}},
	}
	want := []string{
		"group_id=7,type=select,bucket=bucket_id:0,weight:100,actions=output:2",
		"group_id=8,type=all,bucket=bucket_id:1,actions=resubmit(,3)",
	}
	checkMessage(t, &GroupDescReply{Groups: groups}, "OFPST_GROUP_DESC reply (OF1.5) (xid=0x1):\n "+strings.Join(want, "\n "))
	for i, g := range groups {
		if got := g.String(); got != want[i] {
			t.Errorf("String:\n got %s\nwant %s", got, want[i])
		}
	}
}

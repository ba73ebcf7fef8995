package openflow

import (
	"net/netip"
	"testing"
)

func TestActions(t *testing.T) {
	ipMatch := Match{F("eth_type").Exact(0x0800)}
	for _, tc := range []struct {
		match Match
		in    Instructions
		want  string
	}{
		{nil, Instructions{Apply: []Action{&SetField{OXM: Reg(13).Masked(1, 0xf)}, ResubmitTable(8)}},
			"set_field:0x1/0xf->reg13,resubmit(,8)"},
		{nil, Instructions{Apply: []Action{&SetField{OXM: Reg(13).Exact(0)}, &SetField{OXM: Reg(1).Masked(5, 0xff)},
			&SetField{OXM: F("metadata").Exact(1)}, &SetField{OXM: F("eth_src").Bytes(mac("00:00:00:00:00:01"), nil)}}},
			"set_field:0->reg13,set_field:0x5/0xff->reg1,set_field:0x1->metadata,set_field:00:00:00:00:00:01->eth_src"},
		{ipMatch, Instructions{Apply: []Action{&SetField{OXM: F("ip_dst").Bytes(ip("1.2.3.4"), nil)}, &SetField{OXM: F("nw_ttl").Exact(64)}, &DecTTL{}}},
			"set_field:1.2.3.4->ip_dst,set_field:64->nw_ttl,dec_ttl"},
		{nil, Instructions{Apply: []Action{&Output{Port: 1}, &Output{Port: PortInPort}, &Output{Port: PortLocal},
			&Output{Port: PortController, MaxLen: 65535}, &Output{Port: PortNormal}, &Group{ID: 3}, &SetQueue{ID: 2}}},
			"output:1,IN_PORT,LOCAL,CONTROLLER:65535,NORMAL,group:3,set_queue:2"},
		{nil, Instructions{Apply: []Action{&PushVLAN{EtherType: 0x8100}, &SetField{OXM: F("vlan_vid").Exact(0x1005)}, &PopVLAN{}}},
			"push_vlan:0x8100,set_field:4101->vlan_vid,pop_vlan"},
		{nil, Instructions{Apply: []Action{&Resubmit{InPort: 3, Table: 255}, &Resubmit{InPort: 3, Table: 9}}},
			"resubmit:3,resubmit(3,9)"},
		{Match{F("eth_type").Exact(0x0800), F("ct_state").Masked(0x20, 0x30)}, Instructions{Apply: []Action{
			&Resubmit{InPort: 0xfff8, Table: 10, CT: true}}}, "resubmit(,10,ct)"},
		{ipMatch, Instructions{Apply: []Action{&Move{Src: Reg(1).All(), Dst: Reg(2).All()},
			&Move{Src: F("in_port").All(), Dst: Reg(1).Sub(0, 16)},
			&Move{Src: F("metadata").Sub(0, 32), Dst: Reg(0).All()},
			&Move{Src: F("xreg1").All(), Dst: F("xxreg0").Sub(0, 64)},
			&Move{Src: F("ct_label").All(), Dst: F("xxreg1").All()},
			&Move{Src: F("ip_dscp").All(), Dst: Reg(2).Sub(0, 6)},
			&Move{Src: TunMetadata(0).Sub(0, 32), Dst: Reg(3).All()},
			&Move{Src: F("eth_src").All(), Dst: F("eth_dst").All()}}},
			"move:NXM_NX_REG1[]->NXM_NX_REG2[],move:NXM_OF_IN_PORT[]->NXM_NX_REG1[0..15]," +
				"move:OXM_OF_METADATA[0..31]->NXM_NX_REG0[],move:OXM_OF_PKT_REG1[]->NXM_NX_XXREG0[0..63]," +
				"move:NXM_NX_CT_LABEL[]->NXM_NX_XXREG1[],move:OXM_OF_IP_DSCP[]->NXM_NX_REG2[0..5]," +
				"move:NXM_NX_TUN_METADATA0[0..31]->NXM_NX_REG3[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]"},
		{ipMatch, Instructions{Apply: []Action{&CT{Flags: CTCommit, Table: 9, ZoneSrc: Reg(13).Sub(0, 16),
			Actions: []Action{&NAT{Flags: NATSrc | NATProtoRand, IPMin: netip.MustParseAddr("10.0.0.1"),
				IPMax: netip.MustParseAddr("10.0.0.5"), ProtoMin: 100, ProtoMax: 200},
				&SetField{OXM: F("ct_mark").Masked(2, 2)}}}}},
			"ct(commit,table=9,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1-10.0.0.5:100-200,random),exec(set_field:0x2/0x2->ct_mark))"},
		{Match{F("eth_type").Exact(0x86dd)}, Instructions{Apply: []Action{&CT{Flags: CTCommit, Table: 3,
			Actions: []Action{&NAT{Flags: NATDst, IPMin: netip.MustParseAddr("fe80::1")}}}}},
			"ct(commit,table=3,nat(dst=fe80::1))"},
		{Match{F("eth_type").Exact(0x86dd)}, Instructions{Apply: []Action{&CT{Flags: CTCommit, Table: 3,
			Actions: []Action{&NAT{Flags: NATSrc, IPMin: netip.MustParseAddr("fe80::1"), IPMax: netip.MustParseAddr("fe80::2"), ProtoMin: 5}}}}},
			"ct(commit,table=3,nat(src=[fe80::1]-[fe80::2]:5))"},
		{Match{F("eth_type").Exact(0x0800), F("nw_proto").Exact(6)}, Instructions{Apply: []Action{&CT{Table: CTNoTable, Zone: 5, Actions: []Action{&NAT{}}},
			&CT{Flags: CTCommit | CTForce, Table: CTNoTable, Alg: 21,
				Actions: []Action{&SetField{OXM: F("ct_label").Bytes(uintBytes(1, 16), uintBytes(0xff, 16))}}},
			&CT{Flags: CTCommit, Table: 3, Actions: []Action{&NAT{Flags: NATDst | NATPersistent | NATProtoHash, IPMin: netip.MustParseAddr("1.1.1.1"), ProtoMin: 80}}},
			&CTClear{}}},
			"ct(zone=5,nat),ct(commit,force,exec(set_field:0x1/0xff->ct_label),alg=ftp)," +
				"ct(commit,table=3,nat(dst=1.1.1.1:80,persistent,hash)),ct_clear"},
		{nil, Instructions{Apply: []Action{&Controller{MaxLen: 65535, Reason: ReasonAction, Userdata: []byte{0, 0, 1}, Pause: true},
			&Controller{MaxLen: 128, ID: 5, Reason: ReasonNoMatch}, &Controller{MaxLen: 65535, Reason: ReasonAction},
			&Controller{MaxLen: 65535, Reason: ReasonAction, Userdata: []byte{0xab}, MeterID: 7}}},
			"controller(userdata=00.00.01,pause),controller(reason=no_match,max_len=128,id=5),CONTROLLER:65535," +
				"controller(userdata=ab,meter_id=7)"},
		{nil, Instructions{Apply: []Action{&Conjunction{ID: 1, Clause: 1, NClauses: 3}, &Note{Data: []byte{1, 2, 3, 4, 5, 6}}}},
			"conjunction(1,2/3),note:01.02.03.04.05.06"},
		{ipMatch, Instructions{Apply: []Action{&OutputReg{Src: Reg(15).All(), MaxLen: 0xffff},
			&CheckPktLarger{PktLen: 1500, Dst: Reg(10).Sub(0, 1)}, &Note{Data: []byte("0123456789abcd")}}},
			"output:NXM_NX_REG15[],check_pkt_larger(1500)->NXM_NX_REG10[0],note:30.31.32.33.34.35.36.37.38.39.61.62.63.64"},
		{nil, Instructions{Apply: []Action{&Output{Port: 2}}, ClearActions: true, Write: []Action{&Group{ID: 1}},
			WriteMetadata: &WriteMetadata{Metadata: 1, Mask: 0xff}, GotoTable: Goto(5)},
			"output:2,clear_actions,write_actions(group:1),write_metadata:0x1/0xff,goto_table:5"},
		{ipMatch, Instructions{Apply: []Action{&Learn{Table: 69, IdleTimeout: 30, HardTimeout: 60, Priority: 100,
			Cookie: 0x5, Flags: LearnDeleteLearned, Specs: []LearnSpec{
				{Kind: LearnMatch, Src: F("metadata").All(), Dst: F("metadata").All()},
				{Kind: LearnMatch, Value: []byte{0x08, 0x00}, Dst: F("eth_type").All()},
				{Kind: LearnMatch, Src: F("ip_src").All(), Dst: F("ip_dst").All()},
				{Kind: LearnMatch, Value: []byte{0, 6}, Dst: F("nw_proto").All()},
				{Kind: LearnMatch, Value: []byte{0, 5}, Dst: Reg(1).Sub(0, 4)},
				{Kind: LearnLoad, Value: []byte{0, 1}, Dst: Reg(10).Sub(7, 1)},
				{Kind: LearnLoad, Src: F("in_port").All(), Dst: Reg(0).Sub(0, 16)},
				{Kind: LearnOutput, Src: F("in_port").All()}}}}},
			"learn(table=69,idle_timeout=30,hard_timeout=60,priority=100,delete_learned,cookie=0x5,OXM_OF_METADATA[]," +
				"eth_type=0x800,NXM_OF_IP_DST[]=NXM_OF_IP_SRC[],nw_proto=6,NXM_NX_REG1[0..3]=0x5,load:0x1->NXM_NX_REG10[7]," +
				"load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[])"},
		{nil, Instructions{WriteMetadata: &WriteMetadata{Metadata: 1, Mask: ^uint64(0)}}, "write_metadata:0x1"},
	} {
		fm := NewFlowMod(FlowAdd, 1, 100)
		fm.Match = tc.match
		fm.Instructions = tc.in
		prefix := "ADD table:1 priority=100"
		if len(tc.match) > 0 {
			prefix += "," + tc.match.String()
		}
		want := prefix + " actions=" + tc.want
		checkMessage(t, fm, fmPrefix+want)
		if got := fm.String(); got != want {
			t.Errorf("String:\n got %s\nwant %s", got, want)
		}
	}
}

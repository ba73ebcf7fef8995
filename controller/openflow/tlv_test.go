package openflow

import "testing"

const tlvTable = "  class  type  length  match field\n ------  ----  ------  --------------\n  0x102  0x80       4  tun_metadata0"

func TestNiciraMessages(t *testing.T) {
	ovn := []TLVMap{{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: 0}}
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{&SetPacketInFormat{Format: PacketInNXT2}, "NXT_SET_PACKET_IN_FORMAT (OF1.5) (xid=0x1): format=nxt_packet_in2"},
		{&CTFlushZone{Zone: 5}, "NXT_CT_FLUSH_ZONE (OF1.5) (xid=0x1): zone_id=5"},
		{&SetControllerID{ID: 7}, "NXT_SET_CONTROLLER_ID (OF1.5) (xid=0x1): id=7"},
		{&TLVTableMod{Command: TLVAdd, Maps: ovn}, "NXT_TLV_TABLE_MOD (OF1.5) (xid=0x1):\n ADD mapping table:\n" + tlvTable},
		{&TLVTableMod{Command: TLVClear}, "NXT_TLV_TABLE_MOD (OF1.5) (xid=0x1):\n CLEAR"},
		{&TLVTableRequest{}, "NXT_TLV_TABLE_REQUEST (OF1.5) (xid=0x1):"},
		{&TLVTableReply{MaxOptionSpace: 256, MaxFields: 64, Maps: ovn}, "NXT_TLV_TABLE_REPLY (OF1.5) (xid=0x1):\n max option space=256 max fields=64\n allocated option space=4\n\n mapping table:\n" + tlvTable},
	} {
		checkMessage(t, tc.m, tc.want)
	}
}

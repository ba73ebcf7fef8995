package openflow

import "testing"

func TestBasicMessages(t *testing.T) {
	for _, tc := range []struct {
		m    Message
		want string
	}{
		{&Hello{Versions: []uint8{4, 6}}, "OFPT_HELLO (OF1.5) (xid=0x1):\n version bitmap: 0x04, 0x06"},
		{&Hello{}, "OFPT_HELLO (OF1.5) (xid=0x1):\n version bitmap: 0x01, 0x02, 0x03, 0x04, 0x05, 0x06"},
		{&EchoRequest{Data: []byte("hi")}, "OFPT_ECHO_REQUEST (OF1.5) (xid=0x1): 2 bytes of payload\n00000000  68 69                                           |hi              |"},
		{&EchoReply{}, "OFPT_ECHO_REPLY (OF1.5) (xid=0x1): 0 bytes of payload"},
		{&FeaturesRequest{}, "OFPT_FEATURES_REQUEST (OF1.5) (xid=0x1):"},
		{&FeaturesReply{DatapathID: 0xabc, NBuffers: 0, NTables: 254, Capabilities: 0x4f},
			"OFPT_FEATURES_REPLY (OF1.5) (xid=0x1): dpid:0000000000000abc\nn_tables:254, n_buffers:0\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS"},
		{&BarrierRequest{}, "OFPT_BARRIER_REQUEST (OF1.5) (xid=0x1):"},
		{&BarrierReply{}, "OFPT_BARRIER_REPLY (OF1.5) (xid=0x1):"},
		{&SetConfig{SwitchConfig{Flags: FragNormal, MissSendLen: 128}}, "OFPT_SET_CONFIG (OF1.5) (xid=0x1): frags=normal miss_send_len=128"},
		{&GetConfigRequest{}, "OFPT_GET_CONFIG_REQUEST (OF1.5) (xid=0x1):"},
		{&GetConfigReply{SwitchConfig{Flags: FragDrop, MissSendLen: 0xffff}}, "OFPT_GET_CONFIG_REPLY (OF1.5) (xid=0x1): frags=drop miss_send_len=65535"},
		{&Error{ErrType: 2, Code: 4, Data: []byte{6, 20, 0, 8, 0, 0, 0, 1}}, "OFPT_ERROR (OF1.5) (xid=0x1): OFPBAC_BAD_OUT_PORT\nOFPT_BARRIER_REQUEST (OF1.5) (xid=0x1):"},
	} {
		checkMessage(t, tc.m, tc.want)
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		want string
	}{
		{&Error{ErrType: 2, Code: 4}, "openflow error: OFPBAC_BAD_OUT_PORT"},
		{&Error{ErrType: 17, Code: 13}, "openflow error: OFPBFC_MSG_FAILED"},
		{&Error{ErrType: 7, Code: 1}, "openflow error: OFPET_PORT_MOD_FAILED code 1"},
		{&Error{ErrType: 99, Code: 1}, "openflow error: type 99 code 1"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
}

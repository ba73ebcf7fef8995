package openflow

import "testing"

func TestBundleControl(t *testing.T) {
	for _, tc := range []struct {
		m    *BundleControl
		want string
	}{
		{&BundleControl{BundleID: 1, CtlType: BundleOpenRequest, Flags: BundleAtomic | BundleOrdered},
			"OFPT_BUNDLE_CONTROL (OF1.5) (xid=0x1):\n bundle_id=0x1 type=OPEN_REQUEST flags=atomic ordered"},
		{&BundleControl{BundleID: 1, CtlType: BundleCommitReply},
			"OFPT_BUNDLE_CONTROL (OF1.5) (xid=0x1):\n bundle_id=0x1 type=COMMIT_REPLY flags=0"},
		{&BundleControl{BundleID: 0x20, CtlType: BundleDiscardRequest, Flags: BundleAtomic},
			"OFPT_BUNDLE_CONTROL (OF1.5) (xid=0x1):\n bundle_id=0x20 type=DISCARD_REQUEST flags=atomic"},
	} {
		checkMessage(t, tc.m, tc.want)
	}
}

func TestBundleAdd(t *testing.T) {
	fm := NewFlowMod(FlowAdd, 0, 10)
	fm.Match = Match{Reg(14).Exact(1)}
	fm.Instructions.Apply = []Action{ResubmitTable(8)}
	m := &BundleAdd{BundleID: 7, Flags: BundleAtomic, Message: fm}
	checkMessage(t, m, "OFPT_BUNDLE_ADD_MESSAGE (OF1.5) (xid=0x1):\n bundle_id=0x7 flags=atomic\n"+
		"OFPT_FLOW_MOD (OF1.5) (xid=0x1): ADD priority=10,reg14=0x1 actions=resubmit(,8)")
}

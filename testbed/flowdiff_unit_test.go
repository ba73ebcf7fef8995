package testbed_test

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/testbed"
)

// Two dumps of the same pipeline, numbered differently (ports, cookies,
// groups, conjunctions, zones), normalise to the same state; a changed
// action does not.
func TestNormalizeFlows(t *testing.T) {
	a := ` cookie=0x1, table=0, priority=100,in_port=2 actions=set_field:0x3->reg13,set_field:0x1->metadata,resubmit(,8)
 cookie=0x2, table=14, priority=120,tcp,metadata=0x1,nw_dst=10.66.0.200 actions=group:1
 cookie=0x3, table=44, priority=2000,ip,metadata=0x1 actions=conjunction(7,1/2)
 cookie=0x3, table=44, priority=2000,conj_id=7,ip,metadata=0x1 actions=resubmit(,45)
 cookie=0x4, table=39, priority=100,reg15=0x1,metadata=0x1 actions=output:3
 cookie=0x4, table=12, priority=100,ip,metadata=0x3 actions=ct(commit,zone=5,nat(src=172.16.6.1))
 cookie=0x5, table=39, priority=100,reg15=0x3,metadata=0x3 actions=bundle(eth_src,0,active_backup,ofport,members:3)
`
	b := `OFPST_FLOW reply (OF1.5) (xid=0x2):
 table=39, priority=100,reg15=0x1,metadata=0x1 actions=output:1
 cookie=0xaa, table=44, priority=2000,conj_id=12,ip,metadata=0x1 actions=resubmit(,45)
 cookie=0xbb, table=44, priority=2000,ip,metadata=0x1 actions=conjunction(12,1/2)
 cookie=0xcc, priority=100,in_port=7 actions=set_field:0x9->reg13,set_field:0x1->metadata,resubmit(,8)
 cookie=0xdd, table=14, priority=120,tcp,metadata=0x1,nw_dst=10.66.0.200 actions=group:4
 cookie=0xee, table=12, priority=100,ip,metadata=0x3 actions=ct(commit,zone=9,nat(src=172.16.6.1))
 cookie=0xef, table=39, priority=100,reg15=0x3,metadata=0x3 actions=bundle(eth_src,0,active_backup,ofport,members:1)
`
	ga := "OFPST_GROUP_DESC reply (OF1.5) (xid=0x2):\n group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,weight:100,actions=output:3\n"
	gb := "OFPST_GROUP_DESC reply (OF1.5) (xid=0x2):\n group_id=4,type=select,selection_method=dp_hash,bucket=bucket_id:5,weight:100,actions=output:1\n"
	sa, err := testbed.NormalizeFlows(a, ga, testbed.FlowNames{Ports: map[int]string{2: "vif:p", 3: "tun:172.31.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := testbed.NormalizeFlows(b, gb, testbed.FlowNames{Ports: map[int]string{7: "vif:p", 1: "tun:172.31.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := testbed.DiffFlows(sa, sb); !d.Empty() {
		t.Errorf("same pipeline differs:\n%s\nwant:\n%s\ngot:\n%s", d, sa, sb)
	}
	if !strings.Contains(sa.String(), "table=0, priority=100,in_port=vif:p actions=set_field:Z->reg13") {
		t.Errorf("table 0 not normalised:\n%s", sa)
	}
	if !strings.Contains(sa.String(), "group:{type=select,selection_method=dp_hash,bucket=weight:100,actions=output:tun:172.31.0.2}") {
		t.Errorf("group not inlined:\n%s", sa)
	}

	c := strings.Replace(b, "resubmit(,8)", "resubmit(,9)", 1)
	sc, err := testbed.NormalizeFlows(c, gb, testbed.FlowNames{Ports: map[int]string{7: "vif:p", 1: "tun:172.31.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	d := testbed.DiffFlows(sa, sc)
	if d.Empty() {
		t.Fatal("a changed action is not a difference")
	}
	if d[0].Table != 0 || len(d[0].Missing) != 1 || len(d[0].Extra) != 1 || d[0].Same != 0 {
		t.Errorf("table 0 diff = %+v, want one missing and one extra", d[0])
	}
	if !strings.Contains(d.Summary(), "table   0:    0 identical,   1 missing,   1 extra  DIFFERS") {
		t.Errorf("summary:\n%s", d.Summary())
	}
}

func TestNormalizeFlowsBadLine(t *testing.T) {
	if _, err := testbed.NormalizeFlows("garbage without a table\n", "", testbed.FlowNames{}); err == nil {
		t.Error("a line that is no flow: no error")
	}
}

// Logical ports numbered differently by two northd runs normalise to
// their names, read against the datapath the flow is on at that point.
func TestNormalizeFlowsLogicalNames(t *testing.T) {
	a := ` table=0, priority=100,in_port=2 actions=set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)
 table=8, priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)
 table=65, priority=100,reg15=0x2,metadata=0x1 actions=clone(set_field:0x3->metadata,set_field:0x1->reg14,resubmit(,8))
 table=40, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x3->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x4->reg13,set_field:0x2->reg15,resubmit(,41),set_field:0x8000->reg15
 table=39, priority=100,reg15=0x1,metadata=0x1 actions=set_field:0x1/0xffffff->tun_id,set_field:0x1->tun_metadata0,output:1
 table=38, priority=100,reg15=0x1,metadata=0x1 actions=set_field:0x1001/0xffffff->tun_id,output:1
`
	b := ` table=0, priority=100,in_port=2 actions=set_field:0x1->metadata,set_field:0x4->reg14,resubmit(,8)
 table=8, priority=50,reg14=0x4,metadata=0x1 actions=resubmit(,9)
 table=65, priority=100,reg15=0x5,metadata=0x1 actions=clone(set_field:0x3->metadata,set_field:0x1->reg14,resubmit(,8))
 table=40, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x7->reg13,set_field:0x5->reg15,resubmit(,41),set_field:0x9->reg13,set_field:0x4->reg15,resubmit(,41),set_field:0x8000->reg15
 table=39, priority=100,reg15=0x4,metadata=0x1 actions=set_field:0x1/0xffffff->tun_id,set_field:0x4->tun_metadata0,output:1
 table=38, priority=100,reg15=0x4,metadata=0x1 actions=set_field:0x4001/0xffffff->tun_id,output:1
`
	na := testbed.FlowNames{Datapaths: map[uint32]string{1: "dp:in", 3: "dp:nat"},
		LogicalPorts: map[[2]uint32]string{{1, 1}: "lp:a", {1, 2}: "lp:in-nat", {3, 1}: "lp:nat-in", {1, 0x8000}: "mc:_MC_flood"}}
	nb := testbed.FlowNames{Datapaths: map[uint32]string{1: "dp:in", 3: "dp:nat"},
		LogicalPorts: map[[2]uint32]string{{1, 4}: "lp:a", {1, 5}: "lp:in-nat", {3, 1}: "lp:nat-in", {1, 0x8000}: "mc:_MC_flood"}}
	sa, err := testbed.NormalizeFlows(a, "", na)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := testbed.NormalizeFlows(b, "", nb)
	if err != nil {
		t.Fatal(err)
	}
	if d := testbed.DiffFlows(sa, sb); !d.Empty() {
		t.Errorf("same pipeline differs:\n%s", d)
	}
	for _, want := range []string{
		"table=65, priority=100,reg15=lp:in-nat,metadata=dp:in actions=clone(set_field:dp:nat->metadata,set_field:lp:nat-in->reg14,resubmit(,8))",
		"set_field:dp:in->tun_id,set_field:lp:a->tun_metadata0", // Geneve
		"set_field:lp:a@dp:in->tun_id,", // VXLAN
	} {
		if !strings.Contains(sa.String(), want) {
			t.Errorf("want %q in\n%s", want, sa)
		}
	}
}

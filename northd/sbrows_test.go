package northd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// TestInsertRowsMatchMapper checks the hand-written inserts against
// what libovsdb's API makes of the same model, on the wire, both as
// appendOp writes them and as encoding/json does.
func TestInsertRowsMatchMapper(t *testing.T) {
	dp, grp := "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11", "row2"
	tag, up, meter, parent := 7, false, "m1", "vm1"
	cases := []struct {
		m   model.Model
		uid string
	}{
		{&sbdb.LogicalFlow{UUID: "row1", Pipeline: sbdb.LogicalFlowPipelineIngress, TableID: 0, Priority: 0,
			Match: "1", Actions: "next;", LogicalDatapath: &dp, ExternalIDs: map[string]string{"stage-name": "ls_in_port_sec_l2"}}, "row1"},
		{&sbdb.LogicalFlow{UUID: "row3", Pipeline: sbdb.LogicalFlowPipelineEgress, TableID: 9, Priority: 65535,
			Match: `outport == "p\"1"`, Actions: "output;", LogicalDpGroup: &grp, ControllerMeter: &meter,
			Tags: map[string]string{"in_out_port": "p1"}}, "row3"},
		{&sbdb.LogicalDPGroup{UUID: "row2", Datapaths: []string{dp, "row9"}}, "row2"},
		{&sbdb.DatapathBinding{UUID: "row9", TunnelKey: 12, ExternalIDs: map[string]string{"logical-switch": dp, "name": "ls1"}}, "row9"},
		{&sbdb.PortBinding{UUID: "row4", LogicalPort: "p1", Datapath: "row9", TunnelKey: 3, Type: "localnet",
			Options: map[string]string{"network_name": "phys"}, MAC: []string{"unknown"}, PortSecurity: []string{"0a:00:00:00:00:01"},
			ExternalIDs: map[string]string{"a": "b"}, ParentPort: &parent, Tag: &tag, Up: &up}, "row4"},
		{&sbdb.PortBinding{UUID: "row5", LogicalPort: "p2", Datapath: dp, TunnelKey: 1, Up: &up}, "row5"},
		{&sbdb.MulticastGroup{UUID: "row6", Datapath: dp, Name: "_MC_flood", TunnelKey: 32768, Ports: []string{"row4", "row5"}}, "row6"},
		{&sbdb.MulticastGroup{UUID: "row7", Datapath: dp, Name: "_MC_unknown", TunnelKey: 32769}, "row7"},
	}
	for _, c := range cases {
		var got ovsdb.Operation
		switch m := c.m.(type) {
		case *sbdb.LogicalFlow:
			got = insertFlow(m)
		case *sbdb.LogicalDPGroup:
			got = insertDPGroup(m)
		case *sbdb.DatapathBinding:
			got = insertDatapath(m)
		case *sbdb.PortBinding:
			got = insertPort(m)
		case *sbdb.MulticastGroup:
			got = insertMCGroup(m)
		}
		r := sbRow(t, c.m)
		delete(r, "_uuid")
		want := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: got.Table, Row: r, UUIDName: c.uid}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		viaLib, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := appendOp(nil, got)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(canonJSON(t, wantJSON), canonJSON(t, viaLib)); d != "" {
			t.Errorf("%s %s via encoding/json (-mapper +ours):\n%s", got.Table, c.uid, d)
		}
		if d := cmp.Diff(canonJSON(t, wantJSON), canonJSON(t, direct)); d != "" {
			t.Errorf("%s %s via appendOp (-mapper +ours):\n%s", got.Table, c.uid, d)
		}
	}
}

func TestDeleteOpMatchesAPI(t *testing.T) {
	u := "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"
	got, err := appendOp(nil, deleteOp(sbdb.LogicalFlowTable, u))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"delete","table":"Logical_Flow","where":[["_uuid","==",["uuid","` + u + `"]]]}`
	if string(got) != want {
		t.Errorf("deleteOp = %s, want %s", got, want)
	}
}

// A transaction sent through libovsdb (no lock session) decodes its
// encoded operations back into ones that mean the same.
func TestTxnOperationsDecodeEncoded(t *testing.T) {
	dp, up := "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11", false
	var txn sbTxn
	txn.encoded(insertFlow(&sbdb.LogicalFlow{UUID: "row1", Pipeline: sbdb.LogicalFlowPipelineIngress, TableID: 2,
		Priority: 50, Match: `eth.src == {1, 2} && "x"`, Actions: "next;", LogicalDatapath: &dp,
		ExternalIDs: map[string]string{"stage-name": "ls_in_acl"}}))
	txn.encoded(insertPort(&sbdb.PortBinding{UUID: "row2", LogicalPort: "p1", Datapath: dp, TunnelKey: 1, Up: &up,
		MAC: []string{"a", "b"}}))
	txn.add([]ovsdb.Operation{deleteOp(sbdb.PortBindingTable, dp)}, nil)
	txn.encoded(deleteOp(sbdb.LogicalFlowTable, dp))
	ops, err := txn.operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 4 {
		t.Fatalf("%d operations, want 4", len(ops))
	}
	for i, op := range ops {
		want, err := txn.appendTo(nil, i)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(canonJSON(t, want), canonJSON(t, got)); d != "" {
			t.Errorf("operation %d (-encoded +decoded):\n%s", i, d)
		}
	}
}

// check fails a transaction as ovsdb.CheckOperationResults does: too
// few results, a failed operation (named by its index, op and table),
// or the extra result of a failed commit; and passes a clean one.
func TestTxnCheck(t *testing.T) {
	var txn sbTxn
	txn.encoded(deleteOp(sbdb.LogicalFlowTable, "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"))
	txn.add([]ovsdb.Operation{deleteOp(sbdb.PortBindingTable, "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a12")}, nil)
	ok := []ovsdb.OperationResult{{Count: 1}, {Count: 1}}
	if err := txn.check(ok); err != nil {
		t.Errorf("clean results: %v", err)
	}
	for _, c := range []struct {
		res  []ovsdb.OperationResult
		want string
	}{
		{ok[:1], "2 operations submitted but only 1 results"},
		{[]ovsdb.OperationResult{{Count: 1}, {Error: "constraint violation", Details: "no such row"}},
			"1 ovsdb operations failed, the first: operation 1 (delete Port_Binding): constraint violation: no such row"},
		{[]ovsdb.OperationResult{{Count: 1}, {Count: 1}, {Error: "referential integrity violation", Details: "x"}},
			"commit: referential integrity violation: x"},
	} {
		err := txn.check(c.res)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check(%v) = %v, want an error with %q", c.res, err, c.want)
		}
		if _, lerr := ovsdb.CheckOperationResults(c.res, make([]ovsdb.Operation, txn.len())); lerr == nil {
			t.Errorf("libovsdb passes %v, which check fails", c.res)
		}
	}
}

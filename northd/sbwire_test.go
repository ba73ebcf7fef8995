package northd

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbRow maps m to a row as libovsdb's API does for an insert.
func sbRow(t *testing.T, m model.Model) ovsdb.Row {
	t.Helper()
	var schema ovsdb.DatabaseSchema
	if err := json.Unmarshal(ovnschema.Southbound, &schema); err != nil {
		t.Fatal(err)
	}
	cm, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	db, errs := model.NewDatabaseModel(schema, cm)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	info, err := db.NewModelInfo(m)
	if err != nil {
		t.Fatal(err)
	}
	row, err := db.Mapper.NewRow(info)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// TestAppendOpMeansWhatLibovsdbSends checks that appendOp's JSON decodes
// to what encoding/json makes of the same operation (map pairs compared
// as sets, since libovsdb writes them in map order).
func TestAppendOpMeansWhatLibovsdbSends(t *testing.T) {
	dp, grp := "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11", "row7"
	tag, up := 42, false
	odd := "inport == \"a\\b\" && tab\there <&> \x01 é \xff end"
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationInsert, Table: sbdb.LogicalFlowTable, UUIDName: "row1", Row: sbRow(t, &sbdb.LogicalFlow{
			Pipeline: sbdb.LogicalFlowPipelineIngress, TableID: 3, Priority: 100, Match: odd, Actions: "next;",
			LogicalDpGroup: &grp, ExternalIDs: map[string]string{"stage-name": "ls_in_acl", "b": "2", "a": "1"}})},
		{Op: ovsdb.OperationInsert, Table: sbdb.LogicalFlowTable, UUIDName: "row2", Row: sbRow(t, &sbdb.LogicalFlow{
			Pipeline: sbdb.LogicalFlowPipelineEgress, LogicalDatapath: &dp, Match: "1", Actions: "drop;"})},
		{Op: ovsdb.OperationInsert, Table: sbdb.PortBindingTable, UUIDName: "row3", Row: sbRow(t, &sbdb.PortBinding{
			LogicalPort: "p1", Datapath: dp, TunnelKey: 7, Tag: &tag, Up: &up, MAC: []string{"0a:00:00:00:00:01 10.0.0.2"},
			PortSecurity: []string{"x", "y"}, Options: map[string]string{"requested-chassis": "hv1"}})},
		{Op: ovsdb.OperationInsert, Table: sbdb.LogicalDPGroupTable, UUIDName: "row7", Row: sbRow(t, &sbdb.LogicalDPGroup{
			Datapaths: []string{dp, "row5", "b2a8a3d4-2a0e-4d6b-8f57-3a4cb5a9f1c0"}})},
		{Op: ovsdb.OperationInsert, Table: sbdb.MulticastGroupTable, UUIDName: "row8", Row: sbRow(t, &sbdb.MulticastGroup{
			Datapath: dp, Name: "_MC_flood", TunnelKey: 32768, Ports: []string{"row3"}})},
		{Op: ovsdb.OperationUpdate, Table: sbdb.SBGlobalTable, Row: ovsdb.Row{"nb_cfg": 5, "options": ovsdb.OvsMap{GoMap: map[any]any{"k": "v", "a": ""}}},
			Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: dp}}}},
		{Op: ovsdb.OperationDelete, Table: sbdb.LogicalFlowTable,
			Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: dp}}}},
		{Op: ovsdb.OperationSelect, Table: sbdb.LogicalFlowTable},
		{Op: ovsdb.OperationUpdate, Table: "Logical_Switch_Port", Row: ovsdb.Row{"up": false},
			Where: []ovsdb.Condition{{Column: "up", Function: ovsdb.ConditionEqual, Value: ovsdb.OvsSet{GoSet: []any{}}},
				{Column: "type", Function: ovsdb.ConditionNotEqual, Value: "router"}}},
		{Op: ovsdb.OperationMutate, Table: sbdb.SBGlobalTable, Where: []ovsdb.Condition{},
			Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
	}
	for i, op := range ops {
		t.Run(fmt.Sprintf("%d-%s-%s", i, op.Op, op.Table), func(t *testing.T) {
			got, err := appendOp(nil, op)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(op)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(canonJSON(t, want), canonJSON(t, got)); d != "" {
				t.Errorf("appendOp differs from json.Marshal (-want +got):\n%s\ngot %s", d, got)
			}
		})
	}
}

// canonJSON decodes b, with the pairs of every ["map", pairs] sorted.
func canonJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return canon(v)
}

func canon(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = canon(e)
		}
	case []any:
		for i, e := range v {
			v[i] = canon(e)
		}
		if len(v) == 2 && v[0] == "map" {
			if pairs, ok := v[1].([]any); ok {
				slices.SortFunc(pairs, func(a, b any) int {
					return cmpOrdered(fmt.Sprint(a), fmt.Sprint(b))
				})
			}
		}
	}
	return v
}

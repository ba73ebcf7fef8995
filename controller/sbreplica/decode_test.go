package sbreplica

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

const (
	u1 = "11111111-1111-1111-1111-111111111111"
	u2 = "22222222-2222-2222-2222-222222222222"
	u3 = "33333333-3333-3333-3333-333333333333"
	d1 = "d1d1d1d1-0000-0000-0000-000000000001"
	d2 = "d2d2d2d2-0000-0000-0000-000000000002"
	g1 = "99999999-0000-0000-0000-000000000001"
	g2 = "99999999-0000-0000-0000-000000000002"
)

var sbSpecs = []Spec{{Table: "Logical_Flow"}, {Table: "Port_Group"}, {Table: "Port_Binding"},
	{Table: "Multicast_Group"}, {Table: "Datapath_Binding"}}

func newSB(t testing.TB, specs []Spec) *Replica {
	t.Helper()
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(slog.New(slog.DiscardHandler), m, sbdb.Schema(), specs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// applyJSON decodes and commits one <table-updates2> given as JSON with
// single quotes for readability.
func applyJSON(t *testing.T, r *Replica, js string, full bool) error {
	t.Helper()
	b, err := r.decodeUpdates([]byte(strings.ReplaceAll(js, "'", `"`)), updateV2, full)
	if err != nil {
		return err
	}
	r.commit(b)
	return nil
}

func ptr[T any](x T) *T { return &x }

func TestNewResolvesEveryTable(t *testing.T) {
	for _, db := range []struct {
		model  func() (model.ClientDBModel, error)
		schema ovsdb.DatabaseSchema
	}{{sbdb.FullDatabaseModel, sbdb.Schema()}, {vswitch.FullDatabaseModel, vswitch.Schema()}} {
		m, err := db.model()
		if err != nil {
			t.Fatal(err)
		}
		var specs []Spec
		for name := range db.schema.Tables {
			specs = append(specs, Spec{Table: name})
		}
		r, err := New(nil, m, db.schema, specs)
		if err != nil {
			t.Fatalf("%s: %v", db.schema.Name, err)
		}
		for name, ts := range db.schema.Tables {
			if got, want := len(r.tables[name].codec.names), len(ts.Columns); got != want {
				t.Errorf("%s: %d columns resolved, schema has %d", name, got, want)
			}
		}
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	m, _ := sbdb.FullDatabaseModel()
	for _, specs := range [][]Spec{
		{{Table: "No_Such_Table"}},
		{{Table: "Logical_Flow", Columns: []string{"no_such_column"}}},
		{{Table: "Logical_Flow"}, {Table: "Logical_Flow"}},
	} {
		if _, err := New(nil, m, sbdb.Schema(), specs); err == nil {
			t.Errorf("New(%v) accepted", specs)
		} else {
			t.Logf("New(%v): %v", specs, err)
		}
	}
	vm, _ := vswitch.FullDatabaseModel()
	if _, err := New(nil, vm, sbdb.Schema(), []Spec{{Table: "Logical_Flow"}}); err == nil {
		t.Error("New accepted a model of another database")
	}
}

func TestInitialModifyDelete(t *testing.T) {
	r := newSB(t, sbSpecs)
	err := applyJSON(t, r, `{
	 'Logical_Flow': {
	  '`+u1+`': {'initial': {'actions': 'next;', 'match': 'inport == \"a\"', 'priority': 100, 'table_id': 3,
	     'pipeline': 'ingress', 'logical_datapath': ['uuid', '`+d1+`'],
	     'external_ids': ['map', [['stage-name', 'ls_in_acl'], ['source', 'northd.c:1']]]}},
	  '`+u2+`': {'initial': {'actions': 'drop;', 'match': '1', 'pipeline': 'egress', 'logical_dp_group': ['uuid', '`+g1+`']}}},
	 'Port_Group': {'`+u3+`': {'initial': {'name': 'pg', 'ports': ['set', ['p1', 'p2', 'p3']]}}},
	 'Port_Binding': {'`+u1+`': {'initial': {'logical_port': 'lp', 'datapath': ['uuid', '`+d1+`'], 'tunnel_key': 1,
	     'tag': 5, 'mac': 'aa:bb:cc:dd:ee:ff 10.0.0.1'}}}}`, true)
	if err != nil {
		t.Fatal(err)
	}
	c := r.TakeChanges()
	if !c.Full {
		t.Error("first load is not Full")
	}
	var lf1 *sbdb.LogicalFlow
	r.Read(func(v View) {
		lf1 = Rows[sbdb.LogicalFlow](v, "Logical_Flow")[u1]
	})
	want1 := &sbdb.LogicalFlow{UUID: u1, Actions: "next;", Match: `inport == "a"`, Priority: 100, TableID: 3,
		Pipeline: "ingress", LogicalDatapath: ptr(d1), ExternalIDs: map[string]string{"stage-name": "ls_in_acl", "source": "northd.c:1"}}
	if diff := cmp.Diff(want1, lf1); diff != "" {
		t.Errorf("initial Logical_Flow (-want +got):\n%s", diff)
	}

	// Scalars and optional columns (sets of at most one) take the new
	// value; maps and sets carry the difference.
	err = applyJSON(t, r, `{
	 'Logical_Flow': {
	  '`+u1+`': {'modify': {'actions': 'output;', 'logical_datapath': ['set', []],
	     'logical_dp_group': ['uuid', '`+g2+`'],
	     'external_ids': ['map', [['stage-name', 'ls_out_acl'], ['source', 'northd.c:1'], ['new', 'x']]]}},
	  '`+u2+`': {'modify': {'logical_dp_group': ['uuid', '`+g2+`']}}},
	 'Port_Group': {'`+u3+`': {'modify': {'ports': ['set', ['p2', 'p4']]}}},
	 'Port_Binding': {'`+u1+`': {'modify': {'tag': ['set', []], 'up': true, 'chassis': ['uuid', '`+d2+`'], 'mac': 'aa:bb:cc:dd:ee:ff 10.0.0.1'}}}}`, false)
	if err != nil {
		t.Fatal(err)
	}
	c = r.TakeChanges()
	wantChanges := Changes{Tables: map[string]map[string]struct{}{
		"Logical_Flow": {u1: {}, u2: {}}, "Port_Group": {u3: {}}, "Port_Binding": {u1: {}}}}
	if diff := cmp.Diff(wantChanges, c); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	r.Read(func(v View) {
		lfs := Rows[sbdb.LogicalFlow](v, "Logical_Flow")
		want := map[string]*sbdb.LogicalFlow{
			u1: {UUID: u1, Actions: "output;", Match: `inport == "a"`, Priority: 100, TableID: 3, Pipeline: "ingress",
				LogicalDpGroup: ptr(g2), ExternalIDs: map[string]string{"stage-name": "ls_out_acl", "new": "x"}},
			u2: {UUID: u2, Actions: "drop;", Match: "1", Pipeline: "egress", LogicalDpGroup: ptr(g2)},
		}
		if diff := cmp.Diff(want, lfs); diff != "" {
			t.Errorf("modified Logical_Flow (-want +got):\n%s", diff)
		}
		pg, _ := v.Get("Port_Group", u3)
		if diff := cmp.Diff(&sbdb.PortGroup{UUID: u3, Name: "pg", Ports: []string{"p1", "p3", "p4"}}, pg,
			cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("modified Port_Group (-want +got):\n%s", diff)
		}
		pb, _ := v.Get("Port_Binding", u1)
		if diff := cmp.Diff(&sbdb.PortBinding{UUID: u1, LogicalPort: "lp", Datapath: d1, TunnelKey: 1, Up: ptr(true),
			Chassis: ptr(d2)}, pb); diff != "" {
			t.Errorf("modified Port_Binding (-want +got):\n%s", diff)
		}
		if got := Rows[sbdb.LogicalFlow](v, "Logical_Flow")[u1]; got == lf1 {
			t.Error("a modify kept the old row pointer")
		}
	})
	// The row handed out before the modify is untouched.
	if diff := cmp.Diff(want1, lf1); diff != "" {
		t.Errorf("old row mutated by a modify (-want +got):\n%s", diff)
	}

	if err := applyJSON(t, r, `{'Logical_Flow': {'`+u2+`': {'delete': null}}}`, false); err != nil {
		t.Fatal(err)
	}
	r.Read(func(v View) {
		if _, ok := v.Get("Logical_Flow", u2); ok {
			t.Error("deleted row still there")
		}
		if _, ok := Rows[sbdb.LogicalFlow](v, "Logical_Flow")[u2]; ok {
			t.Error("deleted row still in the typed map")
		}
		if n := len(v.Table("Logical_Flow")); n != 1 {
			t.Errorf("%d Logical_Flow rows, want 1", n)
		}
	})
	if c := r.TakeChanges(); c.Full || len(c.Tables) != 1 || len(c.Tables["Logical_Flow"]) != 1 {
		t.Errorf("changes after a delete: %+v", c)
	}
	if c := r.TakeChanges(); c.Full || len(c.Tables) != 0 {
		t.Errorf("TakeChanges did not reset: %+v", c)
	}
}

func TestBadUpdatesLeaveReplicaUntouched(t *testing.T) {
	r := newSB(t, sbSpecs)
	if err := applyJSON(t, r, `{'Port_Group': {'`+u3+`': {'initial': {'name': 'pg', 'ports': 'p1'}}}}`, true); err != nil {
		t.Fatal(err)
	}
	r.TakeChanges()
	for _, js := range []string{
		`{'Port_Group': {'` + u1 + `': {'insert': {'name': 'x'}}, '` + u3 + `': {'modify': {'no_such_column': 1}}}}`,
		`{'Port_Group': {'` + u3 + `': {'modify': {'name': 7}}}}`,
		`{'Port_Group': {'` + u3 + `': {'modify': {'ports': ['map', []]}}}}`,
		`{'Port_Binding': {'` + u1 + `': {'insert': {'tag': ['set', [1, 2]]}}}}`,
		`{'Port_Binding': {'` + u1 + `': {'insert': {'datapath': 'not-a-uuid'}}}}`,
		`{'Logical_Flow': {'` + u1 + `': {'insert': {'priority': 'high'}}}}`,
		`{'Logical_Flow': {'` + u1 + `': {'insert': {'external_ids': ['map', [['k']]]}}}}`,
		`{'Logical_Flow': {'` + u1 + `': {'modify': {'actions': 'next;'}}}}`,
		`{'Logical_Flow': {'` + u1 + `': {'upsert': {}}}}`,
		`{'Logical_Flow': {'short': {'insert': {}}}}`,
		`{'Chassis': {'` + u1 + `': {'insert': {}}}}`,
		`{'Logical_Flow': []}`,
		`[]`,
	} {
		if err := applyJSON(t, r, js, false); err == nil {
			t.Errorf("accepted %s", js)
		} else {
			t.Logf("%s: %v", js, err)
		}
	}
	r.Read(func(v View) {
		if diff := cmp.Diff(map[string]model.Model{u3: &sbdb.PortGroup{UUID: u3, Name: "pg", Ports: []string{"p1"}}},
			v.Table("Port_Group")); diff != "" {
			t.Errorf("Port_Group after bad updates (-want +got):\n%s", diff)
		}
		if n := len(v.Table("Port_Binding")) + len(v.Table("Logical_Flow")); n != 0 {
			t.Errorf("bad updates left %d rows", n)
		}
	})
	if c := r.TakeChanges(); c.Full || len(c.Tables) != 0 {
		t.Errorf("bad updates recorded changes: %+v", c)
	}
}

func TestToggle(t *testing.T) {
	big := func(n, off int) []int {
		var s []int
		for i := range n {
			s = append(s, i+off)
		}
		return s
	}
	for _, tc := range []struct{ set, diff, want []int }{
		{nil, []int{1}, []int{1}},
		{[]int{1}, []int{1}, []int{}},
		{[]int{1, 2}, []int{2, 3}, []int{1, 3}},
		{big(20, 0), big(20, 10), append(big(10, 0), big(10, 20)...)},
	} {
		got := toggle(tc.set, tc.diff)
		if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b int) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("toggle(%v, %v) (-want +got):\n%s", tc.set, tc.diff, diff)
		}
	}
}

func TestSplitter(t *testing.T) {
	in := ` {"a":"}\"]"}[1,[2]]` + "\n" + `{"b":{"c\\":"\\\\"}}`
	s := newSplitter(&slowReader{s: in})
	var got []string
	for range 3 {
		m, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m))
	}
	want := []string{`{"a":"}\"]"}`, `[1,[2]]`, `{"b":{"c\\":"\\\\"}}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
	if _, err := newSplitter(strings.NewReader(`{"a":1} x`)).Next(); err != nil {
		t.Fatalf("first message: %v", err)
	}
	sp := newSplitter(strings.NewReader(`{"a":1} x`))
	sp.Next()
	if _, err := sp.Next(); err == nil {
		t.Error("garbage between messages accepted")
	}
	sp = newSplitter(strings.NewReader(`{"a":1]]`))
	sp.Next()
	if _, err := sp.Next(); err == nil {
		t.Error("unbalanced brackets accepted")
	}
}

// slowReader returns one byte per Read.
type slowReader struct{ s string }

func (r *slowReader) Read(b []byte) (int, error) {
	if r.s == "" {
		return 0, nil
	}
	b[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}

func TestScan(t *testing.T) {
	for _, ok := range []string{`0`, `-1`, `12.5e-3`, `true`, `null`, `"a\"b"`, `"a\\\\"`, `{"a":[1,{"b":"]"}]}`} {
		if j, err := skipValue([]byte(ok), 0); err != nil || j != len(ok) {
			t.Errorf("skipValue(%s) = %d, %v", ok, j, err)
		}
	}
	for _, bad := range []string{`nul`, `01`, `1.`, `-`, `1e`, `{"a":[1}`, `{"a":1`, `"abc`, `"a\"`, `tru`} {
		if _, err := skipValue([]byte(bad), 0); err == nil {
			t.Errorf("skipValue(%s) accepted", bad)
		}
	}
	var keys []string
	err := members([]byte(` {"a" : 1, "b\u0063":{"x":[]} } `), func(k, v []byte) error {
		keys = append(keys, string(k)+"="+string(v))
		return nil
	})
	if want := []string{"a=1", `bc={"x":[]}`}; err != nil || !cmp.Equal(want, keys) {
		t.Errorf("members = %v, %v; want %v", keys, err, want)
	}
	for _, bad := range []string{`{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `[1]`, `{1:2}`} {
		if err := members([]byte(bad), func(k, v []byte) error { return nil }); err == nil {
			t.Errorf("members(%s) accepted", bad)
		}
	}
	if el, err := elements([]byte(`[1, "a", [2]]`)); err != nil || len(el) != 3 || string(el[2]) != "[2]" {
		t.Errorf("elements = %q, %v", el, err)
	}
	for _, bad := range []string{`[1,]`, `[1 2]`, `{}`, `[1]]`} {
		if _, err := elements([]byte(bad)); err == nil {
			t.Errorf("elements(%s) accepted", bad)
		}
	}
}

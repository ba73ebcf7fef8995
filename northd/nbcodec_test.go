package northd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// randRow fills a new model of table with random values for a random
// subset of its columns (the others stay unset), as the schema allows
// them: UUIDs for references, enum values for enums, strings with
// characters JSON escapes.
func randRow(r *rand.Rand, schema ovsdb.DatabaseSchema, table string, uuid string) model.Model {
	typ := modelTypes(table)
	p := reflect.New(typ.Elem())
	v := p.Elem()
	ts := schema.Table(table)
	for i := range typ.Elem().NumField() {
		f := typ.Elem().Field(i)
		col := f.Tag.Get("ovsdb")
		if col == "_uuid" {
			v.Field(i).SetString(uuid)
			continue
		}
		cs := ts.Column(col)
		if cs == nil || r.IntN(3) == 0 {
			continue
		}
		fillRandom(r, v.Field(i), cs.TypeObj)
	}
	return p.Interface().(model.Model)
}

func fillRandom(r *rand.Rand, f reflect.Value, ct *ovsdb.ColumnType) {
	n := 1 + r.IntN(4)
	switch f.Kind() {
	case reflect.Pointer:
		if r.IntN(4) == 0 {
			return
		}
		e := reflect.New(f.Type().Elem())
		randAtom(r, e.Elem(), ct.Key)
		f.Set(e)
	case reflect.Slice:
		s := reflect.MakeSlice(f.Type(), 0, n)
		seen := map[any]bool{}
		for range n {
			e := reflect.New(f.Type().Elem()).Elem()
			randAtom(r, e, ct.Key)
			if !seen[e.Interface()] {
				seen[e.Interface()] = true
				s = reflect.Append(s, e)
			}
		}
		if ct.Max() == 1 && s.Len() > 1 {
			s = s.Slice(0, 1)
		}
		f.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(f.Type())
		for range n {
			k, e := reflect.New(f.Type().Key()).Elem(), reflect.New(f.Type().Elem()).Elem()
			randAtom(r, k, ct.Key)
			randAtom(r, e, ct.Value)
			m.SetMapIndex(k, e)
		}
		f.Set(m)
	default:
		randAtom(r, f, ct.Key)
	}
}

func randAtom(r *rand.Rand, f reflect.Value, bt *ovsdb.BaseType) {
	switch f.Kind() {
	case reflect.String:
		switch {
		case bt.Type == ovsdb.TypeUUID:
			f.SetString(fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48)))
		case len(bt.Enum) > 0:
			f.SetString(bt.Enum[r.IntN(len(bt.Enum))].(string))
		default:
			chars := []string{"a", "b", "0", "9", " ", `"`, `\`, "/", "\n", "\t", "é", "→", "\x01", "{", "["}
			var b strings.Builder
			for range r.IntN(12) {
				b.WriteString(chars[r.IntN(len(chars))])
			}
			f.SetString(b.String())
		}
	case reflect.Int:
		f.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Bool:
		f.SetBool(r.IntN(2) == 0)
	case reflect.Float64:
		f.SetFloat(float64(r.IntN(1000)) / 4)
	}
}

func modelTypes(table string) reflect.Type {
	m, err := nbdb.FullDatabaseModel()
	if err != nil {
		panic(err)
	}
	return m.Types()[table]
}

// updateRowJSON is m as an RFC 7047 <row> of the columns it sets, as libovsdb
// would send it.
func updateRowJSON(t *testing.T, dbm model.DatabaseModel, m model.Model, cols map[string]bool) []byte {
	t.Helper()
	info, err := dbm.NewModelInfo(m)
	if err != nil {
		t.Fatal(err)
	}
	row, err := dbm.Mapper.NewRow(info)
	if err != nil {
		t.Fatal(err)
	}
	for c := range row {
		if cols != nil && !cols[c] {
			delete(row, c)
		}
	}
	// NewRow leaves out default values; a modification sends them.
	ts := dbm.Schema.Table(info.Metadata.TableName)
	for c := range cols {
		cs := ts.Column(c)
		if _, ok := row[c]; ok || cs == nil || c == "_uuid" || c == "_version" {
			continue
		}
		switch ct := cs.TypeObj; {
		case ct.Value != nil:
			row[c] = ovsdb.OvsMap{GoMap: map[any]any{}}
		case ct.Min() == 0 || ct.Max() != 1:
			row[c] = ovsdb.OvsSet{GoSet: []any{}}
		case ct.Key.Type == ovsdb.TypeInteger:
			row[c] = 0
		case ct.Key.Type == ovsdb.TypeBoolean:
			row[c] = false
		case ct.Key.Type == ovsdb.TypeReal:
			row[c] = 0.0
		default:
			row[c] = ""
		}
	}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The replica decodes monitor updates (inserts, modifications of some
// columns, deletions) into the very models libovsdb's cache makes of
// the same JSON, for random rows of every table northd monitors.
func TestRowCodecMatchesLibovsdb(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	schema := nbdb.Schema()
	tc := cachetest.New(t, schema, nbdb.FullDatabaseModel, nil)
	dbm := tc.DatabaseModel()
	rep, err := newNBReplica()
	if err != nil {
		t.Fatal(err)
	}
	uuids := map[string][]string{}
	for step := range 40 {
		var b bytes.Buffer
		b.WriteString("{")
		for ti, table := range nbTables {
			if ti > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:{", table)
			// Rows modified or deleted are picked among those in
			// before this update, each at most once.
			before := slices.Clone(uuids[table])
			r.Shuffle(len(before), func(i, j int) { before[i], before[j] = before[j], before[i] })
			for i := range 1 + r.IntN(6) {
				if i > 0 {
					b.WriteString(",")
				}
				kind := r.IntN(3)
				if len(before) == 0 {
					kind = 0
				}
				uuid := fmt.Sprintf("%08x-0000-4000-8000-%012x", ti, 1000*step+i)
				if kind != 0 {
					uuid, before = before[0], before[1:]
				}
				m := randRow(r, schema, table, uuid)
				switch kind {
				case 0: // insert
					uuids[table] = append(uuids[table], uuid)
					fmt.Fprintf(&b, "%q:{\"new\":%s}", uuid, updateRowJSON(t, dbm, m, nil))
				case 1: // modify some columns
					cols := map[string]bool{}
					for c := range schema.Table(table).Columns {
						if r.IntN(2) == 0 {
							cols[c] = true
						}
					}
					row := updateRowJSON(t, dbm, m, cols)
					fmt.Fprintf(&b, "%q:{\"old\":%s,\"new\":%s}", uuid, row, row)
				case 2: // delete
					fmt.Fprintf(&b, "%q:{\"old\":{}}", uuid)
					uuids[table] = slices.DeleteFunc(uuids[table], func(u string) bool { return u == uuid })
				}
			}
			b.WriteString("}")
		}
		b.WriteString("}")
		var tu ovsdb.TableUpdates
		if err := json.Unmarshal(b.Bytes(), &tu); err != nil {
			t.Fatalf("step %d: %v\n%s", step, err, b.Bytes())
		}
		canon, err := json.Marshal(tu)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.Populate(tu); err != nil {
			t.Fatalf("step %d: libovsdb: %v", step, err)
		}
		if _, err := rep.apply(canon, false); err != nil {
			t.Fatalf("step %d: %v\n%s", step, err, canon)
		}
		for _, table := range nbTables {
			want := map[string]model.Model{}
			for _, row := range tc.Table(table).Rows() {
				want[nbUUID(row)] = row
			}
			if diff := cmp.Diff(want, rep.rows[table]); diff != "" {
				t.Fatalf("step %d: %s (-libovsdb +replica):\n%s", step, table, diff)
			}
		}
	}
}

// Malformed updates are errors, never a panic, and leave the replica as
// it was.
func TestReplicaRejectsBadUpdates(t *testing.T) {
	rep, err := newNBReplica()
	if err != nil {
		t.Fatal(err)
	}
	const u = "11111111-2222-4333-8444-555555555555"
	good := `{"Logical_Switch_Port":{"` + u + `":{"new":{"name":"p1","addresses":["set",["a","b"]],"tag":["set",[7]],"options":["map",[["k","v"]]],"up":true}}}}`
	if _, err := rep.apply([]byte(good), false); err != nil {
		t.Fatal(err)
	}
	before := rep.snapshot()
	for _, bad := range []string{
		``, `[]`, `{"Logical_Switch_Port":[]}`, `{"Logical_Switch_Port":{"not-a-uuid":{"new":{}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"name":7}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"name":"p2","tag":"x"}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"tag":["set",[1,2]]}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"up":"yes"}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"addresses":["map",[]]}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"options":["set",[]]}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"options":["map",[["k"]]]}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"name":"p3"`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"dhcpv4_options":["uuid"]}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"name":"\x"}}}}`,
		`{"Logical_Switch_Port":{"` + u + `":{"new":{"tag":1.5}}}}`,
	} {
		if _, err := rep.apply([]byte(bad), false); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if diff := cmp.Diff(before, rep.snapshot(), cmp.AllowUnexported(nbState{})); diff != "" {
		t.Errorf("a rejected update changed the replica:\n%s", diff)
	}
}

// The monitor's reply is NB's whole content: rows the replica held that
// it lacks went (after a reconnection). An update that changes nothing
// is no change.
func TestReplicaInitialReplaces(t *testing.T) {
	rep, err := newNBReplica()
	if err != nil {
		t.Fatal(err)
	}
	const u1, u2 = "11111111-2222-4333-8444-555555555555", "21111111-2222-4333-8444-555555555555"
	row := func(u, name string) string { return `"` + u + `":{"new":{"name":"` + name + `"}}` }
	if _, err := rep.apply([]byte(`{"Logical_Switch":{`+row(u1, "a")+`,`+row(u2, "b")+`}}`), true); err != nil {
		t.Fatal(err)
	}
	ch, err := rep.apply([]byte(`{"Logical_Switch":{`+row(u2, "b2")+`}}`), true)
	if err != nil {
		t.Fatal(err)
	}
	want := nbChanges{nbdb.LogicalSwitchTable: {u1: nil, u2: &nbdb.LogicalSwitch{UUID: u2, Name: "b2"}}}
	if diff := cmp.Diff(want, ch); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := rep.snapshot().Switches; len(got) != 1 || got[u2].Name != "b2" {
		t.Errorf("replica holds %v", got)
	}
	ch, err = rep.apply([]byte(`{"Logical_Switch":{"`+u2+`":{"old":{"name":"b2"},"new":{"name":"b2","ports":["set",[]]}}}}`), false)
	if err != nil || len(ch) != 0 {
		t.Errorf("an update that changes nothing: %v, %v", ch, err)
	}
}

// One update reaches the tracker whole: collect takes it at once, and a
// new session's contents make the round a full one.
func TestTrackerTakesUpdateWhole(t *testing.T) {
	tr := newTracker(make(chan struct{}, 1))
	ch := nbChanges{}
	for i := range 3000 {
		ch.set(nbdb.LogicalSwitchPortTable, fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), &nbdb.LogicalSwitchPort{})
	}
	ch.set(nbdb.NBGlobalTable, "31111111-2222-4333-8444-555555555555", &nbdb.NBGlobal{NbCfg: 5})
	tr.nbUpdate(ch, false)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	c := tr.collect(ctx)
	if c.rows != 3001 || len(c.nb[nbdb.LogicalSwitchPortTable]) != 3000 || c.sbReset {
		t.Errorf("collected %d rows (%d ports), reset %v", c.rows, len(c.nb[nbdb.LogicalSwitchPortTable]), c.sbReset)
	}
	if d := time.Since(start); d > 20*time.Millisecond {
		t.Errorf("collect waited %v for a whole update", d)
	}
	tr.nbUpdate(nbChanges{}, true)
	if c := tr.collect(ctx); !c.sbReset || c.rows != 0 {
		t.Errorf("after a new session: reset %v, %d rows", c.sbReset, c.rows)
	}
}

package database

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema"
	"github.com/valyala/fastjson"
)

// bulkSBOps is a transaction of 100 datapaths and 200 ports (enough for
// the bulk path) that refer to each other by named UUIDs; edit changes
// port p's JSON.
func bulkSBOps(edit func(p int, op string) string) string {
	var ops []string
	for d := range 100 {
		// Map keys out of order, so that sortDedup sorts them.
		ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Datapath_Binding","uuid-name":"dp%d","row":{"tunnel_key":%d,"external_ids":["map",[["name","sw%d"],["logical-switch","x"]]]}}`, d, d+1, d))
	}
	for p := range 200 {
		op := fmt.Sprintf(`{"op":"insert","table":"Port_Binding","uuid-name":"p%d","row":{"logical_port":"lp%d","datapath":["named-uuid","dp%d"],"tunnel_key":%d,"mac":["set",["00:00:00:00:00:%02x 10.0.0.%d"]],"external_ids":["map",[["a","1"],["b","2"]]]}}`, p, p, p/2, p%2+1, p, p+1)
		ops = append(ops, edit(p, op))
	}
	return "[" + strings.Join(ops, ",") + "]"
}

// runBoth runs ops on two databases of schema seeded alike, one with the
// bulk path and one without, and returns each reply and commit record.
func runBoth(t *testing.T, schema []byte, ops string) (bulk, plain [2]string) {
	t.Helper()
	s, err := ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	v, err := fastjson.Parse(ops)
	if err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	if len(v.GetArray()) < bulkOps {
		t.Fatalf("%d operations do not take the bulk path", len(v.GetArray()))
	}
	run := func() (out [2]string) {
		db := New(s)
		db.SeedUUIDs([32]byte{7})
		res := db.Transact(v.GetArray(), nil, 0)
		out[0] = string(res.Reply)
		if res.Commit != nil {
			out[1] = string(res.Commit.AppendRecord(nil, 1))
		}
		return out
	}
	bulk = run()
	// TransactRaw, as the server runs a big request, must agree too.
	raw, err := ovsjson.Elements([]byte(ops), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := New(s)
	db.SeedUUIDs([32]byte{7})
	res := db.TransactRaw(raw, nil, 0)
	rec := ""
	if res.Commit != nil {
		rec = string(res.Commit.AppendRecord(nil, 1))
	}
	if rec != bulk[1] {
		t.Errorf("TransactRaw's commit differs from Transact's:\n%.300s\n%.300s", rec, bulk[1])
	}
	if string(res.Reply) != bulk[0] {
		t.Errorf("TransactRaw's reply differs from Transact's:\n%.300s\n%.300s", res.Reply, bulk[0])
	}
	saved := bulkOps
	bulkOps = 1 << 30
	defer func() { bulkOps = saved }()
	plain = run()
	return bulk, plain
}

// TestBulkTransactionSameResult checks that a transaction big enough to
// take its objects from arenas and size its maps from its operation
// count replies and commits exactly as the same transaction run one
// allocation at a time: on success, and on each kind of failure the
// bulk path's checks see (duplicate uuid-name, unique index, dangling
// reference, referenced delete).
func TestBulkTransactionSameResult(t *testing.T) {
	same := func(p int, op string) string { return op }
	cases := []struct {
		name   string
		schema []byte
		ops    string
		want   string
	}{
		{"ok", ovnschema.Southbound, bulkSBOps(same), `{"uuid":["uuid","`},
		{"duplicate uuid-name", ovnschema.Southbound, bulkSBOps(func(p int, op string) string {
			if p == 150 {
				return strings.Replace(op, `"uuid-name":"p150"`, `"uuid-name":"p149"`, 1)
			}
			return op
		}), `"error":"duplicate uuid-name"`},
		{"unique index", ovnschema.Southbound, bulkSBOps(func(p int, op string) string {
			if p == 199 {
				return strings.Replace(op, `"logical_port":"lp199"`, `"logical_port":"lp3"`, 1)
			}
			return op
		}), `for index on column \"logical_port\"`},
		{"dangling reference", ovnschema.Southbound, bulkSBOps(func(p int, op string) string {
			if p == 120 {
				return strings.Replace(op, `["named-uuid","dp60"]`, `["uuid","6f1d2a3e-0000-4000-8000-000000000001"]`, 1)
			}
			return op
		}), `references nonexistent row 6f1d2a3e-0000-4000-8000-000000000001`},
		{"garbage collected", ovnschema.Northbound, bulkNBOps(false), `{"uuid":["uuid","`},
		{"referenced delete", ovnschema.Northbound, bulkNBOps(true), `"error":"referential integrity violation"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bulk, plain := runBoth(t, tc.schema, tc.ops)
			if bulk != plain {
				t.Fatalf("bulk path differs:\nbulk  %.300s\n%.300s\nplain %.300s\n%.300s", bulk[0], bulk[1], plain[0], plain[1])
			}
			if !strings.Contains(bulk[0], tc.want) {
				t.Errorf("reply lacks %s: %.500s", tc.want, bulk[0])
			}
			if (tc.want == `{"uuid":["uuid","`) != (bulk[1] != "") {
				t.Errorf("commit record %.200q for reply %.200s", bulk[1], bulk[0])
			}
		})
	}
}

// bulkNBOps inserts 300 ports of which only the even ones are held by a
// switch, so that the odd ones are garbage collected; with deleteHeld, it
// also deletes a held port, which must fail.
func bulkNBOps(deleteHeld bool) string {
	var ops, held []string
	for p := range 300 {
		ops = append(ops, fmt.Sprintf(`{"op":"insert","table":"Logical_Switch_Port","uuid-name":"p%d","row":{"name":"p%d","addresses":["set",["00:00:00:00:01:%02x"]]}}`, p, p, p%256))
		if p%2 == 0 {
			held = append(held, fmt.Sprintf(`["named-uuid","p%d"]`, p))
		}
	}
	ops = append(ops, `{"op":"insert","table":"Logical_Switch","row":{"name":"sw","ports":["set",[`+strings.Join(held, ",")+`]]}}`)
	if deleteHeld {
		ops = append(ops, `{"op":"insert","table":"Logical_Switch_Port","uuid-name":"extra","row":{"name":"extra"}}`,
			`{"op":"delete","table":"Logical_Switch_Port","where":[["name","==","p4"]]}`)
	}
	return "[" + strings.Join(ops, ",") + "]"
}

// TestBulkRowsIndependent checks that rows committed by a bulk
// transaction, whose scalar values share arrays, change one at a time.
func TestBulkRowsIndependent(t *testing.T) {
	s, err := ParseSchema(ovnschema.Southbound)
	if err != nil {
		t.Fatal(err)
	}
	db := New(s)
	v, _ := fastjson.Parse(bulkSBOps(func(p int, op string) string { return op }))
	if res := db.Transact(v.GetArray(), nil, 0); res.Commit == nil {
		t.Fatalf("bulk insert failed: %.300s", res.Reply)
	}
	r, _ := transact(t, db, `[{"op":"mutate","table":"Port_Binding","where":[["logical_port","==","lp10"]],"mutations":[["tunnel_key","+=",40]]},
		{"op":"update","table":"Port_Binding","where":[["logical_port","==","lp11"]],"row":{"type":"localport"}}]`)
	if r != `[{"count":1},{"count":1}]` {
		t.Fatalf("mutate: %s", r)
	}
	r, _ = transact(t, db, `[{"op":"select","table":"Port_Binding","where":[["logical_port","includes","lp9"]],"columns":["logical_port","tunnel_key","type"]},
		{"op":"select","table":"Port_Binding","where":[["logical_port","==","lp10"]],"columns":["tunnel_key","type"]},
		{"op":"select","table":"Port_Binding","where":[["logical_port","==","lp11"]],"columns":["tunnel_key","type"]},
		{"op":"select","table":"Port_Binding","where":[["logical_port","==","lp12"]],"columns":["tunnel_key","type"]}]`)
	want := `[{"rows":[{"logical_port":"lp9","tunnel_key":2,"type":""}]},{"rows":[{"tunnel_key":41,"type":""}]},{"rows":[{"tunnel_key":2,"type":"localport"}]},{"rows":[{"tunnel_key":1,"type":""}]}]`
	if r != want {
		t.Errorf("rows after changing lp10 and lp11:\n got %s\nwant %s", r, want)
	}
}

// TestMapKeyOrder checks a map's keys in any order, sorted or not, and
// duplicate keys refused.
func TestMapKeyOrder(t *testing.T) {
	db := newNB(t)
	for _, m := range []string{`[["a","1"],["b","2"],["c","3"]]`, `[["c","3"],["a","1"],["b","2"]]`, `[["b","2"],["c","3"],["a","1"]]`} {
		r, _ := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"s","external_ids":["map",`+m+`]},"uuid-name":"s"},
			{"op":"select","table":"Logical_Switch","where":[["_uuid","==",["named-uuid","s"]]],"columns":["external_ids"]}]`)
		mustContain(t, r, `{"rows":[{"external_ids":["map",[["a","1"],["b","2"],["c","3"]]]}]}`)
	}
	for _, m := range []string{`[["a","1"],["a","2"]]`, `[["b","1"],["a","2"],["b","3"]]`} {
		r, _ := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"s","external_ids":["map",`+m+`]}}]`)
		mustContain(t, r, `map contains duplicate key`)
	}
}

// TestIsDefault compares IsDefault with equality to defaultDatum on
// every column of the OVN schemas, for the default and for values next
// to it.
func TestIsDefault(t *testing.T) {
	for _, schema := range [][]byte{ovnschema.Northbound, ovnschema.Southbound} {
		s, err := ParseSchema(schema)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range s.Tables {
			for _, c := range tb.Columns {
				def := defaultDatum(c)
				other := func(bt *BaseType) Atom {
					a := defaultAtom(bt.Type)
					a.N++
					a.S += "x"
					return a
				}
				cands := []Datum{def, {}, {Keys: []Atom{other(&c.Key)}}}
				if c.Value != nil {
					cands = append(cands, Datum{Keys: []Atom{defaultAtom(c.Key.Type)}, Values: []Atom{other(c.Value)}})
				}
				for _, d := range cands {
					if got, want := c.IsDefault(d), c.Equal(d, def); got != want {
						t.Errorf("%s.%s: IsDefault(%+v) = %v, want %v", tb.Name, c.Name, d, got, want)
					}
				}
			}
		}
	}
}

package database

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema"
)

// runRaw runs ops through TransactRaw on a fresh database of schema
// seeded with seed, after statements, and returns its reply and commit
// record.
func runRaw(t *testing.T, schema []byte, ops string, before ...string) [2]string {
	t.Helper()
	s, err := ParseSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	db := New(s)
	db.SeedUUIDs([32]byte{9})
	for _, b := range before {
		if r, _ := transact(t, db, b); strings.Contains(r, `"error"`) {
			t.Fatalf("setup %s: %s", b, r)
		}
	}
	raw, err := ovsjson.Elements([]byte(ops), nil)
	if err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	res := db.TransactRaw(raw, nil, 0)
	out := [2]string{string(res.Reply)}
	if res.Commit != nil {
		out[1] = string(res.Commit.AppendRecord(nil, 1))
	}
	return out
}

// withPreparer runs f with the preparer taking transactions of 1
// operation or more, in chunks of chunk, on 4 workers; off, with it
// off.
func withPreparer(t *testing.T, on bool, chunk int, f func()) {
	t.Helper()
	savedMin, savedChunk := parallelMin, prepChunk
	savedProcs := runtime.GOMAXPROCS(4)
	defer func() { parallelMin, prepChunk = savedMin, savedChunk; runtime.GOMAXPROCS(savedProcs) }()
	parallelMin, prepChunk = 1, chunk
	if !on {
		parallelMin = 1 << 30
	}
	f()
}

// TestPreparedSameResult: a big transaction whose inserts are parsed on
// other goroutines replies and commits byte for byte as the same
// transaction parsed in turn (the same UUIDs drawn in the same order),
// on success and on each kind of failure: a bad column anywhere in a
// row, a bad reference, a reused uuid-name, an operation that is not a
// plain insert, forward references, and a failure in the middle that
// leaves the workers ahead.
func TestPreparedSameResult(t *testing.T) {
	same := func(p int, op string) string { return op }
	edit := func(at int, from, to string) func(int, string) string {
		return func(p int, op string) string {
			if p == at {
				return strings.Replace(op, from, to, 1)
			}
			return op
		}
	}
	// Forward references: every port names its datapath before the
	// datapath's insert binds the name.
	forward := func(ops string) string {
		elems, err := ovsjson.Elements([]byte(ops), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range append(elems[100:], elems[:100]...) {
			out = append(out, string(e))
		}
		return "[" + strings.Join(out, ",") + "]"
	}
	// Sets of named UUIDs, before and after the rows they name.
	groups := func(ops string) string {
		var mg []string
		for g := range 20 {
			mg = append(mg, fmt.Sprintf(`{"op":"insert","table":"Multicast_Group","row":{"datapath":["named-uuid","dp%d"],"name":"_MC_flood","tunnel_key":32768,"ports":["set",[["named-uuid","p%d"],["named-uuid","p%d"]]]}}`, g, 2*g, 2*g+1))
		}
		body := ops[1 : len(ops)-1]
		return "[" + strings.Join(mg[:10], ",") + "," + body + "," + strings.Join(mg[10:], ",") + "]"
	}
	cases := []struct {
		name, ops, want string
	}{
		{"sets of named references", groups(bulkSBOps(same)), `{"uuid":["uuid","`},
		{"column named twice", bulkSBOps(edit(20, `"datapath":`, `"datapath":["named-uuid","dp3"],"datapath":`)), `{"uuid":["uuid","`},
		{"column named twice, plain last", bulkSBOps(edit(22, `,"tunnel_key"`, `,"datapath":["uuid","6f1d2a3e-0000-4000-8000-000000000001"],"tunnel_key"`)), `references nonexistent row`},
		{"column named twice, bad first", bulkSBOps(edit(21, `"tunnel_key":`, `"tunnel_key":"x","tunnel_key":`)), `expected integer`},
		{"ok", bulkSBOps(same), `{"uuid":["uuid","`},
		{"forward references", forward(bulkSBOps(same)), `{"uuid":["uuid","`},
		{"forward references from unnamed rows", forward(bulkSBOps(func(p int, op string) string {
			return strings.Replace(op, fmt.Sprintf(`"uuid-name":"p%d",`, p), "", 1)
		})), `{"uuid":["uuid","`},
		{"bad scalar", bulkSBOps(edit(150, `"tunnel_key":1`, `"tunnel_key":"x"`)), `expected integer`},
		{"bad map", bulkSBOps(edit(7, `["a","1"]`, `["a",1]`)), `expected string`},
		{"unknown column", bulkSBOps(edit(42, `"mac"`, `"macs"`)), `unknown column`},
		{"bad reference", bulkSBOps(edit(120, `["named-uuid","dp60"]`, `["named-uuid","no such"]`)), `expected uuid`},
		{"dangling reference", bulkSBOps(edit(120, `["named-uuid","dp60"]`, `["uuid","6f1d2a3e-0000-4000-8000-000000000001"]`)), `references nonexistent row`},
		{"duplicate uuid-name", bulkSBOps(edit(150, `"uuid-name":"p150"`, `"uuid-name":"p149"`)), `"error":"duplicate uuid-name"`},
		{"bad uuid-name", bulkSBOps(edit(10, `"uuid-name":"p10"`, `"uuid-name":"1p"`)), `Type mismatch for member 'uuid-name'`},
		{"explicit uuid", bulkSBOps(edit(11, `"uuid-name":"p11"`, `"uuid":"6f1d2a3e-0000-4000-8000-000000000002"`)), `{"uuid":["uuid","6f1d2a3e-0000-4000-8000-000000000002"]}`},
		{"unknown member", bulkSBOps(edit(12, `"uuid-name"`, `"comment":"x","uuid-name"`)), `{"uuid":["uuid","`},
		{"not insert", bulkSBOps(edit(13, `"op":"insert"`, `"op":"inserts"`)), `No operation \"inserts\"`},
		{"unknown table", bulkSBOps(edit(14, `"Port_Binding"`, `"Port_Bindings"`)), `No table named`},
		{"row not an object", bulkSBOps(edit(15, `"op":"insert",`, `"op":"insert","row":7,`)), `Type mismatch for member 'row'`},
		{"garbage collected", bulkNBOps(false), `{"uuid":["uuid","`},
		{"referenced delete", bulkNBOps(true), `"error":"referential integrity violation"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			schema := ovnschema.Southbound
			if strings.Contains(tc.ops, "Logical_Switch_Port") {
				schema = ovnschema.Northbound
			}
			var want [2]string
			withPreparer(t, false, 0, func() { want = runRaw(t, schema, tc.ops) })
			for _, chunk := range []int{1, 7, 64, 512} {
				var got [2]string
				withPreparer(t, true, chunk, func() { got = runRaw(t, schema, tc.ops) })
				if got != want {
					t.Fatalf("chunks of %d: prepared path differs:\ngot  %.400s\n%.300s\nwant %.400s\n%.300s", chunk, got[0], got[1], want[0], want[1])
				}
			}
			if !strings.Contains(want[0], tc.want) {
				t.Errorf("reply lacks %s: %.600s", tc.want, want[0])
			}
		})
	}
}

// TestPreparedAfterEarlierRows: prepared inserts see the database as
// the transaction does: a uuid-name bound by an earlier insert of the
// same transaction is refused, an explicit UUID of a committed row is
// a duplicate, and a row inserted next to committed ones commits.
func TestPreparedAfterEarlierRows(t *testing.T) {
	setup := `[{"op":"insert","table":"Datapath_Binding","uuid-name":"d","row":{"tunnel_key":1000}},
		{"op":"insert","table":"Port_Binding","uuid":"6f1d2a3e-0000-4000-8000-0000000000aa","row":{"logical_port":"x","datapath":["named-uuid","d"],"tunnel_key":1}}]`
	ops := bulkSBOps(func(p int, op string) string {
		if p == 3 {
			return strings.Replace(op, `"uuid-name":"p3"`, `"uuid":"6f1d2a3e-0000-4000-8000-0000000000aa"`, 1)
		}
		return op
	})
	ok := bulkSBOps(func(p int, op string) string { return op })
	for _, tc := range []struct{ name, ops, want string }{
		{"duplicate uuid", ops, `"error":"duplicate uuid"`},
		{"ok", ok, `{"uuid":["uuid","`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got [2]string
			withPreparer(t, false, 0, func() { want = runRaw(t, ovnschema.Southbound, tc.ops, setup) })
			withPreparer(t, true, 5, func() { got = runRaw(t, ovnschema.Southbound, tc.ops, setup) })
			if got != want {
				t.Fatalf("prepared path differs:\ngot  %.400s\nwant %.400s", got[0], want[0])
			}
			if !strings.Contains(want[0], tc.want) {
				t.Errorf("reply lacks %s: %.600s", tc.want, want[0])
			}
		})
	}
}

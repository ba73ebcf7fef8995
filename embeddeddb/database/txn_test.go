package database

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema"
	"github.com/valyala/fastjson"
)

type lockSession map[string]bool

func (l lockSession) HasLock(name string) bool { return l[name] }

func (l lockSession) ReadOnly() bool { return l["read-only"] }

func newNB(t *testing.T) *Database {
	t.Helper()
	s, err := ParseSchema(ovnschema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	return New(s)
}

// transact runs ops (a JSON array) and returns the reply text.
func transact(t *testing.T, db *Database, ops string) (string, *Commit) {
	t.Helper()
	v, err := fastjson.Parse(ops)
	if err != nil {
		t.Fatalf("bad test JSON: %v", err)
	}
	res := db.Transact(v.GetArray(), lockSession{"held": true}, 0)
	if res.Blocked {
		return "BLOCKED", nil
	}
	return string(res.Reply), res.Commit
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("reply %s\nlacks %s", got, w)
		}
	}
}

func TestInsertSelect(t *testing.T) {
	db := newNB(t)
	r, c := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw0","external_ids":["map",[["k","v"]]]},"uuid-name":"s"},
		{"op":"select","table":"Logical_Switch","where":[["name","==","sw0"]],"columns":["name","external_ids"]}]`)
	mustContain(t, r, `{"uuid":["uuid","`, `{"rows":[{"name":"sw0","external_ids":["map",[["k","v"]]]}]}`)
	if c == nil || len(c.Tables) != 1 || len(c.Tables[0].Rows) != 1 {
		t.Fatalf("commit = %+v", c)
	}
	r, _ = transact(t, db, `[{"op":"select","table":"Logical_Switch","where":[["name","!=","x"]],"columns":["name"]}]`)
	if r != `[{"rows":[{"name":"sw0"}]}]` {
		t.Errorf("select after commit: %s", r)
	}
}

func TestErrors(t *testing.T) {
	db := newNB(t)
	cases := []struct{ ops, want string }{
		{`[{"op":"insert","table":"Logical_Switch","row":{"name":5}}]`, `"error":"syntax error","details":"expected string"`},
		{`[{"op":"insert","table":"Nope","row":{}},{"op":"abort"}]`, `No table named Nope.`},
		{`[{"op":"insert","table":"Logical_Switch","row":{"bogus":1}}]`, `"error":"unknown column"`},
		{`[{"op":"insert","table":"ACL","row":{"priority":99999,"direction":"from-lport","match":"1","action":"drop"}}]`,
			`"details":"99999 is not in the valid range 0 to 32767 (inclusive)"`},
		{`[{"op":"insert","table":"ACL","row":{"priority":1,"direction":"sideways","match":"1","action":"drop"}}]`,
			`sideways is not one of the allowed values ([from-lport, to-lport])`},
		{`[{"op":"insert","table":"Logical_Switch","row":{"ports":["set",[["uuid","11111111-1111-1111-1111-111111111111"]]]}}]`,
			`"error":"referential integrity violation"`},
		{`[{"op":"insert","table":"NB_Global","row":{}},{"op":"insert","table":"NB_Global","row":{}}]`,
			`greater than the schema-defined limit of 1 row(s)`},
		{`[{"op":"abort"}]`, `"error":"aborted"`},
		{`[{"op":"assert","lock":"foo"}]`, `"error":"not owner"`},
		{`[{"op":"frob"}]`, `No operation \"frob\"`},
		{`[{"op":"insert","table":"Logical_Switch","row":{},"uuid-name":"a"},{"op":"insert","table":"Logical_Switch","row":{},"uuid-name":"a"}]`,
			`"error":"duplicate uuid-name"`},
		{`[{"op":"insert","table":"Logical_Switch","row":{"external_ids":["map",[["a","b"],["a","c"]]]}}]`, `map contains duplicate key`},
		{`[{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","/=",0]]}]`, `[{"count":0}]`},
		{`[{"op":"wait","table":"Logical_Switch","where":[],"columns":["name"],"until":"!=","rows":[],"timeout":0}]`, `"error":"timed out"`},
	}
	for _, c := range cases {
		r, commit := transact(t, db, c.ops)
		mustContain(t, r, c.want)
		if commit != nil && strings.Contains(r, "error") {
			t.Errorf("%s: committed despite error", c.ops)
		}
	}
	if n := db.Count(db.Schema().Table("Logical_Switch")); n != 0 {
		t.Errorf("failed transactions left %d switches", n)
	}
}

func TestGarbageCollectionAndWeakRefs(t *testing.T) {
	db := newNB(t)
	// A port not referenced by any switch is collected at once.
	r, c := transact(t, db, `[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"orphan"}}]`)
	mustContain(t, r, `"uuid"`)
	if c != nil || db.Count(db.Schema().Table("Logical_Switch_Port")) != 0 {
		t.Fatalf("orphan port kept: %s", r)
	}
	r, _ = transact(t, db, `[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p1"},"uuid-name":"p"},
		{"op":"insert","table":"Logical_Switch","row":{"name":"sw","ports":["named-uuid","p"]}},
		{"op":"insert","table":"Port_Group","row":{"name":"pg","ports":["named-uuid","p"]}}]`)
	mustContain(t, r, `"uuid"`)
	lsp := db.Schema().Table("Logical_Switch_Port")
	if db.Count(lsp) != 1 {
		t.Fatalf("port not inserted: %s", r)
	}
	// Deleting the port while the switch holds it is refused.
	r, _ = transact(t, db, `[{"op":"delete","table":"Logical_Switch_Port","where":[]}]`)
	mustContain(t, r, `"error":"referential integrity violation"`, `because of 1 remaining reference(s)`)
	// Removing it from the switch collects it and drops the weak reference from the port group.
	r, c = transact(t, db, `[{"op":"mutate","table":"Logical_Switch","where":[],"mutations":[["ports","delete",["set",[]]]]},
		{"op":"update","table":"Logical_Switch","where":[],"row":{"ports":["set",[]]}}]`)
	mustContain(t, r, `{"count":1}`)
	if db.Count(lsp) != 0 {
		t.Fatalf("port not collected")
	}
	r, _ = transact(t, db, `[{"op":"select","table":"Port_Group","where":[],"columns":["ports"]}]`)
	if r != `[{"rows":[{"ports":["set",[]]}]}]` {
		t.Errorf("weak reference not removed: %s", r)
	}
	if c == nil || len(c.Tables) != 3 {
		t.Errorf("commit should touch Logical_Switch, Logical_Switch_Port and Port_Group: %+v", c)
	}
}

func TestMutate(t *testing.T) {
	db := newNB(t)
	transact(t, db, `[{"op":"insert","table":"NB_Global","row":{"nb_cfg":5,"external_ids":["map",[["a","1"],["b","2"]]]}}]`)
	r, _ := transact(t, db, `[{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","+=",2],["external_ids","delete",["set",["a"]]],["external_ids","insert",["map",[["b","9"],["c","3"]]]]]},
		{"op":"select","table":"NB_Global","where":[],"columns":["nb_cfg","external_ids"]}]`)
	mustContain(t, r, `{"count":1}`, `"nb_cfg":7`, `"external_ids":["map",[["b","2"],["c","3"]]]`)
	r, _ = transact(t, db, `[{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","/=",0]]}]`)
	mustContain(t, r, `"error":"domain error"`)
	r, _ = transact(t, db, `[{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","+=",9223372036854775807]]}]`)
	mustContain(t, r, `"error":"range error"`)
}

func TestRecordRoundTrip(t *testing.T) {
	db := newNB(t)
	var recs [][]byte
	for _, ops := range []string{
		`[{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p1","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]]},"uuid-name":"p"},
		  {"op":"insert","table":"Logical_Switch","row":{"name":"sw","ports":["named-uuid","p"]}}]`,
		`[{"op":"update","table":"Logical_Switch","where":[],"row":{"external_ids":["map",[["x","y"]]]}}]`,
		`[{"op":"insert","table":"Logical_Switch","row":{"name":"gone"}}]`,
		`[{"op":"delete","table":"Logical_Switch","where":[["name","==","gone"]]}]`,
	} {
		_, c := transact(t, db, ops)
		if c == nil {
			t.Fatalf("no commit for %s", ops)
		}
		recs = append(recs, c.AppendRecord(nil, 1))
	}
	replay := New(db.Schema())
	for _, r := range recs {
		if err := replay.ApplyRecord(r); err != nil {
			t.Fatalf("replay %s: %v", r, err)
		}
	}
	snap := func(d *Database) string {
		r, _ := transact(t, d, `[{"op":"select","table":"Logical_Switch","where":[],"columns":["_uuid","name","ports","external_ids"]},
			{"op":"select","table":"Logical_Switch_Port","where":[],"columns":["_uuid","name","addresses"]}]`)
		return r
	}
	if a, b := snap(db), snap(replay); a != b {
		t.Errorf("replayed database differs:\n%s\n%s", a, b)
	}
}

// TestTransactionStateNotCarriedOver: the per-table state that
// transactions reuse starts empty each time, after a commit, after a
// failed transaction and after an aborted one, and a commit keeps its
// rows when the next transaction runs.
func TestTransactionStateNotCarriedOver(t *testing.T) {
	db := newNB(t)
	_, first := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"a"}}]`)
	r, _ := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"failed"}},
		{"op":"insert","table":"Logical_Switch","row":{"name":"failed","no_such_column":1}}]`)
	mustContain(t, r, `"error"`)
	r, _ = transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"aborted"}},{"op":"abort"}]`)
	mustContain(t, r, `"aborted"`)
	_, c := transact(t, db, `[{"op":"insert","table":"Logical_Switch","row":{"name":"b"}}]`)
	if c == nil || len(c.Tables) != 1 || len(c.Tables[0].Rows) != 1 || c.Tables[0].Rows[0].New.Cols[c.Tables[0].Table.Column("name").Index].Keys[0].S != "b" {
		t.Fatalf("second commit = %+v, want the insert of b alone", c)
	}
	if len(first.Tables) != 1 || len(first.Tables[0].Rows) != 1 {
		t.Fatalf("first commit changed after later transactions: %+v", first)
	}
	r, _ = transact(t, db, `[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)
	mustContain(t, r, `{"name":"a"}`, `{"name":"b"}`)
	if strings.Contains(r, "failed") || strings.Contains(r, "aborted") {
		t.Errorf("rows of failed or aborted transactions are visible: %s", r)
	}
}

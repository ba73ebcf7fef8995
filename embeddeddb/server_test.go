package embeddeddb

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema"
)

func TestListDBs(t *testing.T) {
	ts := startServer(t, "")
	for _, sock := range []string{ts.nb, ts.sb} {
		c := ovsdbtestDial(t, sock)
		checkDBList(t, ok(t, c.Call("list_dbs")))
	}
}

func TestGetSchema(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	for _, tc := range []struct {
		db   string
		file []byte
	}{{nbName, ovnschema.Northbound}, {"OVN_Southbound", ovnschema.Southbound}} {
		checkSchema(t, tc.db, ok(t, c.Call("get_schema", tc.db)), tc.file)
	}
	var s struct{ Name string }
	if err := json.Unmarshal(ok(t, c.Call("get_schema", "_Server")), &s); err != nil || s.Name != "_Server" {
		t.Errorf("_Server schema: name %q, err %v", s.Name, err)
	}
	failed(t, c.Call("get_schema", "Open_vSwitch"), "unknown database")
	failed(t, c.Call("get_schema"), "syntax error")
	// The connection survives errors.
	ok(t, c.Call("list_dbs"))
}

func TestEcho(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	checkJSON(t, "echo", ok(t, c.Call("echo", 1, "two", raw(`{"three":[3]}`))), `[1,"two",{"three":[3]}]`)
	checkJSON(t, "empty echo", ok(t, c.Call("echo")), `[]`)
	// Ids of any JSON type come back as sent.
	for _, id := range []string{`"abc"`, `[1,2]`, `{"k":"v"}`, `-7`} {
		c.SendMessage(raw(id), "echo", "x")
		checkJSON(t, "echo with id "+id, ok(t, c.Reply(raw(id))), `["x"]`)
	}
}

func TestGetServerID(t *testing.T) {
	ts := startServer(t, "")
	var ids []string
	for _, sock := range []string{ts.nb, ts.sb} {
		var id string
		if err := json.Unmarshal(ok(t, ovsdbtestDial(t, sock).Call("get_server_id")), &id); err != nil {
			t.Fatalf("server id is not a string: %v", err)
		}
		if !ovsjson.IsUUID(id) {
			t.Errorf("server id %q is not a UUID", id)
		}
		ids = append(ids, id)
	}
	if ids[0] != ids[1] {
		t.Errorf("server ids differ between connections: %v", ids)
	}
}

func TestSetDBChangeAware(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	checkJSON(t, "set_db_change_aware true", ok(t, c.Call("set_db_change_aware", true)), `{}`)
	checkJSON(t, "set_db_change_aware false", ok(t, c.Call("set_db_change_aware", false)), `{}`)
}

func TestUnknownMethod(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	m := c.Call("frobnicate", 1)
	failed(t, m, "unknown method")
	if string(m.ID) != "1" {
		t.Errorf("reply id %s, want 1", m.ID)
	}
	// An unknown notification gets no reply and the session goes on.
	c.SendMessage(nil, "frobnicate")
	c.ExpectNone(200 * time.Millisecond)
	ok(t, c.Call("list_dbs"))
}

func TestServerDatabase(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	m := c.Call("transact", "_Server", raw(`{"op":"select","table":"Database","where":[],"columns":["name","model","connected","leader"]}`))
	checkJSON(t, "_Server rows", sortRows(t, ok(t, m)), `[{"rows":[
		{"name":"OVN_Northbound","model":"standalone","connected":true,"leader":true},
		{"name":"OVN_Southbound","model":"standalone","connected":true,"leader":true},
		{"name":"_Server","model":"standalone","connected":true,"leader":true}]}]`)
}

// TestServerDatabaseReadOnly: ovsdb-server refuses writes to _Server in
// the transaction's result, as the failed operation's error, not as an
// error reply to the whole request.
func TestServerDatabaseReadOnly(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	m := c.Call("transact", "_Server", raw(`{"op":"delete","table":"Database","where":[]}`))
	var res []map[string]any
	if err := json.Unmarshal(ok(t, m), &res); err != nil || len(res) != 1 || res[0]["error"] != "not allowed" {
		t.Fatalf(`want result [{"error":"not allowed",...}], got %s`, m.Raw)
	}
}

// sortRows sorts the rows of a one-select result by name.
func sortRows(t testing.TB, res []byte) []byte {
	t.Helper()
	var r []struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(res, &r); err != nil || len(r) != 1 {
		t.Fatalf("not a select result: %s", res)
	}
	rows := r[0].Rows
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			if rows[j]["name"].(string) < rows[i]["name"].(string) {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
	}
	b, _ := json.Marshal(r)
	return b
}

// checkSchema checks that a schema from the wire is the one in the file:
// same name, version, checksum and tables with the same columns. (The
// server renders it in ovsdb-server's canonical form, so the text differs.)
func checkSchema(t testing.TB, what string, got, want []byte) {
	t.Helper()
	type schema struct {
		Name, Version, Cksum string
		Tables               map[string]struct {
			Columns map[string]json.RawMessage
		}
	}
	var g, w schema
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: schema is not JSON: %v", what, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if g.Name != w.Name || g.Version != w.Version || g.Cksum != w.Cksum {
		t.Errorf("%s: schema %s %s %q, want %s %s %q", what, g.Name, g.Version, g.Cksum, w.Name, w.Version, w.Cksum)
	}
	if len(g.Tables) != len(w.Tables) {
		t.Errorf("%s: %d tables, want %d", what, len(g.Tables), len(w.Tables))
	}
	for name, wt := range w.Tables {
		gt, found := g.Tables[name]
		if !found || len(gt.Columns) != len(wt.Columns) {
			t.Errorf("%s: table %s has %d columns, want %d", what, name, len(gt.Columns), len(wt.Columns))
		}
	}
	if _, err := database.ParseSchema(got); err != nil {
		t.Errorf("%s: schema from the wire does not parse: %v", what, err)
	}
}

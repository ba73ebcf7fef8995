package embeddeddb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
	"github.com/ovnd/ovnd/internal/ovsjson"
)

// quiet is how long a test waits to be sure that no notification comes.
const quiet = 150 * time.Millisecond

// checkUpdate checks the next notification: its method, monitor id, and
// (for update3) that it carries a transaction id, then compares the
// table-updates with want, a JSON text in which %[1]s, %[2]s… stand for
// the uuids given. It returns the update3 transaction id.
func checkUpdate(t testing.TB, c *ovsdbtest.Client, method, monID, want string, uuids ...any) string {
	t.Helper()
	m := c.Notification(method)
	p := params(t, m)
	wantLen := 2
	if method == "update3" {
		wantLen = 3
	}
	if len(p) != wantLen {
		t.Fatalf("%s has %d params, want %d: %s", method, len(p), wantLen, m.Raw)
	}
	checkJSON(t, method+" monitor id", p[0], monID)
	txn := ""
	if method == "update3" {
		if err := json.Unmarshal(p[1], &txn); err != nil || !ovsjson.IsUUID(txn) {
			t.Errorf("update3 transaction id %s is not a UUID", p[1])
		}
	}
	checkJSON(t, method+" table-updates", p[len(p)-1], fmt.Sprintf(want, uuids...))
	return txn
}

func TestMonitorV1(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a := addSwitch(t, w, "a")
	res := ok(t, c.Call("monitor", nbName, "m1", raw(`{"Logical_Switch":{"columns":["name","other_config"]}}`)))
	checkJSON(t, "initial", res, fmt.Sprintf(`{"Logical_Switch":{%q:{"new":{"name":"a","other_config":["map",[]]}}}}`, a))

	b := addSwitch(t, w, "b")
	checkUpdate(t, c, "update", `"m1"`, `{"Logical_Switch":{%q:{"new":{"name":"b","other_config":["map",[]]}}}}`, b)

	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","b"]],"row":{"name":"b2"}}]`)
	checkUpdate(t, c, "update", `"m1"`, `{"Logical_Switch":{%q:{"old":{"name":"b"},"new":{"name":"b2","other_config":["map",[]]}}}}`, b)

	// A change to an unmonitored column sends nothing.
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","b2"]],"row":{"external_ids":["map",[["k","v"]]]}}]`)
	c.ExpectNone(quiet)

	transact(t, w, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","b2"]]}]`)
	checkUpdate(t, c, "update", `"m1"`, `{"Logical_Switch":{%q:{"old":{"name":"b2","other_config":["map",[]]}}}}`, b)
}

func TestMonitorV1Select(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	addSwitch(t, w, "a")
	res := ok(t, c.Call("monitor", nbName, nil,
		raw(`{"Logical_Switch":{"columns":["name"],"select":{"initial":false,"insert":true,"delete":false,"modify":false}}}`)))
	checkJSON(t, "no initial rows", res, `{}`)
	b := addSwitch(t, w, "b")
	checkUpdate(t, c, "update", `null`, `{"Logical_Switch":{%q:{"new":{"name":"b"}}}}`, b)
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","b"]],"row":{"name":"b2"}},
		{"op":"delete","table":"Logical_Switch","where":[["name","==","a"]]}]`)
	c.ExpectNone(quiet)
}

func TestMonitorCond(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a, _ := addSwitch(t, w, "a"), addSwitch(t, w, "b")
	res := ok(t, c.Call("monitor_cond", nbName, "mc",
		raw(`{"Logical_Switch":[{"columns":["name","external_ids"],"where":[["name","!=","b"]]}]}`)))
	checkJSON(t, "initial", res, fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"a"}}}}`, a))

	cc := addSwitch(t, w, "c")
	checkUpdate(t, c, "update2", `"mc"`, `{"Logical_Switch":{%q:{"insert":{"name":"c"}}}}`, cc)

	// A modify carries only the difference: for a map, the changed pairs.
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","c"]],"row":{"external_ids":["map",[["k","v"],["x","1"]]]}}]`)
	checkUpdate(t, c, "update2", `"mc"`, `{"Logical_Switch":{%q:{"modify":{"external_ids":["map",[["k","v"],["x","1"]]]}}}}`, cc)
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","c"]],"row":{"external_ids":["map",[["k","v2"],["x","1"]]]}}]`)
	checkUpdate(t, c, "update2", `"mc"`, `{"Logical_Switch":{%q:{"modify":{"external_ids":["map",[["k","v2"]]]}}}}`, cc)

	// Rows leaving the condition are deleted from the view; rows outside
	// it never show.
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","c"]],"row":{"name":"b"}}]`)
	checkUpdate(t, c, "update2", `"mc"`, `{"Logical_Switch":{%q:{"delete":null}}}`, cc)
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","b"]],"row":{"external_ids":["map",[]]}}]`)
	c.ExpectNone(quiet)

	transact(t, w, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","a"]]}]`)
	checkUpdate(t, c, "update2", `"mc"`, `{"Logical_Switch":{%q:{"delete":null}}}`, a)
}

func TestMonitorCondLiterals(t *testing.T) {
	ts := startServer(t, "")
	none, all, w := ts.dialNB(t), ts.dialNB(t), ts.dialNB(t)
	a := addSwitch(t, w, "a")
	checkJSON(t, "where [false]", ok(t, none.Call("monitor_cond", nbName, "f",
		raw(`{"Logical_Switch":[{"columns":["name"],"where":[false]}]}`))), `{}`)
	checkJSON(t, "where [true]", ok(t, all.Call("monitor_cond", nbName, "t",
		raw(`{"Logical_Switch":[{"columns":["name"],"where":[true]}]}`))),
		fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"a"}}}}`, a))
	b := addSwitch(t, w, "b")
	checkUpdate(t, all, "update2", `"t"`, `{"Logical_Switch":{%q:{"insert":{"name":"b"}}}}`, b)
	none.ExpectNone(quiet)
}

// TestMonitorCondEmptyWhere: ovsdb-server monitors every row for an empty
// "where" array, as ovsdb-idl sends for a true condition.
func TestMonitorCondEmptyWhere(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a := addSwitch(t, w, "a")
	checkJSON(t, "where []", ok(t, c.Call("monitor_cond", nbName, "e",
		raw(`{"Logical_Switch":[{"columns":["name"],"where":[]}]}`))),
		fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"a"}}}}`, a))
	b := addSwitch(t, w, "b")
	checkUpdate(t, c, "update2", `"e"`, `{"Logical_Switch":{%q:{"insert":{"name":"b"}}}}`, b)
}

func TestMonitorCondChange(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a, b := addSwitch(t, w, "a"), addSwitch(t, w, "b")
	ok(t, c.Call("monitor_cond", nbName, "m",
		raw(`{"Logical_Switch":[{"columns":["name","external_ids"],"where":[["name","==","a"]]}]}`)))

	// Moving the condition from a to b: b enters the view, a leaves it.
	checkJSON(t, "monitor_cond_change reply", ok(t, c.Call("monitor_cond_change", "m", "m2",
		raw(`{"Logical_Switch":[{"where":[["name","==","b"]]}]}`))), `{}`)
	checkUpdate(t, c, "update2", `"m2"`, `{"Logical_Switch":{%q:{"insert":{"name":"b"}},%q:{"delete":null}}}`, b, a)

	// The new condition applies to later commits, under the new id.
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","a"]],"row":{"external_ids":["map",[["k","a"]]]}}]`)
	c.ExpectNone(quiet)
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","b"]],"row":{"external_ids":["map",[["k","b"]]]}}]`)
	checkUpdate(t, c, "update2", `"m2"`, `{"Logical_Switch":{%q:{"modify":{"external_ids":["map",[["k","b"]]]}}}}`, b)

	// [true] brings everything in; [false] takes everything out.
	ok(t, c.Call("monitor_cond_change", "m2", "m2", raw(`{"Logical_Switch":[{"where":[true]}]}`)))
	checkUpdate(t, c, "update2", `"m2"`, `{"Logical_Switch":{%q:{"insert":{"name":"a","external_ids":["map",[["k","a"]]]}}}}`, a)
	ok(t, c.Call("monitor_cond_change", "m2", "m2", raw(`{"Logical_Switch":[{"where":[false]}]}`)))
	checkUpdate(t, c, "update2", `"m2"`, `{"Logical_Switch":{%q:{"delete":null},%q:{"delete":null}}}`, a, b)

	// The old id is gone; ovsdb-server calls that a syntax error.
	failed(t, c.Call("monitor_cond_change", "m", "m3", raw(`{}`)), "syntax error")
	failed(t, c.Call("monitor_cond_change", "m2", "m2", raw(`{"Nope":[{"where":[]}]}`)), "syntax error")
}

func TestMonitorCancel(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	ok(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
	failed(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)), "syntax error")
	checkJSON(t, "monitor_cancel", ok(t, c.Call("monitor_cancel", "m")), `{}`)
	addSwitch(t, w, "a")
	c.ExpectNone(quiet)
	failed(t, c.Call("monitor_cancel", "m"), "unknown monitor")
	// The id can be used again.
	ok(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
}

func TestMonitorErrors(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	failed(t, c.Call("monitor_cond", "Nope", "m", raw(`{}`)), "unknown database")
	failed(t, c.Call("monitor_cond", nbName, "m", raw(`{"Nope":[{}]}`)), "syntax error")
	failed(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["nope"]}]}`)), "syntax error")
	failed(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"where":[["nope","==",1]]}]}`)), "unknown column")
	failed(t, c.Call("monitor_cond", nbName, "m"), "syntax error")
	ok(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
}

// TestMonitorCondSince follows a client through a reconnect: with the last
// transaction id it saw it gets only what it missed, with an unknown id
// the whole state.
func TestMonitorCondSince(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a, b := addSwitch(t, w, "a"), addSwitch(t, w, "b")
	req := raw(`{"Logical_Switch":[{"columns":["name","external_ids"]}]}`)
	res := ok(t, c.Call("monitor_cond_since", nbName, "s", req, database.ZeroUUID))
	last := checkSince(t, res, false, fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"a"}},%q:{"initial":{"name":"b"}}}}`, a, b))

	cc := addSwitch(t, w, "c")
	txn := checkUpdate(t, c, "update3", `"s"`, `{"Logical_Switch":{%q:{"insert":{"name":"c"}}}}`, cc)
	if txn == last {
		t.Errorf("update3 repeats the transaction id of the initial reply %s", last)
	}
	c.Close()

	// Missed while disconnected: an insert, a modify, a delete, and a row
	// that came and went.
	d := addSwitch(t, w, "d")
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[["name","==","a"]],"row":{"external_ids":["map",[["k","v"]]]}}]`)
	transact(t, w, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","b"]]}]`)
	addSwitch(t, w, "tmp")
	transact(t, w, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","tmp"]]}]`)

	c2 := ts.dialNB(t)
	res = ok(t, c2.Call("monitor_cond_since", nbName, "s", req, txn))
	last2 := checkSince(t, res, true, fmt.Sprintf(`{"Logical_Switch":{%q:{"insert":{"name":"d"}},%q:{"modify":{"external_ids":["map",[["k","v"]]]}},%q:{"delete":null}}}`, d, a, b))
	if last2 == txn {
		t.Errorf("reply names the old transaction %s as the last one", txn)
	}

	// Up to date: found, nothing to send.
	c3 := ts.dialNB(t)
	checkSince(t, ok(t, c3.Call("monitor_cond_since", nbName, "s", req, last2)), true, `{}`)
	// The reply's id is the one later updates follow.
	e := addSwitch(t, w, "e")
	checkUpdate(t, c3, "update3", `"s"`, `{"Logical_Switch":{%q:{"insert":{"name":"e"}}}}`, e)

	// An id the server never issued: not found, the whole state.
	c4 := ts.dialNB(t)
	checkSince(t, ok(t, c4.Call("monitor_cond_since", nbName, "s", req, "6b3f2a7e-0000-4000-8000-000000000001")), false,
		fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"a","external_ids":["map",[["k","v"]]]}},%q:{"initial":{"name":"c"}},%q:{"initial":{"name":"d"}},%q:{"initial":{"name":"e"}}}}`, a, cc, d, e))
}

// checkSince checks a monitor_cond_since reply [found, last-txn-id,
// updates] and returns the transaction id.
func checkSince(t testing.TB, res []byte, found bool, want string) string {
	t.Helper()
	var r []json.RawMessage
	if err := json.Unmarshal(res, &r); err != nil || len(r) != 3 {
		t.Fatalf("monitor_cond_since reply is not [found, id, updates]: %s", res)
	}
	checkJSON(t, "found", r[0], fmt.Sprint(found))
	var id string
	if err := json.Unmarshal(r[1], &id); err != nil || !ovsjson.IsUUID(id) {
		t.Errorf("last transaction id %s is not a UUID", r[1])
	}
	checkJSON(t, "monitor_cond_since updates", r[2], want)
	return id
}

// TestMonitorsShareEncoding: monitors with the same request get the same
// notification bodies, on one connection or on several.
func TestMonitorsShareEncoding(t *testing.T) {
	ts := startServer(t, "")
	c1, c2, w := ts.dialNB(t), ts.dialNB(t), ts.dialNB(t)
	req := raw(`{"Logical_Switch":[{"columns":["name","external_ids"],"where":[["name","!=","x"]]}],"Logical_Switch_Port":[{"columns":["name"]}]}`)
	for _, c := range []*ovsdbtest.Client{c1, c2} {
		ok(t, c.Call("monitor_cond", nbName, "same", req))
	}
	ok(t, c1.Call("monitor_cond", nbName, "other", req))
	transact(t, w, `[{"op":"insert","table":"Logical_Switch","row":{"name":"a","ports":["named-uuid","p"]}},
		{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p"},"uuid-name":"p"}]`)
	transact(t, w, `[{"op":"update","table":"Logical_Switch","where":[],"row":{"external_ids":["map",[["k","v"]]]}}]`)
	for i := 0; i < 2; i++ {
		byID := map[string]ovsdbtest.Message{}
		for j := 0; j < 2; j++ {
			m := c1.Notification("update2")
			byID[string(params(t, m)[0])] = m
		}
		same, other, m2 := byID[`"same"`], byID[`"other"`], c2.Notification("update2")
		if string(same.Raw) != string(m2.Raw) {
			t.Errorf("identical monitors got different notifications:\n%s\n%s", same.Raw, m2.Raw)
		}
		// The other monitor differs only in its id.
		if string(params(t, same)[1]) != string(params(t, other)[1]) {
			t.Errorf("monitors with different ids got different bodies:\n%s\n%s", same.Raw, other.Raw)
		}
	}
}

// TestLargeInitialReply: a monitor whose initial rows make a reply of
// many parts (hundreds of KB) gets every row, whole and once, with
// monitor, monitor_cond and monitor_cond_since.
func TestLargeInitialReply(t *testing.T) {
	ts := startServer(t, "")
	w := ts.dialNB(t)
	const n = 1500
	long := strings.Repeat("x", 200)
	ops := make([]string, n)
	for i := range ops {
		ops[i] = fmt.Sprintf(`{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d-%s"}}`, i, long)
	}
	transact(t, w, "["+strings.Join(ops, ",")+"]")
	for _, method := range []string{"monitor", "monitor_cond", "monitor_cond_since"} {
		c := ts.dialNB(t)
		args := []any{nbName, "m", raw(`{"Logical_Switch":{"columns":["name"]}}`)}
		if method == "monitor_cond_since" {
			args = append(args, database.ZeroUUID)
		}
		res := ok(t, c.Call(method, args...))
		if method == "monitor_cond_since" {
			var r []json.RawMessage
			if err := json.Unmarshal(res, &r); err != nil || len(r) != 3 {
				t.Fatalf("%s: reply is not [found, last-id, updates]: %.200s", method, res)
			}
			res = r[2]
		}
		var updates map[string]map[string]map[string]struct{ Name string }
		if err := json.Unmarshal(res, &updates); err != nil {
			t.Fatalf("%s: %d-byte reply does not decode: %v", method, len(res), err)
		}
		names := map[string]bool{}
		for _, u := range updates["Logical_Switch"] {
			for _, row := range u {
				names[row.Name] = true
			}
		}
		for i := range n {
			if name := fmt.Sprintf("sw%d-%s", i, long); !names[name] {
				t.Fatalf("%s: initial reply (%d bytes, %d rows) lacks %.10s…", method, len(res), len(names), name)
			}
		}
		if len(names) != n {
			t.Fatalf("%s: %d rows in the initial reply, want %d", method, len(names), n)
		}
		c.Close()
	}
}

// TestSharedShapeSplitsAndJoins: monitors of one shape share their
// updates until one changes its condition, which then gets only what
// its new condition selects while the others keep getting everything;
// a monitor cancelled gets nothing more, and one opened later with the
// same shape joins the others.
func TestSharedShapeSplitsAndJoins(t *testing.T) {
	ts := startServer(t, "")
	c1, c2, c3, w := ts.dialNB(t), ts.dialNB(t), ts.dialNB(t), ts.dialNB(t)
	req := raw(`{"Logical_Switch":[{"columns":["name"],"where":[true]}]}`)
	for _, c := range []*ovsdbtest.Client{c1, c2} {
		ok(t, c.Call("monitor_cond", nbName, "m", req))
	}
	ok(t, c1.Call("monitor_cond_change", "m", "only-b", raw(`{"Logical_Switch":[{"where":[["name","==","b"]]}]}`)))
	a := addSwitch(t, w, "a")
	b := addSwitch(t, w, "b")
	checkUpdate(t, c1, "update2", `"only-b"`, `{"Logical_Switch":{%q:{"insert":{"name":"b"}}}}`, b)
	c1.ExpectNone(quiet)
	checkUpdate(t, c2, "update2", `"m"`, `{"Logical_Switch":{%q:{"insert":{"name":"a"}}}}`, a)
	checkUpdate(t, c2, "update2", `"m"`, `{"Logical_Switch":{%q:{"insert":{"name":"b"}}}}`, b)

	// c1 goes back to c2's shape, under a new id; c2 leaves; c3 joins.
	ok(t, c1.Call("monitor_cond_change", "only-b", "all", raw(`{"Logical_Switch":[{"where":[true]}]}`)))
	checkUpdate(t, c1, "update2", `"all"`, `{"Logical_Switch":{%q:{"insert":{"name":"a"}}}}`, a)
	ok(t, c2.Call("monitor_cancel", "m"))
	ok(t, c3.Call("monitor_cond", nbName, "m", req))
	cc := addSwitch(t, w, "c")
	checkUpdate(t, c1, "update2", `"all"`, `{"Logical_Switch":{%q:{"insert":{"name":"c"}}}}`, cc)
	checkUpdate(t, c3, "update2", `"m"`, `{"Logical_Switch":{%q:{"insert":{"name":"c"}}}}`, cc)
	c2.ExpectNone(quiet)
}

package embeddeddb

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTransactRoundTrip(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)

	res := transact(t, c, `[
		{"op":"insert","table":"Logical_Switch","row":{"name":"sw0","external_ids":["map",[["k","v"]]]},"uuid-name":"sw"},
		{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p0","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]]},"uuid-name":"p"},
		{"op":"mutate","table":"Logical_Switch","where":[["_uuid","==",["named-uuid","sw"]]],"mutations":[["ports","insert",["set",[["named-uuid","p"]]]]]}]`)
	sw, port := insertUUID(t, res[0]), insertUUID(t, res[1])
	if res[2]["count"] != 1.0 {
		t.Errorf("mutate result %v, want count 1", res[2])
	}

	sel := `[{"op":"select","table":"Logical_Switch","where":[["name","==","sw0"]],"columns":["name","ports","external_ids"]}]`
	checkJSON(t, "select after insert", mustMarshal(t, transact(t, c, sel)),
		fmt.Sprintf(`[{"rows":[{"name":"sw0","ports":["uuid",%q],"external_ids":["map",[["k","v"]]]}]}]`, port))

	res = transact(t, c, `[{"op":"update","table":"Logical_Switch","where":[["name","==","sw0"]],"row":{"name":"sw1"}},
		{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw1"]],"mutations":[["external_ids","insert",["map",[["k2","v2"]]]]]}]`)
	checkJSON(t, "update and mutate counts", mustMarshal(t, res), `[{"count":1},{"count":1}]`)
	checkJSON(t, "select after update", mustMarshal(t, transact(t, c,
		`[{"op":"select","table":"Logical_Switch","where":[["_uuid","==",["uuid","`+sw+`"]]],"columns":["name","external_ids"]}]`)),
		`[{"rows":[{"name":"sw1","external_ids":["map",[["k","v"],["k2","v2"]]]}]}]`)

	// Deleting the switch garbage-collects its (non-root) port.
	res = transact(t, c, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","sw1"]]}]`)
	checkJSON(t, "delete count", mustMarshal(t, res), `[{"count":1}]`)
	checkJSON(t, "nothing left", mustMarshal(t, transact(t, c,
		`[{"op":"select","table":"Logical_Switch","where":[]},{"op":"select","table":"Logical_Switch_Port","where":[]}]`)),
		`[{"rows":[]},{"rows":[]}]`)
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTransactErrors(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	addSwitch(t, c, "keep")
	for _, tc := range []struct {
		name, ops string
		errAt     int
		tag       string
	}{
		{"unknown table", `[{"op":"select","table":"Nope","where":[]}]`, 0, "syntax error"},
		{"unknown op", `[{"op":"frob","table":"Logical_Switch"}]`, 0, "syntax error"},
		{"unknown column", `[{"op":"insert","table":"Logical_Switch","row":{"nope":1}}]`, 0, "unknown column"},
		{"type mismatch", `[{"op":"insert","table":"Logical_Switch","row":{"name":5}}]`, 0, "syntax error"},
		{"abort rolls back", `[{"op":"insert","table":"Logical_Switch","row":{"name":"gone"}},{"op":"abort"}]`, 1, "aborted"},
		{"dangling strong reference", `[{"op":"insert","table":"Logical_Switch","row":{"name":"gone","ports":["uuid","0b5a5fa5-0000-4000-8000-000000000000"]}}]`, 1, "referential integrity violation"},
		{"assert without lock", `[{"op":"assert","lock":"l"},{"op":"insert","table":"Logical_Switch","row":{"name":"gone"}}]`, 0, "not owner"},
		{"enum violated", `[{"op":"insert","table":"ACL","row":{"action":"frob","direction":"to-lport","match":"1","priority":1}}]`, 0, "constraint violation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := transactAny(t, c, tc.ops)
			if len(res) <= tc.errAt || res[tc.errAt]["error"] != tc.tag {
				t.Fatalf("want error %q at %d, got %s", tc.tag, tc.errAt, mustMarshal(t, res))
			}
			for _, r := range res[tc.errAt+1:] {
				if r != nil {
					t.Errorf("operations after the failed one must be null: %s", mustMarshal(t, res))
				}
			}
		})
	}
	checkJSON(t, "only the first switch exists", mustMarshal(t, transact(t, c,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)), `[{"rows":[{"name":"keep"}]}]`)

	// Errors at the request level.
	failed(t, c.Call("transact", "Nope", raw(`{"op":"select","table":"X","where":[]}`)), "unknown database")
	failed(t, c.Call("transact"), "syntax error")
	ok(t, c.Call("list_dbs"))
}

// waitOps is a transaction that waits up to timeoutMs for switch name to
// exist and then renames it.
func waitOps(name string, timeoutMs int) []any {
	return []any{nbName,
		raw(fmt.Sprintf(`{"op":"wait","table":"Logical_Switch","timeout":%d,"where":[["name","==",%q]],"columns":["name"],"until":"==","rows":[{"name":%q}]}`, timeoutMs, name, name)),
		raw(fmt.Sprintf(`{"op":"update","table":"Logical_Switch","where":[["name","==",%q]],"row":{"name":"%s-seen"}}`, name, name)),
	}
}

func TestWaitCompletesOnCommit(t *testing.T) {
	ts := startServer(t, "")
	waiter, writer := ts.dialNB(t), ts.dialNB(t)
	id := waiter.Send("transact", waitOps("late", 60000)...)
	waiter.ExpectNone(200 * time.Millisecond)
	// The blocked transaction does not hold up other requests on its session.
	ok(t, waiter.Call("echo"))

	addSwitch(t, writer, "late")
	checkJSON(t, "blocked transaction after the commit", ok(t, waiter.Reply(id)), `[{},{"count":1}]`)
	checkJSON(t, "its update is applied", mustMarshal(t, transact(t, writer,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)), `[{"rows":[{"name":"late-seen"}]}]`)
}

func TestWaitTimesOut(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	start := time.Now()
	m := c.Call("transact", waitOps("never", 200)...)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("wait answered after %v, before its 200 ms timeout", d)
	}
	var res []map[string]any
	if err := json.Unmarshal(ok(t, m), &res); err != nil || len(res) != 2 {
		t.Fatalf("bad result %s", m.Raw)
	}
	if res[0]["error"] != "timed out" || res[1] != nil {
		t.Errorf(`want [{"error":"timed out",...},null], got %s`, m.Result)
	}
	// timeout 0 fails at once.
	m = c.Call("transact", waitOps("never", 0)...)
	if !strings.Contains(string(m.Result), `"timed out"`) {
		t.Errorf("wait with timeout 0: %s", m.Raw)
	}
}

func TestCancelBlockedTransaction(t *testing.T) {
	ts := startServer(t, "")
	c, writer := ts.dialNB(t), ts.dialNB(t)
	id := c.Send("transact", waitOps("late", 60000)...)
	c.ExpectNone(100 * time.Millisecond)
	c.SendMessage(nil, "cancel", id)
	failed(t, c.Reply(id), "canceled")
	// A canceled transaction never runs, even once its wait is satisfied.
	addSwitch(t, writer, "late")
	c.ExpectNone(200 * time.Millisecond)
	checkJSON(t, "switch not renamed", mustMarshal(t, transact(t, writer,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)), `[{"rows":[{"name":"late"}]}]`)
}

func TestBlockedTransactionOfClosedClient(t *testing.T) {
	ts := startServer(t, "")
	c, writer := ts.dialNB(t), ts.dialNB(t)
	c.Send("transact", waitOps("late", 60000)...)
	c.ExpectNone(100 * time.Millisecond)
	c.Close()
	// Its transaction is forgotten: the commit does not run it.
	deadline := time.Now().Add(5 * time.Second)
	for waitingCount(ts.Server) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := waitingCount(ts.Server); n != 0 {
		t.Fatalf("%d blocked transactions left after their client closed", n)
	}
	addSwitch(t, writer, "late")
	checkJSON(t, "switch not renamed", mustMarshal(t, transact(t, writer,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)), `[{"rows":[{"name":"late"}]}]`)
}

func waitingCount(s *Server) int {
	n := 0
	for _, d := range s.dbs {
		d.mu.Lock()
		n += len(d.waiting)
		d.mu.Unlock()
	}
	return n
}

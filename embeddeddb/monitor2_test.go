package embeddeddb

import (
	"fmt"
	"testing"
)

// TestMonitorRequestShapes compares request forms with ovsdb-server 3.1's
// answers to them.
func TestMonitorRequestShapes(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	a, b := addSwitch(t, w, "a"), addSwitch(t, w, "b")

	// An empty column list monitors the rows but no columns.
	checkJSON(t, "columns []", ok(t, c.Call("monitor_cond", nbName, "x", raw(`{"Logical_Switch":[{"columns":[]}]}`))),
		fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{}},%q:{"initial":{}}}}`, a, b))
	// initial false: no rows in the reply.
	checkJSON(t, "select initial false", ok(t, c.Call("monitor_cond", nbName, "z",
		raw(`{"Logical_Switch":[{"columns":["name"],"select":{"initial":false}}]}`))), `{}`)
	// A condition on _uuid.
	checkJSON(t, "where _uuid", ok(t, c.Call("monitor_cond", nbName, "u",
		raw(fmt.Sprintf(`{"Logical_Switch":[{"columns":["name"],"where":[["_uuid","==",["uuid",%q]]]}]}`, b)))),
		fmt.Sprintf(`{"Logical_Switch":{%q:{"initial":{"name":"b"}}}}`, b))
}

// TestMonitorRepeatedColumn: ovsdb-server refuses a monitor whose requests
// for one table name a column twice.
func TestMonitorRepeatedColumn(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	failed(t, c.Call("monitor", nbName, "y", raw(`{"Logical_Switch":[{"columns":["name"]},{"columns":["name"]}]}`)), "syntax error")
}

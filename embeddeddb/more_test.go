package embeddeddb

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
	"github.com/ovnd/ovnd/internal/ovsjson"
)

// TestChainedWaits: one commit unblocks a transaction whose commit in turn
// unblocks another.
func TestChainedWaits(t *testing.T) {
	ts := startServer(t, "")
	a, b, w := ts.dialNB(t), ts.dialNB(t), ts.dialNB(t)
	idB := b.Send("transact", nbName,
		raw(`{"op":"wait","table":"Logical_Switch","timeout":60000,"where":[["name","==","y"]],"columns":["name"],"until":"==","rows":[{"name":"y"}]}`),
		raw(`{"op":"insert","table":"Logical_Switch","row":{"name":"z"}}`))
	idA := a.Send("transact", nbName,
		raw(`{"op":"wait","table":"Logical_Switch","timeout":60000,"where":[["name","==","x"]],"columns":["name"],"until":"==","rows":[{"name":"x"}]}`),
		raw(`{"op":"insert","table":"Logical_Switch","row":{"name":"y"}}`))
	a.ExpectNone(quiet)
	addSwitch(t, w, "x")
	ok(t, a.Reply(idA))
	ok(t, b.Reply(idB))
	checkJSON(t, "all three switches", sortRows(t, mustMarshal(t, transact(t, w,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`))),
		`[{"rows":[{"name":"x"},{"name":"y"},{"name":"z"}]}]`)
}

// TestOwnUpdateBeforeReply: a client that monitors what it writes gets
// the update before the reply to its transaction, as from ovsdb-server.
func TestOwnUpdateBeforeReply(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	ok(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
	for i := 0; i < 20; i++ {
		id := c.Send("transact", nbName, raw(fmt.Sprintf(`{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d"}}`, i)))
		first, err := c.Next(ovsdbtest.DefaultTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if first.Method != "update2" {
			t.Fatalf("commit %d: got %s before the update", i, first.Raw)
		}
		ok(t, c.Reply(id))
	}
}

// TestMonitorCondSinceHistoryOverflow: once the history no longer reaches
// back to the client's transaction, it gets found=false and everything.
func TestMonitorCondSinceHistoryOverflow(t *testing.T) {
	ts := startServer(t, "")
	c, w := ts.dialNB(t), ts.dialNB(t)
	req := raw(`{"Logical_Switch":[{"columns":["name"]}]}`)
	addSwitch(t, w, "first")
	last := checkSinceFound(t, c.Call("monitor_cond_since", nbName, "s", req, database.ZeroUUID), false)
	var ops strings.Builder
	ops.WriteByte('[')
	for i := 0; i <= historyLimit; i++ {
		if i > 0 {
			ops.WriteByte(',')
		}
		fmt.Fprintf(&ops, `{"op":"insert","table":"Logical_Switch","row":{"name":"bulk%d"}}`, i)
	}
	ops.WriteByte(']')
	transact(t, w, ops.String())
	c2 := ts.dialNB(t)
	m := c2.Call("monitor_cond_since", nbName, "s", req, last)
	checkSinceFound(t, m, false)
	if n := strings.Count(string(m.Result), `"initial"`); n != historyLimit+2 {
		t.Errorf("full state has %d rows, want %d", n, historyLimit+2)
	}
}

func checkSinceFound(t testing.TB, m ovsdbtest.Message, found bool) string {
	t.Helper()
	p := params(t, ovsdbtest.Message{Params: ok(t, m)})
	checkJSON(t, "found", p[0], fmt.Sprint(found))
	var id string
	if err := jsonUnmarshal(p[1], &id); err != nil || !ovsjson.IsUUID(id) {
		t.Fatalf("bad transaction id %s", p[1])
	}
	return id
}

// TestConnectionProbeZeroDisables: inactivity_probe 0 turns the probe off
// (ovn-nb(5), ovsdb-server).
func TestConnectionProbeZeroDisables(t *testing.T) {
	ts := startServer(t, "")
	admin := ts.dialNB(t)
	addr := freeTCPAddr(t)
	addConnection(t, admin, fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port), 0)
	waitListening(t, addr.String(), true)
	c := ovsdbtest.Dial(t, "tcp", addr.String())
	ok(t, c.Call("list_dbs"))
	c.ExpectNone(DefaultProbe + time.Second)
}

// TestShutdownWithClientsInFlight: Serve returns promptly with a blocked
// transaction, a monitor, a held lock and a half-sent request outstanding,
// and the data committed before survives.
func TestShutdownWithClientsInFlight(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	c, m := ts.dialNB(t), ts.dialNB(t)
	addSwitch(t, c, "kept")
	ok(t, c.Call("lock", "l"))
	ok(t, m.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
	c.Send("transact", waitOps("never", 60000)...)
	m.SendRaw([]byte(`{"id":7,"method":"transact","params":["OVN_Northbound",`))
	c.ExpectNone(quiet)
	start := time.Now()
	ts.stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	for _, cl := range []*ovsdbtest.Client{c, m} {
		if !cl.WaitClosed(ovsdbtest.DefaultTimeout) {
			t.Error("client still connected after Serve returned")
		}
	}
	ts2 := startServer(t, dir)
	checkJSON(t, "after restart", mustMarshal(t, transact(t, ts2.dialNB(t),
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)), `[{"rows":[{"name":"kept"}]}]`)
}

package embeddeddb

import (
	"testing"

	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

func checkLockNotification(t testing.TB, c *ovsdbtest.Client, method, name string) {
	t.Helper()
	m := c.Notification(method)
	checkJSON(t, method+" params", m.Params, `["`+name+`"]`)
	checkJSON(t, method+" id", m.ID, `null`)
}

func TestLockHandOverOnUnlock(t *testing.T) {
	ts := startServer(t, "")
	c1, c2 := ts.dialNB(t), ts.dialNB(t)
	checkJSON(t, "first lock", ok(t, c1.Call("lock", "l")), `{"locked":true}`)
	checkJSON(t, "second lock", ok(t, c2.Call("lock", "l")), `{"locked":false}`)
	c2.ExpectNone(quiet)
	// Other names are independent.
	checkJSON(t, "other lock", ok(t, c2.Call("lock", "other")), `{"locked":true}`)

	checkJSON(t, "unlock", ok(t, c1.Call("unlock", "l")), `{}`)
	checkLockNotification(t, c2, "locked", "l")
	c1.ExpectNone(quiet)
	// Now c1 waits behind c2.
	checkJSON(t, "lock again", ok(t, c1.Call("lock", "l")), `{"locked":false}`)
}

func TestLockHandOverOnDisconnect(t *testing.T) {
	ts := startServer(t, "")
	c1, c2 := ts.dialNB(t), ts.dialNB(t)
	ok(t, c1.Call("lock", "l"))
	checkJSON(t, "second lock", ok(t, c2.Call("lock", "l")), `{"locked":false}`)
	c1.Close()
	checkLockNotification(t, c2, "locked", "l")
}

func TestLockSteal(t *testing.T) {
	ts := startServer(t, "")
	c1, c2 := ts.dialNB(t), ts.dialNB(t)
	ok(t, c1.Call("lock", "l"))
	checkJSON(t, "steal", ok(t, c2.Call("steal", "l")), `{"locked":true}`)
	checkLockNotification(t, c1, "stolen", "l")
	c2.ExpectNone(quiet)
	// The victim keeps waiting, as in ovsdb-server: it gets the lock back
	// when the thief lets go.
	ok(t, c2.Call("unlock", "l"))
	checkLockNotification(t, c1, "locked", "l")
}

func TestLockErrors(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	failed(t, c.Call("unlock", "l"), "syntax error")
	failed(t, c.Call("lock"), "syntax error")
	failed(t, c.Call("lock", 5), "syntax error")
	ok(t, c.Call("lock", "l"))
	failed(t, c.Call("lock", "l"), "syntax error")
}

// TestStealWhileHolding: ovsdb-server requires an unlock before a new
// lock or steal of the same name by the same session.
func TestStealWhileHolding(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	ok(t, c.Call("lock", "l"))
	failed(t, c.Call("steal", "l"), "syntax error")
}

func TestAssertHonoursLock(t *testing.T) {
	ts := startServer(t, "")
	c1, c2 := ts.dialNB(t), ts.dialNB(t)
	ops := `[{"op":"assert","lock":"l"},{"op":"insert","table":"Logical_Switch","row":{"name":"by-owner"}}]`
	ok(t, c1.Call("lock", "l"))
	transact(t, c1, ops)

	// A waiter is not the owner.
	ok(t, c2.Call("lock", "l"))
	res := transactAny(t, c2, ops)
	if res[0]["error"] != "not owner" || res[1] != nil {
		t.Errorf("assert by waiter: %s", mustMarshal(t, res))
	}

	// After a steal the old owner's asserts fail and the thief's succeed.
	c3 := ts.dialNB(t)
	ok(t, c3.Call("steal", "l"))
	checkLockNotification(t, c1, "stolen", "l")
	if res := transactAny(t, c1, ops); res[0]["error"] != "not owner" {
		t.Errorf("assert after stolen: %s", mustMarshal(t, res))
	}
	transact(t, c3, `[{"op":"assert","lock":"l"},{"op":"delete","table":"Logical_Switch","where":[]}]`)
	checkJSON(t, "only the thief's change", mustMarshal(t, transact(t, c3,
		`[{"op":"select","table":"Logical_Switch","where":[]}]`)), `[{"rows":[]}]`)
}

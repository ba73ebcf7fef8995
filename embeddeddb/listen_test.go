package embeddeddb

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

// freeTCPAddr returns a loopback address with a port nobody listens on
// right now.
func freeTCPAddr(t testing.TB) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	return addr
}

// waitListening polls addr until it accepts (want true) or refuses (want
// false) connections.
func waitListening(t testing.TB, addr string, want bool) {
	t.Helper()
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			nc.Close()
		}
		if (err == nil) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: listening=%v, want %v (last dial error %v)", addr, err == nil, want, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addConnection points NB_Global.connections at one passive target.
func addConnection(t testing.TB, c *ovsdbtest.Client, target string, probeMs int) {
	t.Helper()
	transact(t, c, fmt.Sprintf(`[
		{"op":"insert","table":"Connection","row":{"target":%q,"inactivity_probe":%d},"uuid-name":"c"},
		{"op":"insert","table":"NB_Global","row":{"connections":["named-uuid","c"]}}]`, target, probeMs))
}

func TestConnectionRowListenerAndProbe(t *testing.T) {
	ts := startServer(t, "")
	admin := ts.dialNB(t)
	addr := freeTCPAddr(t)
	target := fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port)
	addConnection(t, admin, target, 1000)
	waitListening(t, addr.String(), true)

	silent := ovsdbtest.Dial(t, "tcp", addr.String())
	alive := ovsdbtest.Dial(t, "tcp", addr.String())
	checkDBList(t, ok(t, alive.Call("list_dbs")))

	// After a probe interval without traffic the server sends an echo
	// request; alive answers it, silent does not.
	start := time.Now()
	for _, c := range []*ovsdbtest.Client{silent, alive} {
		m := c.Notification("echo")
		checkJSON(t, "probe id", m.ID, `"echo"`)
		checkJSON(t, "probe params", m.Params, `[]`)
	}
	alive.SendRaw([]byte(`{"id":"echo","result":[],"error":null}`))
	if !silent.WaitClosed(5 * time.Second) {
		t.Fatal("a client that never answers the probe stays connected")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("silent client dropped %v after the first probe, want about one probe interval", d)
	}
	ts.log.waitFor(t, "no reply to inactivity probe")
	// Past the point where silent was dropped, alive still works.
	time.Sleep(500 * time.Millisecond)
	ok(t, alive.Call("echo"))

	// Removing the Connection row closes the listener.
	transact(t, admin, `[{"op":"update","table":"NB_Global","where":[],"row":{"connections":["set",[]]}}]`)
	waitListening(t, addr.String(), false)
}

// TestConnectionRowRemovalClosesSessions: ovsdb-server closes the
// sessions that came in through a remote when the remote goes away.
func TestConnectionRowRemovalClosesSessions(t *testing.T) {
	ts := startServer(t, "")
	admin := ts.dialNB(t)
	addr := freeTCPAddr(t)
	addConnection(t, admin, fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port), 60000)
	waitListening(t, addr.String(), true)
	c := ovsdbtest.Dial(t, "tcp", addr.String())
	ok(t, c.Call("list_dbs"))
	transact(t, admin, `[{"op":"update","table":"NB_Global","where":[],"row":{"connections":["set",[]]}}]`)
	if !c.WaitClosed(5 * time.Second) {
		t.Fatal("session of a removed remote stays open")
	}
}

func TestUnixSocketHasNoProbe(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	ok(t, c.Call("list_dbs"))
	if testing.Short() || DefaultProbe > 6*time.Second {
		t.Skip("waits longer than DefaultProbe")
	}
	c.ExpectNone(DefaultProbe + time.Second)
}

func TestPassiveTCPRemote(t *testing.T) {
	addr := freeTCPAddr(t)
	dir, sock := t.TempDir(), t.TempDir()+"/nb.sock"
	srv, err := New(Config{Dir: dir, NBRemotes: []string{"punix:" + sock, fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port)}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	stop := serveInBackground(t, srv)
	c := ovsdbtest.Dial(t, "tcp", addr.String())
	ok(t, c.Call("list_dbs"))
	c.Close()
	stop()
	waitListening(t, addr.String(), false)

	// A second server cannot take a unix socket a live server holds.
	srv, err = New(Config{Dir: t.TempDir(), NBRemotes: []string{"punix:" + sock}, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("New after the first server stopped: %v", err)
	}
	stop = serveInBackground(t, srv)
	if _, err := New(Config{Dir: t.TempDir(), NBRemotes: []string{"punix:" + sock}, Logger: discardLogger()}); err == nil {
		t.Error("two servers on one unix socket")
	}
	stop()
}

package embeddeddb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

// leftovers describes what the server still holds for its clients.
func leftovers(s *Server) string {
	var b strings.Builder
	s.mu.Lock()
	if n := len(s.conns); n > 0 {
		fmt.Fprintf(&b, "%d connections; ", n)
	}
	s.mu.Unlock()
	for name, d := range s.dbs {
		d.mu.Lock()
		if n := d.monitors.len(); n > 0 {
			fmt.Fprintf(&b, "%s: %d monitors; ", name, n)
		}
		if n := len(d.waiting); n > 0 {
			fmt.Fprintf(&b, "%s: %d blocked transactions; ", name, n)
		}
		d.mu.Unlock()
	}
	s.locks.mu.Lock()
	if n := len(s.locks.locks); n > 0 {
		fmt.Fprintf(&b, "%d locks; ", n)
	}
	s.locks.mu.Unlock()
	return b.String()
}

// waitNoLeftovers waits until the server holds nothing for any client.
func waitNoLeftovers(t testing.TB, s *Server) {
	t.Helper()
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for {
		l := leftovers(s)
		if l == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server still holds: %s", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMalformedJSONClosesConnection(t *testing.T) {
	for _, tc := range []struct{ name, input, log string }{
		{"bad JSON", `{"id":1,"method":"echo","params":[1,]}`, "malformed JSON"},
		{"not an object", `[1,2,3]`, "not a JSON object"},
		{"scalar between messages", `{"id":1,"method":"echo","params":[]} 42 `, "between messages"},
		{"method not a string", `{"id":1,"method":5,"params":[]}`, "method is not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, "")
			other := ts.dialNB(t)
			bad := ts.dialNB(t)
			bad.SendRaw([]byte(tc.input))
			if !bad.WaitClosed(5 * time.Second) {
				t.Fatal("connection stays open after bad input")
			}
			ts.log.waitFor(t, tc.log)
			ok(t, other.Call("echo"))
			ok(t, ts.dialNB(t).Call("list_dbs"))
		})
	}
}

// TestInvalidStringClosesConnection: ovsdb-server's JSON parser rejects
// unknown escapes and NUL characters in strings and closes the session.
func TestInvalidStringClosesConnection(t *testing.T) {
	for _, input := range []string{`{"id":1,"method":"echo","params":["\q"]}`, `{"id":1,"method":"echo","params":["a\u0000b"]}`,
		`{"id":1,"method":"echo","params":[{"k\u0000":1}]}`, `{"id":"\u0000","method":"echo","params":[]}`} {
		t.Run(input, func(t *testing.T) {
			ts := startServer(t, "")
			bad := ts.dialNB(t)
			bad.SendRaw([]byte(input))
			if !bad.WaitClosed(2 * time.Second) {
				t.Fatal("connection stays open after an invalid string")
			}
		})
	}
}

// TestMismatchedBracketClosesConnection: ovsdb-server's incremental
// parser rejects a closing bracket of the wrong kind at once.
func TestMismatchedBracketClosesConnection(t *testing.T) {
	ts := startServer(t, "")
	bad := ts.dialNB(t)
	bad.SendRaw([]byte(`{"id":1,"method":"echo","params":[}`))
	if !bad.WaitClosed(5 * time.Second) {
		t.Fatal("connection stays open after a mismatched bracket")
	}
}

// TestMessageTooLarge streams one message a little over MaxMessageSize:
// the server must refuse it without waiting for its end.
func TestMessageTooLarge(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("streams 130 MiB")
	}
	ts := startServer(t, "")
	other := ts.dialNB(t)
	nc, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	written := 0
	writeErr := func() error {
		nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := nc.Write([]byte(`{"id":1,"method":"echo","params":["`)); err != nil {
			return err
		}
		for written < MaxMessageSize+2<<20 {
			n, err := nc.Write(chunk)
			written += n
			if err != nil {
				return err
			}
		}
		return nil
	}()
	if writeErr == nil {
		// Everything fit in socket buffers; the server must still close.
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.Copy(io.Discard, nc); err != nil {
			t.Fatalf("connection not closed after an oversized message: %v", err)
		}
	} else if errors.Is(writeErr, os.ErrDeadlineExceeded) {
		t.Fatalf("server neither read nor closed: %v", writeErr)
	}
	ts.log.waitFor(t, "request too large")
	if written < MaxMessageSize-1<<20 {
		t.Errorf("server closed after only %d bytes, under MaxMessageSize", written)
	}
	ok(t, other.Call("echo"))
}

// TestDisconnectMidRequest: a client that holds a lock, a monitor and a
// blocked transaction and leaves halfway through a request leaves nothing
// behind, and its half request never runs.
func TestDisconnectMidRequest(t *testing.T) {
	ts := startServer(t, "")
	c, next := ts.dialNB(t), ts.dialNB(t)
	ok(t, c.Call("lock", "l"))
	ok(t, next.Call("lock", "l"))
	ok(t, c.Call("monitor_cond", nbName, "m", raw(`{"Logical_Switch":[{"columns":["name"]}]}`)))
	c.Send("transact", waitOps("never", 60000)...)
	c.SendRaw([]byte(`{"id":9,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"half"`))
	c.ExpectNone(quiet)
	c.Close()

	checkLockNotification(t, next, "locked", "l")
	next.Call("unlock", "l")
	next.Close()
	waitNoLeftovers(t, ts.Server)
	checkJSON(t, "half request not run", mustMarshal(t, transact(t, ts.dialNB(t),
		`[{"op":"select","table":"Logical_Switch","where":[]}]`)), `[{"rows":[]}]`)
	if strings.Contains(ts.log.String(), "level=WARN") || strings.Contains(ts.log.String(), "level=ERROR") {
		t.Errorf("disconnects logged as problems:\n%s", ts.log.String())
	}
}

// TestSlowClientDisconnected: a monitor client that never reads is cut off
// once its backlog passes MaxBacklog, while the writer and other clients
// keep being answered.
func TestSlowClientDisconnected(t *testing.T) {
	ts := startServer(t, "")
	slow, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte(`{"id":1,"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{}]}]}`)); err != nil {
		t.Fatal(err)
	}
	writer, bystander := ts.dialNB(t), ts.dialNB(t)
	big := strings.Repeat("x", 1<<20)
	const limit = 3 * MaxBacklog >> 20 // commits of 1 MiB
	n := 0
	for ; n < limit && !strings.Contains(ts.log.String(), "disconnecting client that is not reading"); n++ {
		transact(t, writer, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d","external_ids":["map",[["big",%q]]]}}]`, n, big))
		ok(t, bystander.Call("echo", n))
	}
	if n == limit {
		t.Fatalf("slow client still connected after %d MiB of updates", n)
	}
	t.Logf("slow client dropped after %d commits of 1 MiB", n)
	if n < MaxBacklog>>20 {
		t.Errorf("slow client dropped after %d MiB, under MaxBacklog", n)
	}
	// Its socket ends after whatever was already in flight.
	slow.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	if _, err := io.Copy(io.Discard, slow); err != nil {
		t.Errorf("slow client's connection not closed: %v", err)
	}
	ok(t, bystander.Call("list_dbs"))
}

// TestLaggingMonitorGetsEveryUpdate: a monitor client that reads nothing
// while commits pile up more than its socket holds (so updates are cut
// mid-message and queued in pieces) then reads every update, whole and in
// commit order, while another monitor with the same shape shares them.
func TestLaggingMonitorGetsEveryUpdate(t *testing.T) {
	ts := startServer(t, "")
	const req = `{"id":1,"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"columns":["name","external_ids"]}]}]}`
	var lag [2]net.Conn
	for i := range lag {
		c, err := net.Dial("unix", ts.nb)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		lag[i] = c
	}
	writer := ts.dialNB(t)
	// Updates larger than the socket's buffer, so that writes stop
	// mid-message; 3 MB in all, far more than a unix socket holds.
	pad := strings.Repeat("p", 300<<10)
	const commits = 10
	for n := range commits {
		transact(t, writer, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d","external_ids":["map",[["pad",%q]]]}}]`, n, pad))
	}
	for i, c := range lag {
		c.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
		sp := newSplitter(c)
		if _, err := sp.Next(); err != nil { // the monitor's reply
			t.Fatalf("client %d: %v", i, err)
		}
		for n := range commits {
			msg, err := sp.Next()
			if err != nil {
				t.Fatalf("client %d, update %d: %v", i, n, err)
			}
			var u struct {
				Method string
				Params []json.RawMessage
			}
			if err := json.Unmarshal(msg, &u); err != nil || u.Method != "update2" || len(u.Params) != 2 {
				t.Fatalf("client %d, update %d: not an update2 (%v): %.200s", i, n, err, msg)
			}
			var rows map[string]map[string]struct {
				Insert struct {
					Name        string
					ExternalIDs []any `json:"external_ids"`
				}
			}
			if err := json.Unmarshal(u.Params[1], &rows); err != nil {
				t.Fatalf("client %d, update %d: %v", i, n, err)
			}
			if len(rows["Logical_Switch"]) != 1 {
				t.Fatalf("client %d, update %d: %d rows, want 1", i, n, len(rows["Logical_Switch"]))
			}
			for _, r := range rows["Logical_Switch"] {
				if want := fmt.Sprintf("sw%d", n); r.Insert.Name != want || !strings.Contains(fmt.Sprint(r.Insert.ExternalIDs), pad) {
					t.Fatalf("client %d, update %d: row %q (pad intact: %v), want %q", i, n,
						r.Insert.Name, strings.Contains(fmt.Sprint(r.Insert.ExternalIDs), pad), want)
				}
			}
		}
	}
}

package interop

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// TestInactivityProbe sets inactivity_probe=1000 on a Connection row and
// checks what ovsdb-server does with it: an idle client is sent an echo
// request after about a second and dropped if it does not answer, while
// a client that answers stays connected. The row's status reports the
// bound port.
func TestInactivityProbe(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	addr := freeTCPAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	nb := NBCtl(s)
	nb.Must(t, "set-connection", ptcp(addr), "--", "set", "Connection", ".", "inactivity_probe=1000")
	if err := waitUntil(5*time.Second, func() bool { return accepts(addr) }); err != nil {
		t.Fatalf("no listener on %s", addr)
	}
	err := waitUntil(5*time.Second, func() bool {
		st := nb.Run(t, "--bare", "--columns=status", "list", "Connection")
		return strings.Contains(st.Stdout, "bound_port="+port)
	})
	if err != nil {
		t.Errorf("Connection row status never showed bound_port=%s: %s", port,
			nb.Run(t, "list", "Connection").Stdout)
	}
	silent := dialTCP(t, addr)
	if msg := readProbe(t, silent, 4*time.Second); msg == nil {
		t.Fatal("idle client got no echo request within 4s")
	}
	if _, err := silent.Next(4 * time.Second); err == nil || isTimeout(err) {
		t.Errorf("client that ignored the echo request is still connected (read: %v)", err)
	}
	answering := dialTCP(t, addr)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		msg := readProbe(t, answering, 3*time.Second)
		if msg == nil {
			t.Fatal("answering client was dropped or not probed")
		}
		reply, _ := json.Marshal(map[string]any{"id": json.RawMessage(msg["id"]), "result": []any{}, "error": nil})
		if err := answering.Send(reply); err != nil {
			t.Fatalf("answering client: %v", err)
		}
	}
	if err := answering.Send([]byte(probe)); err != nil {
		t.Fatal(err)
	}
	if got := answering.Outcome(3 * time.Second); len(got) != 0 {
		t.Errorf("answering client after 3s of probes: %v", got)
	}
}

func dialTCP(t *testing.T, addr string) *RawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &RawConn{conn: c, dec: json.NewDecoder(c)}
}

// readProbe reads the next message and returns it if it is an echo
// request, nil otherwise.
func readProbe(t *testing.T, r *RawConn, timeout time.Duration) map[string]json.RawMessage {
	t.Helper()
	msg, err := r.Next(timeout)
	if err != nil || string(msg["method"]) != `"echo"` {
		t.Logf("waiting for an echo request: got %v, %v", msg, err)
		return nil
	}
	return msg
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

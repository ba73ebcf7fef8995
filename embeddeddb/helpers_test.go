package embeddeddb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

const nbName = "OVN_Northbound"

// serverGoroutine reports whether a goroutine's stack runs code that a
// Server or a test client starts.
func serverGoroutine(stack string) bool {
	for _, f := range []string{"embeddeddb.(*conn)", "embeddeddb.(*listener)", "embeddeddb.(*Server)",
		"embeddeddb.(*remoteSet)", "embeddeddb.(*dbState)", "embeddeddb.(*evLoop)", "embeddeddb.(*evConn)", "ovsdbfile.(*Log)", "ovsdbtest.(*Client)"} {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}

// waitNoLeaks returns the stacks of goroutines still running code of the
// server (embeddeddb, its file log, the test client) once timeout passes.
func waitNoLeaks(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		var leaked []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if serverGoroutine(g) && !strings.Contains(g, "embeddeddb.waitNoLeaks") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logBuffer collects the server's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor polls the log until it holds substr.
func (l *logBuffer) waitFor(t testing.TB, substr string) {
	t.Helper()
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for !strings.Contains(l.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; log:\n%s", substr, l.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testServer is a running Server with its sockets.
type testServer struct {
	*Server
	dir    string
	nb, sb string // unix socket paths
	log    *logBuffer
	stop   func() // cancels Serve and waits for it; safe to call twice
}

// startServer runs a server on dir (a fresh one when dir is "") until the
// test ends.
func startServer(t testing.TB, dir string) *testServer {
	t.Helper()
	return startServerRaw(t, dir, rawTransactMin)
}

// startServerRaw is startServer with transact requests of rawMin bytes
// and more taken apart as raw text (handleRawTransact).
func startServerRaw(t testing.TB, dir string, rawMin int) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	sockDir := t.TempDir()
	ts := &testServer{dir: dir, nb: filepath.Join(sockDir, "nb.sock"), sb: filepath.Join(sockDir, "sb.sock"), log: &logBuffer{}}
	logger := slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(Config{Dir: dir, NBRemotes: []string{"punix:" + ts.nb}, SBRemotes: []string{"punix:" + ts.sb}, Logger: logger})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.rawTransactMin.Store(int64(rawMin))
	ts.Server = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(ovsdbtest.DefaultTimeout):
				t.Errorf("Serve did not return after its context ended")
			}
		})
	}
	t.Cleanup(func() {
		ts.stop()
		// Tests here do not run in parallel, so once Serve has returned no
		// goroutine of any server may remain.
		if leaked := waitNoLeaks(5 * time.Second); leaked != "" {
			t.Errorf("goroutines left after Serve returned:\n%s", leaked)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.log.String())
		}
	})
	return ts
}

func (ts *testServer) dialNB(t testing.TB) *ovsdbtest.Client {
	t.Helper()
	return ovsdbtest.Dial(t, "unix", ts.nb)
}

// raw wraps a JSON literal for use as a request parameter.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// decode unmarshals JSON into a generic value, failing the test if it is
// not JSON.
func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return v
}

// checkJSON compares JSON texts by value: object member order and
// whitespace do not matter.
func checkJSON(t testing.TB, what string, got []byte, want string) {
	t.Helper()
	if diff := cmp.Diff(decode(t, []byte(want)), decode(t, got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s\ngot: %s", what, diff, got)
	}
}

// ok checks that a reply succeeded and returns its result.
func ok(t testing.TB, m ovsdbtest.Message) json.RawMessage {
	t.Helper()
	if tag := m.ErrorTag(); tag != "" {
		t.Fatalf("request failed: %s", m.Raw)
	}
	return m.Result
}

// failed checks that a reply is an error with the given tag.
func failed(t testing.TB, m ovsdbtest.Message, tag string) {
	t.Helper()
	if got := m.ErrorTag(); got != tag {
		t.Fatalf("want error %q, got reply %s", tag, m.Raw)
	}
	if len(m.Result) != 0 && string(m.Result) != "null" {
		t.Errorf("error reply has a result: %s", m.Raw)
	}
}

// transact runs ops (a JSON array text) on OVN_Northbound and returns the
// per-operation results, failing the test if any operation failed.
func transact(t testing.TB, c *ovsdbtest.Client, ops string) []map[string]any {
	t.Helper()
	res := transactAny(t, c, ops)
	for i, r := range res {
		if r != nil && r["error"] != nil {
			t.Fatalf("operation %d failed: %v (ops %s)", i, r, ops)
		}
	}
	return res
}

// transactAny runs ops and returns the per-operation results as they are.
func transactAny(t testing.TB, c *ovsdbtest.Client, ops string) []map[string]any {
	t.Helper()
	params := append([]any{nbName}, opsList(t, ops)...)
	m := c.Call("transact", params...)
	var res []map[string]any
	if err := json.Unmarshal(ok(t, m), &res); err != nil {
		t.Fatalf("transact result is not an array of objects: %s", m.Raw)
	}
	return res
}

func opsList(t testing.TB, ops string) []any {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(ops), &list); err != nil {
		t.Fatalf("bad ops in test: %v: %s", err, ops)
	}
	out := make([]any, len(list))
	for i, o := range list {
		out[i] = o
	}
	return out
}

// insertUUID returns the uuid of the row an insert result names.
func insertUUID(t testing.TB, r map[string]any) string {
	t.Helper()
	u, okk := r["uuid"].([]any)
	if !okk || len(u) != 2 || u[0] != "uuid" {
		t.Fatalf("insert result has no uuid: %v", r)
	}
	return u[1].(string)
}

// addSwitch inserts a Logical_Switch and returns its uuid.
func addSwitch(t testing.TB, c *ovsdbtest.Client, name string) string {
	t.Helper()
	res := transact(t, c, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":%q}}]`, name))
	return insertUUID(t, res[0])
}

// params decodes a notification's params as an array.
func params(t testing.TB, m ovsdbtest.Message) []json.RawMessage {
	t.Helper()
	var p []json.RawMessage
	if err := json.Unmarshal(m.Params, &p); err != nil {
		t.Fatalf("params are not an array: %s", m.Raw)
	}
	return p
}

func ovsdbtestDial(t testing.TB, sock string) *ovsdbtest.Client {
	t.Helper()
	return ovsdbtest.Dial(t, "unix", sock)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// serveInBackground runs srv until the returned stop is called (or the
// test ends) and checks that Serve returns.
func serveInBackground(t testing.TB, srv *Server) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(ovsdbtest.DefaultTimeout):
				t.Errorf("Serve did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// checkDBList checks a list_dbs result, in any order.
func checkDBList(t testing.TB, got []byte) {
	t.Helper()
	var names []string
	if err := json.Unmarshal(got, &names); err != nil {
		t.Fatalf("list_dbs result is not a list of names: %s", got)
	}
	sort.Strings(names)
	if diff := cmp.Diff([]string{"OVN_Northbound", "OVN_Southbound", "_Server"}, names); diff != "" {
		t.Errorf("list_dbs (-want +got):\n%s", diff)
	}
}

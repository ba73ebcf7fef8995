package sbreplica

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// fakeServer is a scripted OVSDB server: it answers get_schema with the
// SB schema and the monitor requests with a fixed reply, then sends the
// messages in after on the first connection ("close" closes it).
type fakeServer struct {
	t      *testing.T
	ln     net.Listener
	refuse map[string]bool // monitor methods answered with an error
	after  []string

	mu      sync.Mutex
	methods []string // monitor methods tried, in order
	since   []string // last-txn-id of each monitor_cond_since
	conns   int
	echoed  []string // results of the replies to our "echo" requests
	wg      sync.WaitGroup
	open    []net.Conn
}

const (
	fakeInitial = `{"Port_Group":{"` + u3 + `":{"initial":{"name":"pg","ports":["set",["a","b"]]}}}}`
	fakeV1      = `{"Port_Group":{"` + u3 + `":{"new":{"name":"pg","ports":["set",["a","b"]]}}}}`
	// fakeCondChange is the update2 of a monitor_cond_change.
	fakeCondChange = `{"Port_Group":{"` + u1 + `":{"insert":{"name":"more"}}}}`
	fakeTxn1       = "aaaaaaaa-0000-0000-0000-000000000001"
	fakeTxn2       = "aaaaaaaa-0000-0000-0000-000000000002"
)

func newFakeServer(t *testing.T, refuse map[string]bool, after ...string) *fakeServer {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "fake.sock"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{t: t, ln: ln, refuse: refuse, after: after}
	f.wg.Add(1)
	go f.routineAccept()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.open {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeServer) remote() string { return "unix:" + f.ln.Addr().String() }

func (f *fakeServer) routineAccept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns++
		first := f.conns == 1
		f.open = append(f.open, c)
		f.mu.Unlock()
		f.wg.Add(1)
		go f.routineServe(c, first)
	}
}

func (f *fakeServer) routineServe(c net.Conn, first bool) {
	defer f.wg.Done()
	defer c.Close()
	dec := json.NewDecoder(c)
	for {
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
			Result json.RawMessage   `json:"result"`
		}
		if err := dec.Decode(&req); err != nil {
			return
		}
		if string(req.ID) == `"fake-echo"` && req.Method == "" {
			f.mu.Lock()
			f.echoed = append(f.echoed, string(req.Result))
			f.mu.Unlock()
			continue
		}
		reply := func(result string) {
			fmt.Fprintf(c, `{"id":%s,"result":%s,"error":null}`, req.ID, result)
		}
		switch req.Method {
		case "get_schema":
			reply(string(ovnschema.Southbound))
			continue
		case "echo":
			reply("[]")
			continue
		}
		f.mu.Lock()
		f.methods = append(f.methods, req.Method)
		if req.Method == "monitor_cond_since" && len(req.Params) == 4 {
			var id string
			json.Unmarshal(req.Params[3], &id)
			f.since = append(f.since, id)
		}
		f.mu.Unlock()
		if f.refuse[req.Method] {
			fmt.Fprintf(c, `{"id":%s,"result":null,"error":{"error":"unknown method"}}`, req.ID)
			continue
		}
		switch req.Method {
		case "monitor_cond_since":
			reply(`[false,"` + fakeTxn1 + `",` + fakeInitial + `]`)
		case "monitor_cond":
			reply(fakeInitial)
		case "monitor":
			reply(fakeV1)
		case "monitor_cond_change":
			// The rows the wider condition adds, then the reply, as
			// ovsdb-server sends them.
			fmt.Fprintf(c, `{"id":null,"method":"update2","params":["%s",%s]}`, monitorID, fakeCondChange)
			reply("{}")
			continue
		default:
			continue
		}
		if !first {
			continue
		}
		for _, m := range f.after {
			if m == "close" {
				return
			}
			c.Write([]byte(m))
		}
	}
}

func (f *fakeServer) state() (conns int, methods, since []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns, append([]string(nil), f.methods...), append([]string(nil), f.since...)
}

func wantFakeRows(t *testing.T, r *Replica) {
	t.Helper()
	r.Read(func(v View) {
		want := map[string]model.Model{u3: &sbdb.PortGroup{UUID: u3, Name: "pg", Ports: []string{"a", "b"}}}
		if diff := cmp.Diff(want, v.Table("Port_Group"), cmpOpts...); diff != "" {
			t.Errorf("Port_Group (-want +got):\n%s", diff)
		}
	})
}

func update3(txn, updates string) string {
	return `{"id":null,"method":"update3","params":["` + monitorID + `","` + txn + `",` + updates + `]}`
}

// TestBadInputReconnects: a message that is not JSON, or an update that
// does not fit the schema or the replica, is logged and makes the
// replica reconnect and resync in full (it cannot trust its copy).
func TestBadInputReconnects(t *testing.T) {
	good := update3(fakeTxn2, `{"Port_Group":{"`+u1+`":{"insert":{"name":"x"}}}}`)
	for name, bad := range map[string]string{
		"malformed JSON": `{"id":null,"method":"update3","params":["sbreplica","x",{]}]}`,
		"bad literal":    `{"id":null,"method":"update3","params":[nul]}`,
		"unknown column": update3(fakeTxn2, `{"Port_Group":{"`+u3+`":{"modify":{"colour":"red"}}}}`),
		"wrong type":     update3(fakeTxn2, `{"Port_Group":{"`+u3+`":{"modify":{"name":["set",[1]]}}}}`),
		"unknown table":  update3(fakeTxn2, `{"Encap":{"`+u3+`":{"insert":{}}}}`),
		"unknown row":    update3(fakeTxn2, `{"Port_Group":{"`+u2+`":{"modify":{"name":"y"}}}}`),
		"bad params":     `{"id":null,"method":"update3","params":["sbreplica"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t, nil, good, bad)
			rec := &logRecorder{}
			r := newTestReplica(t, rec)
			runReplica(t, r, f.remote(), 0)
			waitFor(t, "a second connection", func() bool { n, _, _ := f.state(); return n >= 2 })
			waitFor(t, "connected", r.Connected)
			wantFakeRows(t, r)
			_, _, since := f.state()
			if want := []string{zeroUUID, zeroUUID}; !cmp.Equal(want, since[:2]) {
				t.Errorf("monitor_cond_since ids %v, want %v (a full resync after bad input)", since, want)
			}
			if rec.count("bad input") == 0 {
				t.Errorf("nothing logged:\n%s", rec)
			}
			t.Logf("log:\n%s", rec)
		})
	}
}

// TestResumeID: after a connection drops, the replica asks for the
// changes since the last transaction it applied.
func TestResumeID(t *testing.T) {
	good := update3(fakeTxn2, `{"Port_Group":{"`+u1+`":{"insert":{"name":"x"}}}}`)
	f := newFakeServer(t, nil, good, "close")
	r := newTestReplica(t, &logRecorder{})
	runReplica(t, r, f.remote(), 0)
	waitFor(t, "a second connection", func() bool { _, _, s := f.state(); return len(s) >= 2 })
	_, _, since := f.state()
	if want := []string{zeroUUID, fakeTxn2}; !cmp.Equal(want, since[:2]) {
		t.Errorf("monitor_cond_since ids %v, want %v", since, want)
	}
	waitFor(t, "connected", r.Connected)
	if c := r.TakeChanges(); !c.Full {
		t.Errorf("a reply with found=false did not rebuild in full: %+v", c)
	}
	wantFakeRows(t, r)
}

func TestMonitorFallback(t *testing.T) {
	for _, tc := range []struct {
		refuse []string
		want   []string
	}{
		{[]string{"monitor_cond_since"}, []string{"monitor_cond_since", "monitor_cond"}},
		{[]string{"monitor_cond_since", "monitor_cond"}, []string{"monitor_cond_since", "monitor_cond", "monitor"}},
	} {
		t.Run(strings.Join(tc.refuse, "+"), func(t *testing.T) {
			refuse := map[string]bool{}
			for _, m := range tc.refuse {
				refuse[m] = true
			}
			f := newFakeServer(t, refuse)
			rec := &logRecorder{}
			r := newTestReplica(t, rec)
			runReplica(t, r, f.remote(), 0)
			defer func() { _, m, _ := f.state(); t.Logf("methods %v log:\n%s", m, rec) }()
			waitFor(t, "connected", func() bool {
				if rec.count("bad input") > 0 {
					t.Fatalf("bad input:\n%s", rec)
				}
				return r.Connected()
			})
			wantFakeRows(t, r)
			if _, methods, _ := f.state(); !cmp.Equal(tc.want, methods) {
				t.Errorf("methods %v, want %v", methods, tc.want)
			}
		})
	}
}

// TestRunStops: Run returns ctx's error once ctx ends, connected or
// not, and leaves no goroutine behind.
func TestRunStops(t *testing.T) {
	f := newFakeServer(t, nil)
	for _, remote := range []string{f.remote(), "unix:" + filepath.Join(t.TempDir(), "nobody.sock"), "tcp:127.0.0.1:1"} {
		base := runtime.NumGoroutine()
		r := newTestReplica(t, &logRecorder{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx, remote, nil, time.Second, nil) }()
		if remote == f.remote() {
			waitFor(t, "connected", r.Connected)
		} else {
			time.Sleep(300 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("%s: Run returned %v", remote, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Run did not return after cancel", remote)
		}
		if r.Connected() {
			t.Errorf("%s: still connected after Run returned", remote)
		}
		waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
	}
}

// TestAnswersEcho: the server's echo requests get a reply that carries
// their id and params.
func TestAnswersEcho(t *testing.T) {
	f := newFakeServer(t, nil, `{"id":"fake-echo","method":"echo","params":["x",1]}`)
	r := newTestReplica(t, &logRecorder{})
	runReplica(t, r, f.remote(), 0)
	waitFor(t, "the echo reply", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.echoed) > 0
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.echoed[0] != `["x",1]` {
		t.Errorf("echo reply result %s, want [\"x\",1]", f.echoed[0])
	}
}

package embeddeddb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// rawSeeds are transact requests that exercise handleRawTransact's
// edges: escaped and repeated member names, members in any order,
// malformed operations, unknown databases, NULs and bad numbers.
var rawSeeds = []string{
	`{"params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"a"}}],"method":"transact","id":1}`,
	`{"id":2,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"a"}}],"params":["Nope"]}`,
	`{"id":3,"method":"transact","par\u0061ms":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"b"}}]}`,
	`{"id":4,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"c\u0000"}}]}`,
	`{"id":5,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p","tag_request":01}}]}`,
	`{"id":6,"method":"transact","params":["Nope",{"op":"select","table":"Logical_Switch","where":[]}]}`,
	`{"id":7,"method":"transact","params":["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[]},{"op":"bogus"},17,[]]}`,
	`{"id":8,"method":"transact","params":["OVN_Northbound"]}`,
	`{"id":9,"method":"transact","params":[]}`,
	`{"id":10,"method":"transact","params":"OVN_Northbound"}`,
	`{"id":null,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"n"}}]}`,
	`{"id":11,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"d"}}],"extra":1.5e300}`,
	`{"id":12,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"e"}}],"extra":-}`,
	`{"id":13,"method":"transact","params":["OVN_N\u006frthbound",{"op":"insert","table":"Logical_Switch","row":{"name":"f"}}]}`,
	`{"id":14,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"g"},"uuid-name":"x"},{"op":"mutate","table":"Logical_Switch","where":[["_uuid","==",["named-uuid","x"]]],"mutations":[["external_ids","insert",["map",[["k","v"]]]]]},{"op":"commit","durable":true},{"op":"comment","comment":"raw"}]}`,
	`{"id":[ "\u0041" , 1.50 ],"method":"transact","params":["OVN_Northbound",{"op":"select","table":"NB_Global","where":[]}]}`,
	`{"id":15,"method":"transact","params":["OVN_Northbound",{"op":"delete","table":"Logical_Switch","where":[["name","==","a"]]},{"op":"abort"}]}`,
}

// FuzzRawTransact sends the same messages to two servers, one taking
// every transact request apart as raw text and one parsing each whole,
// and requires that clients cannot tell them apart: the same bytes back
// and the connection closed after the same message.
func FuzzRawTransact(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	for _, s := range seedRequests {
		if strings.Contains(s, `"transact"`) && !strings.Contains(s, "_Server") {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte(rawSeeds[0] + rawSeeds[13] + rawSeeds[14] + rawSeeds[6]))
	parsed, raw, split := pairedServers(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		msgs := splitMessages(input, 8)
		if bytes.Contains(input, []byte("wait")) || bytes.Contains(input, []byte("_Server")) {
			// A blocked wait is answered by a goroutine, at a time
			// that differs between the servers (TestRawTransactWait),
			// and the servers' _Server rows have their own UUIDs.
			t.Skip("wait or _Server")
		}
		wantOut, wantEnd := runMessages(parsed, msgs)
		for _, run := range []struct {
			name string
			out  []byte
			end  int
		}{
			{"raw path", nil, 0},
			{"raw path through a Splitter", nil, 0},
		} {
			if run.name == "raw path" {
				run.out, run.end = runMessages(raw, msgs)
			} else {
				run.out, run.end = runSplit(split, msgs)
			}
			if run.end != wantEnd {
				t.Fatalf("%s closed the connection after message %d, parsed path after %d\ninput %q", run.name, run.end, wantEnd, input)
			}
			if g, w := replyIDs(run.out), replyIDs(wantOut); !slices.Equal(g, w) {
				t.Fatalf("%s: reply ids %q, parsed path %q\ninput %q", run.name, g, w, input)
			}
			if !sameReplies(t, run.out, wantOut) {
				t.Fatalf("%s: replies differ\nraw    %.2000s\nparsed %.2000s\ninput %q", run.name, run.out, wantOut, input)
			}
		}
	})
}

// pairedServers returns three servers in the same state with the same
// UUID sequence, the first parsing every request whole, the others
// taking every transact request apart (for runMessages and runSplit).
func pairedServers(tb testing.TB) (parsed, raw, split *Server) {
	var srvs [3]*Server
	for i := range srvs {
		srv, err := New(Config{Dir: tb.TempDir(), Logger: discardLogger()})
		if err != nil {
			tb.Fatal(err)
		}
		for name, d := range srv.dbs {
			d.mu.Lock()
			d.onCommit = nil // Connection rows open no listeners
			d.db.SeedUUIDs([32]byte{byte(len(name))})
			d.mu.Unlock()
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Serve(ctx); close(done) }()
		tb.Cleanup(func() { cancel(); <-done })
		srvs[i] = srv
	}
	srvs[0].rawTransactMin.Store(math.MaxInt64)
	for _, s := range srvs[1:] {
		s.rawTransactMin.Store(0)
		s.serverID = srvs[0].serverID
	}
	return srvs[0], srvs[1], srvs[2]
}

// splitMessages cuts input into at most n messages, as a connection's
// Splitter does: the messages before the first bytes that cannot be
// JSON, which never reach conn.handle.
func splitMessages(input []byte, n int) [][]byte {
	var msgs [][]byte
	for sp := newSplitter(bytes.NewReader(input)); len(msgs) < n; {
		m, err := sp.Next()
		if err != nil {
			break
		}
		msgs = append(msgs, append([]byte(nil), m...))
	}
	return msgs
}

// runMessages handles msgs in order on a new connection to srv and
// returns what the server sent and how many messages it handled before
// closing the connection (len(msgs) if it did not).
func runMessages(srv *Server, msgs [][]byte) ([]byte, int) {
	return runConn(srv, msgs, func(c *conn, i int) error { return c.handle(msgs[i]) })
}

// runSplit is runMessages with the messages read by the connection's
// Splitter, as a client's requests are, so that handleRawTransact
// splits them from the Splitter's notes.
func runSplit(srv *Server, msgs [][]byte) ([]byte, int) {
	sp := newSplitter(bytes.NewReader(bytes.Join(msgs, []byte("\n"))))
	return runConn(srv, msgs, func(c *conn, i int) error {
		c.split = sp
		m, err := sp.Next()
		if err != nil || !bytes.Equal(m, msgs[i]) {
			return fmt.Errorf("message %d read back as %q (%v)", i, m, err)
		}
		return c.handle(m)
	})
}

// runConn handles len(msgs) messages in order with handle on a new
// connection to srv, as runMessages.
func runConn(srv *Server, msgs [][]byte, handle func(c *conn, i int) error) ([]byte, int) {
	nc := &discardConn{}
	c := newConn(srv, nc, 0)
	end := len(msgs)
	for i := range msgs {
		if handle(c, i) != nil {
			end = i
			break
		}
	}
	c.mu.Lock()
	queued := bytes.Join(c.queue, nil)
	c.mu.Unlock()
	c.cleanup()
	nc.mu.Lock()
	out := append(append([]byte(nil), nc.out.Bytes()...), queued...)
	nc.mu.Unlock()
	return out, end
}

// TestRawTransactSeeds runs FuzzRawTransact's seeds one after another on
// one pair of servers, and checks that the seeds reach both outcomes.
func TestRawTransactSeeds(t *testing.T) {
	parsed, raw, split := pairedServers(t)
	closed := 0
	for _, s := range rawSeeds {
		msgs := [][]byte{[]byte(s)}
		wantOut, wantEnd := runMessages(parsed, msgs)
		gotOut, gotEnd := runMessages(raw, msgs)
		// A seed the Splitter refuses never reaches handle from a
		// client; it still goes to the third server, to keep the
		// servers alike.
		run := runMessages
		if len(splitMessages(msgs[0], 1)) == 1 {
			run = runSplit
		}
		splitOut, splitEnd := run(split, msgs)
		if g, w := replyIDs(gotOut), replyIDs(wantOut); !slices.Equal(g, w) {
			t.Errorf("%s: reply ids %q, parsed path %q", s, g, w)
		}
		if gotEnd != wantEnd || !sameReplies(t, gotOut, wantOut) {
			t.Errorf("%s\nraw    (end %d) %s\nparsed (end %d) %s", s, gotEnd, gotOut, wantEnd, wantOut)
		}
		if splitEnd != wantEnd || !sameReplies(t, splitOut, wantOut) {
			t.Errorf("%s\nraw through a Splitter (end %d) %s\nparsed (end %d) %s", s, splitEnd, splitOut, wantEnd, wantOut)
		}
		if wantEnd == 0 {
			closed++
		}
	}
	if closed == 0 || closed == len(rawSeeds) {
		t.Errorf("%d of %d seeds close the connection: want some, not all", closed, len(rawSeeds))
	}
}

// sameReplies compares two servers' output message by message, ignoring
// what differs between any two servers: the order of a select's rows
// (map order) and _version (a process-wide counter).
func sameReplies(t *testing.T, got, want []byte) bool {
	g, w := normalizedReplies(t, got), normalizedReplies(t, want)
	return slices.Equal(g, w)
}

func normalizedReplies(t *testing.T, out []byte) []string {
	var msgs []string
	sp := newSplitter(bytes.NewReader(out))
	for {
		m, err := sp.Next()
		if err == io.EOF {
			return msgs
		}
		if err != nil {
			return append(msgs, "unsplittable: "+string(out))
		}
		var v any
		if err := json.Unmarshal(m, &v); err != nil {
			// Bad input echoed back (TestInvalidNumbersRejected): as is.
			msgs = append(msgs, string(m))
			continue
		}
		b, err := json.Marshal(normalize(v))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, string(b))
	}
}

func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "_version")
		for k, e := range v {
			v[k] = normalize(e)
		}
		if rows, ok := v["rows"].([]any); ok {
			slices.SortFunc(rows, func(a, b any) int {
				x, _ := json.Marshal(a)
				y, _ := json.Marshal(b)
				return bytes.Compare(x, y)
			})
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	}
	return v
}

// TestRawTransactWait: a blocked transaction taken apart as raw text is
// run again, from its raw text, when a commit satisfies its wait, and
// one commit unblocks a chain of them.
func TestRawTransactWait(t *testing.T) {
	ts := startServerRaw(t, "", 0)
	a, b, w := ts.dialNB(t), ts.dialNB(t), ts.dialNB(t)
	idB := b.Send("transact", waitOps("y", 60000)...)
	idA := a.Send("transact", nbName,
		raw(`{"op":"wait","table":"Logical_Switch","timeout":60000,"where":[["name","==","x"]],"columns":["name"],"until":"==","rows":[{"name":"x"}]}`),
		raw(`{"op":"insert","table":"Logical_Switch","row":{"name":"y"}}`))
	a.ExpectNone(quiet)
	addSwitch(t, w, "x")
	if r := ok(t, a.Reply(idA)); !strings.HasPrefix(string(r), `[{},{"uuid":["uuid","`) {
		t.Errorf("first waiter: want [{},{\"uuid\":...}], got %s", r)
	}
	checkJSON(t, "second waiter", ok(t, b.Reply(idB)), `[{},{"count":1}]`)
	checkJSON(t, "switches", sortRows(t, mustMarshal(t, transact(t, w,
		`[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`))),
		`[{"rows":[{"name":"x"},{"name":"y-seen"}]}]`)
	m := w.Call("transact", waitOps("never", 100)...)
	if !strings.Contains(string(m.Result), `"timed out"`) {
		t.Errorf("raw wait with a 100 ms timeout: %s", m.Raw)
	}
}

// replyIDs returns the id of each reply in out as the server wrote it.
func replyIDs(out []byte) []string {
	var ids []string
	for _, m := range bytes.SplitAfter(out, []byte(`,"error":null}`)) {
		if rest, ok := bytes.CutPrefix(m, []byte(`{"id":`)); ok {
			if i := bytes.Index(rest, []byte(`,"result":`)); i >= 0 {
				ids = append(ids, string(rest[:i]))
			}
		}
	}
	return ids
}

package embeddeddb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
	"github.com/ovnd/ovnd/ovnschema"
	"golang.org/x/sys/unix"
)

// loopServed reports how many of the server's clients an event loop
// serves, and how many there are.
func loopServed(s *Server) (byLoop, all int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.mu.Lock()
		if c.ev != nil {
			byLoop++
		}
		c.mu.Unlock()
		all++
	}
	return byLoop, all
}

// TestEventLoopServesUnixAndTCP: unix and TCP clients are served by the
// event loop on Linux, and the usual requests work through it.
func TestEventLoopServesUnixAndTCP(t *testing.T) {
	ts := startServer(t, "")
	admin := ts.dialNB(t)
	addr := freeTCPAddr(t)
	addConnection(t, admin, fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port), 60000)
	waitListening(t, addr.String(), true)
	tcp := ovsdbtest.Dial(t, "tcp", addr.String())
	checkDBList(t, ok(t, tcp.Call("list_dbs")))
	addSwitch(t, tcp, "over-tcp")
	if byLoop, all := loopServed(ts.Server); byLoop != all || all < 2 {
		t.Errorf("%d of %d clients served by the event loop, want all (at least 2)", byLoop, all)
	}
}

// TestRequestSplitAcrossReads: a request that arrives a few bytes at a
// time, cut inside strings, escapes and multi-byte characters, is
// handled once whole, and only then.
func TestRequestSplitAcrossReads(t *testing.T) {
	ts := startServer(t, "")
	nc, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := []byte(`{"id":"split \"one\"","method":"transact","params":["OVN_Northbound",` +
		`{"op":"insert","table":"Logical_Switch","row":{"name":"sw-é\u00e9-[{]}","external_ids":["map",[["k","v\\"]]]}}]}`)
	c := ovsdbtest.New(t, nc)
	for i := 0; i < len(req); i += 3 {
		if _, err := nc.Write(req[i:min(i+3, len(req))]); err != nil {
			t.Fatal(err)
		}
		if i+3 < len(req) {
			// Nothing is answered before the request is whole.
			if m, err := c.Next(time.Millisecond); err == nil {
				t.Fatalf("reply before the request was complete: %s", m.Raw)
			}
		}
	}
	m := c.Reply(json.RawMessage(`"split \"one\""`))
	ok(t, m)
	rows := transact(t, ts.dialNB(t), `[{"op":"select","table":"Logical_Switch","where":[],"columns":["name","external_ids"]}]`)
	checkJSON(t, "row", mustMarshal(t, rows[0]["rows"]), `[{"name":"sw-éé-[{]}","external_ids":["map",[["k","v\\"]]]}]`)
}

// TestManyRequestsInOneRead: requests that arrive together are all
// handled, in order, and answered in order.
func TestManyRequestsInOneRead(t *testing.T) {
	ts := startServer(t, "")
	nc, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var batch bytes.Buffer
	const n = 200
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&batch, `{"id":%d,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"b%d"}}]}`, i, i)
		case 1:
			fmt.Fprintf(&batch, ` {"id":%d,"method":"echo","params":[%d]}`+"\n", i, i)
		default:
			fmt.Fprintf(&batch, `{"id":%d,"method":"transact","params":["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[["name","==","b%d"]],"columns":["name"]}]}`, i, i-2)
		}
	}
	if _, err := nc.Write(batch.Bytes()); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	sp := newSplitter(nc)
	for i := range n {
		msg, err := sp.Next()
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		var r struct {
			ID     int
			Result json.RawMessage
		}
		if err := json.Unmarshal(msg, &r); err != nil || r.ID != i {
			t.Fatalf("reply %d out of order or malformed (%v): %s", i, err, msg)
		}
		if i%3 == 2 && !bytes.Contains(r.Result, fmt.Appendf(nil, `"name":"b%d"`, i-2)) {
			t.Errorf("select %d does not see the insert sent just before it: %s", i, r.Result)
		}
	}
}

// TestPeerClosesMidRequest: a client that ends its side of the socket
// halfway through a request has the whole requests before it handled and
// answered, the half one dropped, and the disconnect logged as routine.
func TestPeerClosesMidRequest(t *testing.T) {
	ts := startServer(t, "")
	nc, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	whole := `{"id":1,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"whole"}}]}`
	half := `{"id":2,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"half"}}`
	if _, err := nc.Write([]byte(whole + half)); err != nil {
		t.Fatal(err)
	}
	nc.(*net.UnixConn).CloseWrite()
	nc.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	out, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("connection not closed after the peer's half request: %v", err)
	}
	if !bytes.Contains(out, []byte(`"id":1,`)) || bytes.Contains(out, []byte(`"id":2,`)) {
		t.Errorf("got %s, want the reply to request 1 only", out)
	}
	rows := transact(t, ts.dialNB(t), `[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)
	checkJSON(t, "rows", mustMarshal(t, rows[0]["rows"]), `[{"name":"whole"}]`)
	ts.log.waitFor(t, "connection closed")
	if s := ts.log.String(); strings.Contains(s, "level=WARN") || strings.Contains(s, "level=ERROR") {
		t.Errorf("a routine disconnect logged as a problem:\n%s", s)
	}
}

// TestLargeUpdateToSlowReader: an update far larger than the socket
// holds goes out in pieces as a slow reader drains it (the write meets
// EAGAIN and waits for writability), other clients are answered
// meanwhile, and once the queue is empty the loop stops watching the
// socket for writability.
func TestLargeUpdateToSlowReader(t *testing.T) {
	ts := startServer(t, "")
	slow, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte(`{"id":1,"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"columns":["name","external_ids"]}]}]}`)); err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	sp := newSplitter(slow)
	if _, err := sp.Next(); err != nil { // the monitor's reply
		t.Fatal(err)
	}
	writer, other := ts.dialNB(t), ts.dialNB(t)
	pad := strings.Repeat("q", 4<<20)
	transact(t, writer, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"big","external_ids":["map",[["pad",%q]]]}}]`, pad))
	if queued := slowQueue(ts.Server); queued == 0 {
		t.Fatal("a 4 MiB update fit in the socket: nothing exercised the queue")
	}
	for i := range 20 {
		ok(t, other.Call("echo", i))
	}
	// Drain a little at a time.
	slow.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	var got []byte
	buf := make([]byte, 64<<10)
	for !bytes.HasSuffix(got, []byte("]}")) || len(got) < len(pad) {
		n, err := slow.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes of the update: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
		time.Sleep(100 * time.Microsecond)
	}
	var u struct {
		Method string
		Params []json.RawMessage
	}
	if err := json.Unmarshal(got, &u); err != nil || u.Method != "update2" || !bytes.Contains(u.Params[1], []byte(pad)) {
		t.Fatalf("update not whole (%v): %.200s", err, got)
	}
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for armedClients(ts.Server) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop still watches a drained socket for writability")
		}
		time.Sleep(time.Millisecond)
	}
}

// slowQueue returns the bytes queued for the server's clients.
func slowQueue(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.mu.Lock()
		n += c.backlog
		c.mu.Unlock()
	}
	return n
}

func armedClients(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.mu.Lock()
		if e, ok := c.ev.(*evConn); ok && (e.armed || e.mask&0x4 != 0) { // EPOLLOUT
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// TestDurableCommitThenPipelinedRequest: a durable commit's reply comes
// once it is on disk, before the reply to the request the client sent
// right behind it, which sees the commit; another client is served as
// well.
func TestDurableCommitThenPipelinedRequest(t *testing.T) {
	ts := startServer(t, "")
	nc, err := net.Dial("unix", ts.nb)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	other := ts.dialNB(t)
	for round := range 20 {
		durable := fmt.Sprintf(`{"id":%d,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"d%d"}},{"op":"commit","durable":true}]}`, 2*round, round)
		next := fmt.Sprintf(`{"id":%d,"method":"transact","params":["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[["name","==","d%d"]],"columns":["name"]}]}`, 2*round+1, round)
		// Even rounds: both requests in one read. Odd rounds: the second
		// most likely arrives while the flush is pending.
		writes := []string{durable + next}
		if round%2 == 1 {
			writes = []string{durable, next}
		}
		for _, w := range writes {
			if _, err := nc.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		ok(t, other.Call("echo", round))
		nc.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
		sp := newSplitter(nc)
		for i := range 2 {
			msg, err := sp.Next()
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				ID     int
				Result json.RawMessage
			}
			if err := json.Unmarshal(msg, &r); err != nil || r.ID != 2*round+i {
				t.Fatalf("round %d: reply %s, want id %d", round, msg, 2*round+i)
			}
			if i == 1 && !bytes.Contains(r.Result, fmt.Appendf(nil, `"d%d"`, round)) {
				t.Fatalf("round %d: the request after a durable commit does not see it: %s", round, r.Result)
			}
		}
	}
}

// TestConcurrentDurableCommitsShareFsyncs: clients that commit durably
// at the same time are answered after one fsync per group of commits
// (not one each), every acknowledged commit survives a restart, and each
// client's replies come in order.
func TestConcurrentDurableCommitsShareFsyncs(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	const clients, each = 8, 25
	before := ts.dbs[nbName].file.Stats().Syncs
	errs := make(chan error, clients)
	for k := range clients {
		nc, err := net.Dial("unix", ts.nb)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		go func() { errs <- durableInserts(nc, k, each) }()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	syncs := ts.dbs[nbName].file.Stats().Syncs - before
	t.Logf("%d durable commits from %d clients, %d fsyncs", clients*each, clients, syncs)
	if syncs == 0 || syncs >= clients*each {
		t.Errorf("%d fsyncs for %d concurrent durable commits: want at least one, and fewer than one each", syncs, clients*each)
	}
	ts.stop()
	ts2 := startServer(t, dir)
	res := transact(t, ts2.dialNB(t), `[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)
	if rows := res[0]["rows"].([]any); len(rows) != clients*each {
		t.Fatalf("%d switches after restart, want %d", len(rows), clients*each)
	}
}

// durableInserts makes n durable inserts, one at a time, as client k.
func durableInserts(nc net.Conn, k, n int) error {
	sp := newSplitter(nc)
	for i := range n {
		req := fmt.Sprintf(`{"id":%d,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"c%d-%d"}},{"op":"commit","durable":true}]}`, i, k, i)
		if _, err := nc.Write([]byte(req)); err != nil {
			return err
		}
		nc.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
		msg, err := sp.Next()
		if err != nil {
			return fmt.Errorf("client %d, commit %d: %w", k, i, err)
		}
		var r struct {
			ID     int
			Result []map[string]any
			Error  any
		}
		if err := json.Unmarshal(msg, &r); err != nil || r.ID != i || r.Error != nil || len(r.Result) != 2 || r.Result[0]["error"] != nil {
			return fmt.Errorf("client %d, commit %d: reply %s", k, i, msg)
		}
	}
	return nil
}

// TestRawSocketIO: the loop's raw read and writev on a non-blocking
// socket report an empty socket as EAGAIN (never blocking), deliver the
// bytes written, skip empty parts, report a full socket as EAGAIN and
// the peer's close as io.EOF.
func TestRawSocketIO(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(a)
	buf := make([]byte, 64)
	if n, err := (fdReader(a)).Read(buf); n != 0 || !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("read of an empty socket = %d, %v; want 0, EAGAIN", n, err)
	}
	if n, err := rawRead(a, nil); n != 0 || err != nil {
		t.Fatalf("read into nothing = %d, %v; want 0, nil", n, err)
	}
	n, err := writev(uintptr(b), [][]byte{[]byte("ab"), nil, []byte("c"), {}, []byte("de")})
	if n != 5 || err != nil {
		t.Fatalf("writev = %d, %v; want 5, nil", n, err)
	}
	if n, err := (fdReader(a)).Read(buf); n != 5 || err != nil || string(buf[:n]) != "abcde" {
		t.Fatalf("read = %d %q, %v; want 5 \"abcde\", nil", n, buf[:n], err)
	}
	// Fill b's send space until the socket refuses more.
	chunk := [][]byte{bytes.Repeat([]byte("x"), 64<<10)}
	total, full := 0, false
	for range 10000 {
		n, err := writev(uintptr(b), chunk)
		if errors.Is(err, unix.EAGAIN) {
			full = true
			break
		}
		if err != nil {
			t.Fatalf("writev after %d bytes: %v", total, err)
		}
		total += n
	}
	if !full {
		t.Fatalf("a socket that is never read took %d bytes without EAGAIN", total)
	}
	got := 0
	for got < total {
		n, err := (fdReader(a)).Read(make([]byte, 64<<10))
		if err != nil {
			t.Fatalf("read after %d of %d bytes: %v", got, total, err)
		}
		got += n
	}
	unix.Close(b)
	if n, err := (fdReader(a)).Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed = %d, %v; want 0, io.EOF", n, err)
	}
}

// TestLoopWritesQuietRecords: the event loop appends its clients'
// non-durable records without waking the file's writer goroutine, and
// writes them itself within about ovsdbfile.Linger, with no further
// request to wake it; records from several iterations share writes.
func TestLoopWritesQuietRecords(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	for i := range 20 {
		addSwitch(t, c, fmt.Sprintf("quiet-%d", i))
	}
	f := ts.dbs[ovnschema.NorthboundName].file
	path := filepath.Join(ts.dir, NBFile)
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"quiet-19"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last non-durable commit is not in the file after %v (log stats %+v)", ovsdbtest.DefaultTimeout, f.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	if byLoop, all := loopServed(ts.Server); byLoop != all {
		t.Fatalf("%d of %d clients served by the event loop", byLoop, all)
	}
	if s := f.Stats(); s.Records < 20 || s.Writes > s.Records {
		t.Errorf("log stats %+v: want at least 20 records in at most as many writes", s)
	}
}

// TestPartialSendsKeepUpdatesWhole: an update that one client's socket
// takes only in part is finished later from the shared parts, while the
// same commit goes on to another client whose message differs (another
// monitor id); both get every update whole, in commit order. The updates
// are small enough to be joined into one buffer for their send (under
// maxJoined) and, in all, far more than the lagging socket holds.
func TestPartialSendsKeepUpdatesWhole(t *testing.T) {
	ts := startServer(t, "")
	ids := []string{`"lag"`, `"a-much-longer-monitor-id-for-the-reader"`}
	var socks []net.Conn
	for _, id := range ids {
		c, err := net.Dial("unix", ts.nb)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := `{"id":1,"method":"monitor_cond","params":["OVN_Northbound",` + id + `,{"Logical_Switch":[{"columns":["name","external_ids"]}]}]}`
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		socks = append(socks, c)
	}
	const commits = 400 // of about 3 KB: 1.2 MB
	// The reader reads as updates come; the other reads once all are sent.
	readerDone := make(chan error, 1)
	go func() { readerDone <- readUpdates(socks[1], ids[1], commits) }()
	writer := ts.dialNB(t)
	for n := range commits {
		transact(t, writer, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d","external_ids":["map",[["pad",%q]]]}}]`, n, updatePad(n)))
	}
	if queued := slowQueue(ts.Server); queued == 0 {
		t.Error("the lagging client's socket took every update: nothing was cut")
	}
	if err := readUpdates(socks[0], ids[0], commits); err != nil {
		t.Errorf("lagging client: %v", err)
	}
	if err := <-readerDone; err != nil {
		t.Errorf("reading client: %v", err)
	}
}

// updatePad is the k-th update's pad: different in every commit, so
// that a cut-off message finished with another one's bytes shows.
func updatePad(k int) string {
	return fmt.Sprintf("%d-", k) + strings.Repeat(string(rune('a'+k%26)), 3000)
}

// readUpdates reads a monitor's reply and then n update2 notifications
// for monitor id, the k-th inserting switch "swk" with updatePad(k).
func readUpdates(c net.Conn, id string, n int) error {
	c.SetReadDeadline(time.Now().Add(ovsdbtest.DefaultTimeout))
	sp := newSplitter(c)
	if _, err := sp.Next(); err != nil {
		return fmt.Errorf("monitor reply: %w", err)
	}
	for k := range n {
		msg, err := sp.Next()
		if err != nil {
			return fmt.Errorf("update %d: %w", k, err)
		}
		var u struct {
			Method string
			Params []json.RawMessage
		}
		if err := json.Unmarshal(msg, &u); err != nil || u.Method != "update2" || len(u.Params) != 2 {
			return fmt.Errorf("update %d: not an update2 (%v): %.200s", k, err, msg)
		}
		if string(u.Params[0]) != id {
			return fmt.Errorf("update %d: monitor id %s, want %s", k, u.Params[0], id)
		}
		var rows map[string]map[string]struct {
			Insert struct {
				Name        string
				ExternalIDs []any `json:"external_ids"`
			}
		}
		if err := json.Unmarshal(u.Params[1], &rows); err != nil || len(rows["Logical_Switch"]) != 1 {
			return fmt.Errorf("update %d: %d rows (%v), want 1", k, len(rows["Logical_Switch"]), err)
		}
		pad := updatePad(k)
		for _, r := range rows["Logical_Switch"] {
			if want := fmt.Sprintf("sw%d", k); r.Insert.Name != want || !strings.Contains(fmt.Sprint(r.Insert.ExternalIDs), pad) {
				return fmt.Errorf("update %d: row %q (pad intact: %v), want %q", k, r.Insert.Name,
					strings.Contains(fmt.Sprint(r.Insert.ExternalIDs), pad), want)
			}
		}
	}
	return nil
}

package embeddeddb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

// bulkSwitches returns the operations of one transaction inserting n
// switches named prefix0, prefix1, ...
func bulkSwitches(prefix string, n int) []any {
	ops := make([]any, n)
	for i := range ops {
		ops[i] = json.RawMessage(fmt.Sprintf(`{"op":"insert","table":"Logical_Switch","row":{"name":"%s%d"}}`, prefix, i))
	}
	return ops
}

// holdRecords makes the server's NB database stop every large commit's
// record before it is encoded until the returned release is called
// (safe to call twice; the test's end calls it too).
func holdRecords(t *testing.T, ts *testServer) (release func()) {
	d := ts.dbs[nbName]
	gate := make(chan struct{})
	d.mu.Lock()
	d.beforeRecord = func() { <-gate }
	d.mu.Unlock()
	done := false
	release = func() {
		if !done {
			done = true
			close(gate)
		}
	}
	t.Cleanup(release)
	return release
}

// TestLargeCommitRepliesBeforeRecord: the reply to a large non-durable
// commit does not wait for its record, nor does a small non-durable
// commit after it, but the next durable commit does, and the file holds
// the records in commit order; a restart finds every row.
func TestLargeCommitRepliesBeforeRecord(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	release := holdRecords(t, ts)
	c := ts.dialNB(t)
	n := asyncRecordMin + 10
	m := c.Call("transact", append([]any{nbName}, bulkSwitches("bulk", n)...)...)
	ok(t, m) // answered while its record is held back
	file := filepath.Join(dir, NBFile)
	if data := readFile(t, file); bytes.Contains(data, []byte(`"bulk0"`)) {
		t.Fatalf("the held record is in the file already")
	}

	// A small commit is answered meanwhile; its record queues after.
	ok(t, c.Call("transact", nbName, raw(`{"op":"insert","table":"Logical_Switch","row":{"name":"small"}}`)))

	// A durable commit after it waits for the held record: the file must
	// hold the bulk before the durable reply may go.
	id := c.Send("transact", nbName, raw(`{"op":"insert","table":"Logical_Switch","row":{"name":"after"}}`),
		raw(`{"op":"commit","durable":true}`))
	if got, err := c.Next(200 * time.Millisecond); err == nil {
		t.Fatalf("durable commit answered while the record before it was held: %s", got.Raw)
	}
	release()
	ok(t, c.Reply(id))
	data := readFile(t, file)
	bulkAt, smallAt, afterAt := bytes.Index(data, []byte(`"bulk0"`)), bytes.Index(data, []byte(`"small"`)), bytes.Index(data, []byte(`"after"`))
	if bulkAt < 0 || smallAt < bulkAt || afterAt < smallAt {
		t.Fatalf("file after the durable reply: bulk record at %d, small at %d, durable at %d; want all three in that order", bulkAt, smallAt, afterAt)
	}

	c.Close()
	ts.stop()
	ts2 := startServer(t, dir)
	if got := countSwitches(t, ts2.dialNB(t)); got != n+2 {
		t.Fatalf("after restart: %d switches, want %d", got, n+2)
	}
}

// TestLargeTransactionLogged: a transaction of largeTxnOps operations
// or more leaves an info line with its size and timing; a smaller one
// none.
func TestLargeTransactionLogged(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	ok(t, c.Call("transact", append([]any{nbName}, bulkSwitches("small", largeTxnOps-1)...)...))
	ok(t, c.Call("transact", append([]any{nbName}, bulkSwitches("s", largeTxnOps)...)...))
	ts.log.waitFor(t, `msg="large transaction"`)
	line := ts.log.String()[strings.Index(ts.log.String(), `msg="large transaction"`):]
	line = line[:strings.IndexByte(line, '\n')]
	for _, want := range []string{fmt.Sprintf("db=OVN_Northbound ops=%d bytes=", largeTxnOps), "committed=true", "durable=false", "execute=", "commit_and_reply="} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %s: %s", want, line)
		}
	}
	if n := strings.Count(ts.log.String(), `msg="large transaction"`); n != 1 {
		t.Errorf("%d large transaction lines, want 1 (the smaller one has none)", n)
	}
}

// TestLargeCommitRecordAtShutdown: a large non-durable commit whose
// record is still being encoded when the server stops is on disk after
// the stop, as every committed transaction must be.
func TestLargeCommitRecordAtShutdown(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	release := holdRecords(t, ts)
	c := ts.dialNB(t)
	n := asyncRecordMin + 1
	ok(t, c.Call("transact", append([]any{nbName}, bulkSwitches("s", n)...)...))
	c.Close()
	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("the server stopped without the held record")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	<-stopped
	ts2 := startServer(t, dir)
	if got := countSwitches(t, ts2.dialNB(t)); got != n {
		t.Fatalf("after restart: %d switches, want %d", got, n)
	}
}

// TestLargeCommitsInOrder: large commits in a row, each modifying the
// rows the one before inserted, with a compaction started while a
// record is still held, replay from the file to the same rows: the
// records are queued in commit order and the compaction's snapshot
// covers the held one.
func TestLargeCommitsInOrder(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	c := ts.dialNB(t)
	n := asyncRecordMin
	ok(t, c.Call("transact", append([]any{nbName}, bulkSwitches("r", n)...)...))
	for round := 1; round <= 3; round++ {
		var release func()
		if round == 2 {
			release = holdRecords(t, ts)
		}
		ok(t, c.Call("transact", nbName, raw(fmt.Sprintf(
			`{"op":"update","table":"Logical_Switch","where":[],"row":{"external_ids":["map",[["round","%d"]]]}}`, round))))
		if round == 2 {
			d := ts.dbs[nbName]
			started := make(chan struct{})
			go func() { ts.compact(d); close(started) }()
			select {
			case <-started:
				t.Fatal("compaction took its snapshot while a record was held")
			case <-time.After(100 * time.Millisecond):
			}
			release()
			<-started
			waitCompacted(t, ts)
		}
	}
	sel := raw(`{"op":"select","table":"Logical_Switch","where":[["external_ids","includes",["map",[["round","3"]]]]],"columns":["name"]}`)
	want := ok(t, c.Call("transact", nbName, sel))
	if got := len(sortedNames(t, want)); got != n {
		t.Fatalf("%d rows in round 3, want %d", got, n)
	}
	c.Close()
	ts.stop()
	ts2 := startServer(t, dir)
	got := ok(t, ts2.dialNB(t).Call("transact", nbName, sel))
	if g, w := sortedNames(t, got), sortedNames(t, want); !slices.Equal(g, w) {
		t.Fatalf("after restart %d rows in round 3, before %d", len(g), len(w))
	}
}

// sortedNames returns the names a one-select transact result holds, sorted.
func sortedNames(t *testing.T, res json.RawMessage) []string {
	t.Helper()
	var out []struct {
		Rows []struct {
			Name string `json:"name"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res, &out); err != nil || len(out) != 1 {
		t.Fatalf("select result %.200s: %v", res, err)
	}
	var names []string
	for _, r := range out[0].Rows {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// waitCompacted waits until the NB file's compaction has ended.
func waitCompacted(t *testing.T, ts *testServer) {
	t.Helper()
	d := ts.dbs[nbName]
	deadline := time.Now().Add(ovsdbtest.DefaultTimeout)
	for {
		d.mu.Lock()
		busy := d.compacting
		d.mu.Unlock()
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("compaction did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := d.file.Stats(); st.Compactions == 0 {
		t.Fatalf("no compaction completed: %+v", st)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func countSwitches(t *testing.T, c *ovsdbtest.Client) int {
	t.Helper()
	res := transact(t, c, `[{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`)
	rows, _ := res[0]["rows"].([]any)
	return len(rows)
}

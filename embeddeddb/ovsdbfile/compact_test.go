package ovsdbfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// snap is a test snapshot covering records 1 to n.
func snap(n uint64) []byte { return fmt.Appendf(nil, `{"upto":%d}`, n) }

func TestCompact(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	appendWait(t, l, true, recs(1, 10)...)
	if err := l.Compact(snap(10), 10); err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, recs(11, 12)...)
	l.Close()
	checkRecords(t, reopen(t, path), append([][]byte{snap(10)}, recs(11, 12)...))
}

// TestCompactOlderSnapshot compacts with snapshots that leave records
// already in the file behind them, which must be copied from the old file,
// also after an earlier compaction moved the anchor.
func TestCompactOlderSnapshot(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	appendWait(t, l, true, recs(1, 20)...)
	if err := l.Compact(snap(5), 5); err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, false, recs(21, 30)...)
	if err := l.Compact(snap(17), 17); err != nil {
		t.Fatal(err)
	}
	if err := l.Compact(snap(3), 3); !errors.Is(err, ErrStaleSnapshot) {
		t.Fatalf("Compact with a stale snapshot: %v", err)
	}
	if err := l.Compact(snap(17), 17); err != nil {
		t.Fatalf("Compact with the same snapshot again: %v", err)
	}
	appendWait(t, l, true, rec(31))
	if got := l.Stats().FileRecords; got != 15 {
		t.Errorf("FileRecords = %d, want 15", got)
	}
	l.Close()
	checkRecords(t, reopen(t, path), append([][]byte{snap(17)}, recs(18, 31)...))
}

func TestCompactEmptySnapshotSeq(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	if err := l.Compact([]byte(`{}`), 0); err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, rec(1))
	l.Close()
	checkRecords(t, reopen(t, path), [][]byte{[]byte(`{}`), rec(1)})
}

func TestCompactRejects(t *testing.T) {
	l := mustCreate(t, dbPath(t))
	if err := l.Compact([]byte(`not json`), 0); err == nil {
		t.Error("Compact accepted a snapshot that is not JSON")
	}
	if err := l.Compact(snap(5), 5); err == nil {
		t.Error("Compact accepted a snapshot of records never appended")
	}
	l.Close()
	if err := l.Compact(snap(0), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Compact after Close: %v, want ErrClosed", err)
	}
}

func TestConvert(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	appendWait(t, l, true, recs(1, 3)...)
	newSchema := []byte(`{"name":"T","version":"2.0.0","tables":{"T":{"columns":{"m":{"type":"string"}}}}}`)
	if err := l.Convert(newSchema, snap(2), 2); err == nil {
		t.Fatal("Convert succeeded with records after the snapshot")
	}
	if err := l.Convert(newSchema, snap(3), 3); err != nil {
		t.Fatal(err)
	}
	if string(l.Schema()) != string(newSchema) {
		t.Errorf("Schema() = %s", l.Schema())
	}
	appendWait(t, l, true, rec(4))
	l.Close()
	l, schema, records, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if string(schema) != string(newSchema) {
		t.Errorf("schema after Convert = %s", schema)
	}
	checkRecords(t, records, [][]byte{snap(3), rec(4)})
}

// TestCompactWhileAppending runs compactions while several goroutines
// append; the result must hold every record, in order, exactly once.
func TestCompactWhileAppending(t *testing.T) {
	const writers, each, compactions = 4, 300, 20
	path := dbPath(t)
	l := mustCreate(t, path)
	var mu sync.Mutex // the caller's commit lock: record n has seq n
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				mu.Lock()
				seq := l.Append(rec(int(l.LastSeq()+1)), true)
				mu.Unlock()
				if err := l.Wait(context.Background(), seq); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range compactions {
		mu.Lock()
		seq := l.LastSeq()
		mu.Unlock()
		if err := l.Compact(snap(seq), seq); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	t.Logf("stats: %+v", l.Stats())
	l.Close()
	checkSnapshotPrefix(t, reopen(t, path), writers*each, writers*each)
}

// checkSnapshotPrefix checks that records are an optional snapshot covering
// 1..u followed by records u+1..m, with atLeast <= m <= atMost.
func checkSnapshotPrefix(t testing.TB, records [][]byte, atLeast, atMost int) int {
	t.Helper()
	next := 1
	if len(records) > 0 {
		var u int
		if _, err := fmt.Sscanf(string(records[0]), `{"upto":%d}`, &u); err == nil {
			next, records = u+1, records[1:]
		}
	}
	for _, r := range records {
		if string(r) != string(rec(next)) {
			t.Fatalf("record %q where %q was due", r, rec(next))
		}
		next++
	}
	if m := next - 1; m < atLeast || m > atMost {
		t.Fatalf("file holds records up to %d, want %d to %d", m, atLeast, atMost)
	}
	return next - 1
}

func TestNeedsCompaction(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	defer l.Close()
	start := time.Now()
	later := start.Add(CompactMinInterval + time.Second)
	big := fmt.Appendf(nil, `{"pad":"%0*d"}`, 64<<10, 0)
	for i := 0; !l.NeedsCompaction(later); i++ {
		if i > 2*CompactMinSize/len(big)+CompactMinRecords {
			t.Fatalf("no compaction needed after %d records, %d bytes", i, l.Stats().Size)
		}
		appendWait(t, l, false, big)
	}
	s := l.Stats()
	if s.Size < CompactMinSize || s.FileRecords < CompactMinRecords {
		t.Fatalf("NeedsCompaction at %+v", s)
	}
	if l.NeedsCompaction(start) {
		t.Fatal("NeedsCompaction before CompactMinInterval passed")
	}
	seq := l.LastSeq()
	if err := l.Compact([]byte(`{"pad":"`+strconv.Itoa(int(seq))+`"}`), seq); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != l.Stats().Size {
		t.Fatalf("file size %d, Stats().Size %d", st.Size(), l.Stats().Size)
	}
	afterCompact := time.Now()
	if l.NeedsCompaction(afterCompact.Add(CompactMaxInterval + time.Second)) {
		t.Fatal("NeedsCompaction with fewer than CompactMinRecords records")
	}
	for range CompactMinRecords - 1 {
		l.Append(rec(1), false)
	}
	appendWait(t, l, true, rec(1))
	if l.NeedsCompaction(afterCompact.Add(CompactMinInterval + time.Second)) {
		t.Fatal("NeedsCompaction for a small file before CompactMaxInterval")
	}
	if !l.NeedsCompaction(afterCompact.Add(CompactMaxInterval + time.Second)) {
		t.Fatal("no NeedsCompaction after CompactMaxInterval")
	}
}

package database

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestFinishReplayReleasesRecord: once a file is replayed, the database
// no longer holds memory the size of its largest record (the parser's
// copy of it and its parsed values), and replaying more records still
// works.
func TestFinishReplayReleasesRecord(t *testing.T) {
	db := newNB(t)
	var rec strings.Builder
	rec.WriteString(`{"Logical_Switch":{`)
	const n = 20000
	for i := range n {
		if i > 0 {
			rec.WriteByte(',')
		}
		fmt.Fprintf(&rec, `"%08x-0000-4000-8000-000000000000":{"name":"sw%d"}`, i, i)
	}
	rec.WriteString(`}}`)
	size := rec.Len()
	if err := db.ApplyRecord([]byte(rec.String())); err != nil {
		t.Fatal(err)
	}
	rec.Reset()
	before := liveHeap()
	db.FinishReplay()
	if freed := before - liveHeap(); freed < int64(size) {
		t.Errorf("FinishReplay freed %d bytes, want at least the record's %d", freed, size)
	}
	if got := db.Count(db.Schema().Table("Logical_Switch")); got != n {
		t.Fatalf("%d switches after replay, want %d", got, n)
	}
	if err := db.ApplyRecord([]byte(`{"Logical_Switch":{"ffffffff-0000-4000-8000-000000000000":{"name":"late"}}}`)); err != nil {
		t.Fatalf("replay after FinishReplay: %v", err)
	}
	if got := db.Count(db.Schema().Table("Logical_Switch")); got != n+1 {
		t.Fatalf("%d switches after another record, want %d", got, n+1)
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

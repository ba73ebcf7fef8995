package ovsdbfile

import (
	"context"
	"fmt"
	"testing"
)

// benchRecord is a transaction record of a typical size.
var benchRecord = fmt.Appendf(nil, `{"_date":1795466650844,"Logical_Switch_Port":{"6c2f0d1e-29a3-4c8e-b1a5-2f4d8b3c7a10":{"name":"lsp1","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]],"pad":"%0200d"}},"_is_diff":true}`, 0)

// BenchmarkDurableCommit measures durable Append+Wait from many goroutines:
// group commit shares fsyncs among them.
func BenchmarkDurableCommit(b *testing.B) {
	l := mustCreate(b, dbPath(b))
	defer l.Close()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Wait(context.Background(), l.Append(benchRecord, true)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(l.Stats().Syncs)/float64(b.N), "fsyncs/op")
}

// BenchmarkAppend measures the caller's cost of Append alone.
func BenchmarkAppend(b *testing.B) {
	l := mustCreate(b, dbPath(b))
	defer l.Close()
	b.ReportAllocs()
	b.SetBytes(int64(recordSize(benchRecord)))
	for b.Loop() {
		l.Append(benchRecord, false)
	}
	if err := l.Wait(context.Background(), l.LastSeq()); err != nil {
		b.Fatal(err)
	}
}

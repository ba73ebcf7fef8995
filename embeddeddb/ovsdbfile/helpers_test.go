package ovsdbfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testSchema is a small schema; the package does not interpret it.
var testSchema = []byte(`{"name":"T","version":"1.0.0","tables":{"T":{"columns":{"n":{"type":"integer"}}}}}`)

// rec is the i-th test record.
func rec(i int) []byte { return fmt.Appendf(nil, `{"n":%d}`, i) }

// recs returns rec(from) through rec(to).
func recs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i <= to; i++ {
		out = append(out, rec(i))
	}
	return out
}

// testLogger sends log lines to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// dbPath returns a fresh path for a database file.
func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "test.db") }

// mustCreate creates a Log on path with testSchema.
func mustCreate(t testing.TB, path string) *Log {
	t.Helper()
	l, err := Create(path, testSchema, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// appendWait appends records and waits for each.
func appendWait(t testing.TB, l *Log, durable bool, rs ...[]byte) {
	t.Helper()
	var last uint64
	for _, r := range rs {
		last = l.Append(r, durable)
	}
	if err := l.Wait(context.Background(), last); err != nil {
		t.Fatal(err)
	}
}

// reopen opens path, checks the schema and returns the records.
func reopen(t testing.TB, path string) [][]byte {
	t.Helper()
	l, schema, records, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if string(schema) != string(testSchema) {
		t.Fatalf("schema = %s", schema)
	}
	return records
}

// checkRecords compares records with want.
func checkRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if !slices.EqualFunc(got, want, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("records:\n got %q\nwant %q", got, want)
	}
}

// writeBytes writes data as a file in a fresh directory.
func writeBytes(t testing.TB, data []byte) string {
	t.Helper()
	path := dbPath(t)
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// discardLogger drops log lines, for the fuzzer.
var discardLogger = slog.New(slog.DiscardHandler)

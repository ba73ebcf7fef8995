package ovsdbfile

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// threeRecordFile returns a file holding the schema and records 1 to 3, and
// the offset where record 3 starts.
func threeRecordFile(t *testing.T) ([]byte, int) {
	t.Helper()
	path := dbPath(t)
	l := mustCreate(t, path)
	appendWait(t, l, true, recs(1, 3)...)
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data, len(data) - recordSize(rec(3))
}

// checkRecovered opens a damaged file and checks that records 1 and 2
// remain and that the file was cut at start.
func checkRecovered(t *testing.T, data []byte, start int, what string) {
	t.Helper()
	path := writeBytes(t, data)
	l, _, records, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	checkRecords(t, records, recs(1, 2))
	appendWait(t, l, true, rec(4))
	l.Close()
	checkRecords(t, reopen(t, path), [][]byte{rec(1), rec(2), rec(4)})
	if st, err := os.Stat(path); err != nil || st.Size() != int64(start+recordSize(rec(4))) {
		t.Fatalf("%s: size after repair and append = %v, %v", what, st.Size(), err)
	}
}

func TestTornTail(t *testing.T) {
	data, start := threeRecordFile(t)
	for cut := start; cut < len(data); cut++ {
		checkRecovered(t, data[:cut], start, "truncated")
	}
}

func TestCorruptTail(t *testing.T) {
	data, start := threeRecordFile(t)
	for i := start; i < len(data); i++ {
		for _, mask := range []byte{0x01, 0x80, 0x20} {
			bad := bytes.Clone(data)
			bad[i] ^= mask
			if bytes.ContainsRune([]byte("abcdefABCDEF"), rune(bad[i])) && i < start+recordSize(rec(3))-len(rec(3))-2 {
				continue // the SHA-1's hex digits are case-insensitive
			}
			checkRecovered(t, bad, start, "corrupt")
		}
	}
}

func TestGarbageAfterGoodRecords(t *testing.T) {
	data, start := threeRecordFile(t)
	for _, junk := range []string{"garbage", "\n", "\x00\x00\x00\x00", "OVSDB JSON 5 "} {
		path := writeBytes(t, append(bytes.Clone(data), junk...))
		checkRecords(t, reopen(t, path), recs(1, 3))
		if st, _ := os.Stat(path); st.Size() != int64(len(data)) {
			t.Errorf("junk %q: size %d, want %d", junk, st.Size(), len(data))
		}
	}
	_ = start
}

func TestCorruptMiddleKeepsPrefix(t *testing.T) {
	data, start := threeRecordFile(t)
	second := start - recordSize(rec(2))
	bad := bytes.Clone(data)
	bad[second+len(bad[second:])-recordSize(rec(3))-3] ^= 1 // inside record 2's JSON
	path := writeBytes(t, bad)
	checkRecords(t, reopen(t, path), recs(1, 1))
}

func TestBadSchema(t *testing.T) {
	data, _ := threeRecordFile(t)
	schemaEnd := recordSize(testSchema)
	cases := map[string][]byte{
		"empty":     nil,
		"torn":      data[:schemaEnd-1],
		"flipped":   append(append([]byte{}, data[:schemaEnd-2]...), 'x', '\n'),
		"not json":  encodeRecord(nil, []byte("hello")),
		"array":     encodeRecord(nil, []byte("[1]")),
		"other":     []byte("SQLite format 3\x00"),
		"clustered": bytes.Replace(encodeRecord(nil, testSchema), []byte("JSON"), []byte("CLUSTER"), 1),
	}
	for name, content := range cases {
		path := writeBytes(t, content)
		_, _, _, err := Open(path, testLogger(t))
		want := ErrNoSchema
		if name == "clustered" {
			want = ErrClustered
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, content) {
			t.Errorf("%s: Open modified a file it rejected", name)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	if _, _, _, err := Open(dbPath(t), testLogger(t)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestLFInsideRecord(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	pretty := []byte("{\n\"n\": 1\n}")
	appendWait(t, l, true, pretty, rec(2))
	l.Close()
	checkRecords(t, reopen(t, path), [][]byte{pretty, rec(2)})
}

func TestOpenRemovesStaleTemp(t *testing.T) {
	path := dbPath(t)
	mustCreate(t, path).Close()
	if err := os.WriteFile(tempPath(path), []byte("half a compaction"), 0o640); err != nil {
		t.Fatal(err)
	}
	reopen(t, path)
	if _, err := os.Stat(tempPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale temporary file still there: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	path := dbPath(t)
	l := mustCreate(t, path)
	appendWait(t, l, true, recs(1, 5)...)
	l.Close()
	if err := WriteFile(path, testSchema, []byte(`{"snap":5}`)); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, reopen(t, path), [][]byte{[]byte(`{"snap":5}`)})
	if err := WriteFile(path, testSchema, nil); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, reopen(t, path), nil)
	if err := WriteFile(path, testSchema, []byte("nope")); err == nil {
		t.Fatal("WriteFile accepted a snapshot that is not JSON")
	}
}

// TestOpenedLogOwnsItsSchema: the caller may reuse or drop the buffer
// Open returned (the whole file) without the Log's schema changing, so
// the Log does not pin that buffer in memory.
func TestOpenedLogOwnsItsSchema(t *testing.T) {
	data, _ := threeRecordFile(t)
	l, schema, records, err := Open(writeBytes(t, data), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := bytes.Clone(schema)
	for i := range schema {
		schema[i] = 'x'
	}
	for _, r := range records {
		clear(r)
	}
	if got := l.Schema(); !bytes.Equal(got, want) {
		t.Fatalf("the Log's schema changed with the buffer Open returned: %.40s", got)
	}
}

package ovsdbfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes as a database file: Open must not panic,
// must leave a rejected file alone, and must leave an accepted one so that
// opening it again finds the same records and changes nothing.
func FuzzOpen(f *testing.F) {
	good := encodeRecord(nil, testSchema)
	for i := 1; i <= 3; i++ {
		good = encodeRecord(good, rec(i))
	}
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(append(bytes.Clone(good), "OVSDB JSON 9 "...))
	f.Add(encodeRecord(nil, testSchema))
	f.Add(bytes.Replace(good, []byte("JSON"), []byte("CLUSTER"), 1))
	f.Add([]byte{})
	f.Add([]byte("OVSDB JSON 1 da39a3ee5e6b4b0d3255bfef95601890afd80709\n\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.db")
		os.Remove(path)
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		l, schema, records, err := Open(path, discardLogger)
		after, _ := os.ReadFile(path)
		if err != nil {
			if !errors.Is(err, ErrNoSchema) && !errors.Is(err, ErrClustered) {
				t.Fatalf("unexpected error %v", err)
			}
			if !bytes.Equal(after, data) {
				t.Fatal("Open changed a file it rejected")
			}
			return
		}
		l.Close()
		if !bytes.HasPrefix(data, after) {
			t.Fatal("Open did more than cut the file")
		}
		l, schema2, records2, err := Open(path, discardLogger)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		l.Close()
		again, _ := os.ReadFile(path)
		if !bytes.Equal(schema, schema2) || len(records) != len(records2) || !bytes.Equal(again, after) {
			t.Fatal("second Open disagrees with the first")
		}
	})
}

// FuzzScan checks the record reader alone, faster than FuzzOpen: it never
// panics, and the good prefix it finds reads back the same, cleanly.
func FuzzScan(f *testing.F) {
	good := encodeRecord(nil, testSchema)
	for i := 1; i <= 3; i++ {
		good = encodeRecord(good, rec(i))
	}
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(encodeRecord(nil, []byte("{\n}")))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := scanFile(data)
		if err != nil {
			return
		}
		if c.good > int64(len(data)) || (c.tailErr == nil) != (c.good == int64(len(data))) {
			t.Fatalf("good %d of %d bytes, tailErr %v", c.good, len(data), c.tailErr)
		}
		again, err := scanFile(data[:c.good])
		if err != nil || again.tailErr != nil || len(again.records) != len(c.records) {
			t.Fatalf("rescan of the good prefix: %v, %v", err, again.tailErr)
		}
	})
}

package ovsdbfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// ErrLocked is returned by Create, Open and WriteFile when another Log, this
// process's or another's, or a real ovsdb-server or ovsdb-tool, holds the
// file's lock.
var ErrLocked = errors.New("database file is locked")

// ErrNoSchema is returned by Open when the first record, the schema, is
// missing or corrupt. Open never truncates such a file.
var ErrNoSchema = errors.New("missing or corrupt schema record")

// Create makes a new file at path holding only the schema record and returns
// a Log that appends to it. The file appears atomically and durably (it is
// written to "<path>.tmp", fsynced, linked into place and the directory
// fsynced). It fails with an error wrapping fs.ErrExist if path exists. The
// schema must be a JSON object; it is stored compacted, on one line.
func Create(path string, schema []byte, logger *slog.Logger) (*Log, error) {
	schema, err := compactSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	lock, err := acquireLock(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, size, err := writeNew(path, schema, nil, false)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return newLog(path, f, lock, schema, size, 0, logger), nil
}

// WriteFile atomically and durably replaces (or creates) the file at path
// with one holding the schema record and, if snapshot is not nil, one
// snapshot record, e.g. after converting a database to a new schema while
// no Log has it open. It fails with ErrLocked if a Log has the file open;
// Log.Convert does the same job for an open Log.
func WriteFile(path string, schema, snapshot []byte) error {
	schema, err := compactSchema(schema)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if snapshot != nil {
		if err := checkBody(snapshot); err != nil {
			return fmt.Errorf("write %s: snapshot: %w", path, err)
		}
	}
	lock, err := acquireLock(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer lock.Close()
	f, _, err := writeNew(path, schema, snapshot, true)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// compactSchema checks that schema is a JSON object and compacts it.
func compactSchema(schema []byte) ([]byte, error) {
	if err := checkBody(schema); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, schema); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return buf.Bytes(), nil
}

// writeNew writes schema and optional snapshot records to "<path>.tmp",
// fsyncs it and moves it to path, replacing an old file only if replace is
// set, then fsyncs the directory. It returns the new file, open for writing
// at its end, and its size.
func writeNew(path string, schema, snapshot []byte, replace bool) (*os.File, int64, error) {
	tmp := tempPath(path)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, 0, err
	}
	buf := encodeRecord(nil, schema)
	if snapshot != nil {
		buf = encodeRecord(buf, snapshot)
	}
	if err := writeSync(f, buf); err != nil {
		return nil, 0, discard(f, tmp, err)
	}
	if err := install(tmp, path, replace); err != nil {
		return nil, 0, discard(f, tmp, err)
	}
	if err := syncDir(path); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, int64(len(buf)), nil
}

// writeSync writes buf to f and flushes it to stable storage.
func writeSync(f *os.File, buf []byte) error {
	if _, err := f.Write(buf); err != nil {
		return err
	}
	return datasync(f)
}

// install moves tmp to path. Without replace it links, which fails if path
// exists, and then removes tmp; on a file system without hard links it
// checks for path and renames, which the lock we hold makes safe from other
// ovnd and ovsdb-server writers.
func install(tmp, path string, replace bool) error {
	if replace {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	if err == nil {
		return os.Remove(tmp)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	switch _, serr := os.Lstat(path); {
	case serr == nil:
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	case !errors.Is(serr, fs.ErrNotExist):
		return serr
	}
	return os.Rename(tmp, path)
}

// discard closes and removes a temporary file after err, and returns err.
func discard(f *os.File, tmp string, err error) error {
	f.Close()
	os.Remove(tmp)
	return err
}

// syncDir fsyncs the directory holding path, making a rename durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir: %w", err)
	}
	return nil
}

// tempPath is where a file replacing path is written before the rename.
func tempPath(path string) string { return path + ".tmp" }

// lockPath is the lock file ovsdb-server and ovsdb-tool use for path.
func lockPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".~lock~")
}

// acquireLock opens and locks path's lock file; closing it unlocks.
func acquireLock(path string) (*os.File, error) {
	f, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openExisting opens path for reading and writing and reads it all.
func openExisting(path string) (*os.File, []byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, data, nil
}

// removeStaleTemp removes a temporary file left by a crash mid-compaction.
func removeStaleTemp(path string, logger *slog.Logger) {
	err := os.Remove(tempPath(path))
	if err == nil {
		logger.Info("removed stale temporary file", "path", tempPath(path))
	} else if !errors.Is(err, fs.ErrNotExist) {
		logger.Warn("cannot remove stale temporary file", "path", tempPath(path), "err", err)
	}
}

package ovsdbfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// contents is what a scan of a whole file found.
type contents struct {
	schema  []byte   // the first record's JSON, without its LF
	records [][]byte // the later records' JSON, without LFs
	good    int64    // end of the last good record
	tailErr error    // why bytes after good were rejected; nil if none
}

// scanFile parses data as a standalone database file. A bad first record is
// an error; a bad later record ends the scan with tailErr set.
func scanFile(data []byte) (contents, error) {
	var c contents
	h, body, n, err := nextRecord(data)
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrNoSchema, err)
	}
	if h.magic == magicCluster {
		return c, ErrClustered
	}
	if err := checkRecord(h, body); err != nil {
		return c, fmt.Errorf("%w: %w", ErrNoSchema, err)
	}
	c.schema, c.good = stripLF(body), int64(n)
	for c.good < int64(len(data)) {
		h, body, n, err := nextRecord(data[c.good:])
		if err == nil {
			err = checkRecord(h, body)
		}
		if err != nil {
			c.tailErr = err
			break
		}
		c.records = append(c.records, stripLF(body))
		c.good += int64(n)
	}
	return c, nil
}

// checkRecord checks a standalone record's magic and JSON.
func checkRecord(h header, body []byte) error {
	if h.magic != magicJSON {
		return fmt.Errorf("unexpected magic %q", h.magic)
	}
	return checkBody(body)
}

// Open opens an existing standalone database file. It checks every record's
// header, length, SHA-1 and JSON; on a torn or corrupt tail it logs the
// offset and reason, truncates the file at the end of the last good record
// (durably) and still succeeds. It returns ErrNoSchema if the schema record
// is missing or corrupt, ErrClustered for a clustered database and
// ErrLocked if the file is in use. It returns the schema and the later
// records, in file order, without their terminating LFs; they share one
// buffer, which the caller may keep. The Log keeps a copy of the schema,
// not the buffer: a file's worth of memory is freed once the caller is
// done with the records.
func Open(path string, logger *slog.Logger) (l *Log, schema []byte, records [][]byte, err error) {
	logger = orDefault(logger)
	lock, err := acquireLock(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	f, c, err := openAndScan(path, logger)
	if err != nil {
		lock.Close()
		return nil, nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	removeStaleTemp(path, logger)
	l = newLog(path, f, lock, bytes.Clone(c.schema), c.good, int64(len(c.records)), logger)
	return l, c.schema, c.records, nil
}

// openAndScan reads path, repairs a bad tail and leaves the file offset at
// the end of the good records.
func openAndScan(path string, logger *slog.Logger) (*os.File, contents, error) {
	f, data, err := openExisting(path)
	if err != nil {
		return nil, contents{}, err
	}
	c, err := scanFile(data)
	if err == nil && c.tailErr != nil {
		err = repairTail(f, c, int64(len(data)), logger)
	}
	if err == nil {
		_, err = f.Seek(c.good, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, c, err
	}
	return f, c, nil
}

// repairTail truncates f after its last good record.
func repairTail(f *os.File, c contents, size int64, logger *slog.Logger) error {
	reason := "corrupt record"
	if errors.Is(c.tailErr, errShort) {
		reason = "torn record"
	}
	logger.Warn("truncating database file after its last good record",
		"path", f.Name(), "offset", c.good, "dropped_bytes", size-c.good,
		"reason", reason, "err", c.tailErr, "records_kept", len(c.records))
	if err := f.Truncate(c.good); err != nil {
		return fmt.Errorf("truncate bad tail: %w", err)
	}
	if err := datasync(f); err != nil {
		return fmt.Errorf("truncate bad tail: %w", err)
	}
	return nil
}

// orDefault returns logger, or slog.Default() if it is nil.
func orDefault(logger *slog.Logger) *slog.Logger {
	if logger == nil {
		return slog.Default()
	}
	return logger
}

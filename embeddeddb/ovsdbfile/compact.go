package ovsdbfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Compaction policy of NeedsCompaction, after ovsdb-server(1) 3.1 on
// automatic compaction: compact when a file is at least CompactMinSize and
// CompactGrowth times its size after the last compaction, but not before
// CompactMinRecords records were added and CompactMinInterval passed since
// it; after CompactMaxInterval, compact once CompactMinRecords records were
// added whatever the size. Open and Create count as a compaction.
const (
	CompactMinSize     = 10 << 20 // bytes
	CompactGrowth      = 2        // times the size after the last compaction
	CompactMinRecords  = 100      // records after the schema
	CompactMinInterval = 10 * time.Minute
	CompactMaxInterval = 24 * time.Hour
)

// tailChunk is the size under which compaction stops copying newly written
// records outside fileMu and finishes the job while holding it.
const tailChunk = 64 << 10

// ErrStaleSnapshot is returned by Compact and Convert when snapshotSeq is
// older than the snapshot of the last compaction.
var ErrStaleSnapshot = errors.New("snapshot is older than the last compaction")

// NeedsCompaction reports whether, at time now, the file should be
// compacted under the policy described with CompactMinSize.
func (l *Log) NeedsCompaction(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	since := now.Sub(l.baseTime)
	if l.nrecords < CompactMinRecords || since < CompactMinInterval {
		return false
	}
	return since >= CompactMaxInterval ||
		l.end >= CompactMinSize && l.end >= CompactGrowth*l.baseSize
}

// Compact replaces the file, online, with one holding the schema, the
// snapshot record (every row as of record snapshotSeq, the value Append
// returned for the last record the snapshot includes, or 0) and every
// record appended after snapshotSeq. The new file is written to a
// temporary file, fsynced and renamed into place, and the directory
// fsynced. Append and Wait go on meanwhile: records written during the
// compaction are also kept in memory (so memory grows by what is written
// while it runs) and copied over; records already in the old file after
// snapshotSeq are copied from it. The writer is held back only for the
// final copy of at most 64 KiB, one fsync, the rename and the
// directory fsync, which delays durable Waits by about two fsyncs; Append
// goes on queueing. Compact first waits until record snapshotSeq is
// written. A failed compaction removes the temporary file and leaves the
// old file in use; it is not sticky, except that a failed directory fsync
// after the rename makes the Log fail (see Err).
func (l *Log) Compact(snapshot []byte, snapshotSeq uint64) error {
	if err := l.replace(nil, snapshot, snapshotSeq); err != nil {
		return fmt.Errorf("compact %s: %w", l.path, err)
	}
	return nil
}

// Convert is Compact with a new schema, for converting the database to it:
// the file is replaced by the new schema and snapshot. No record may be
// appended after snapshotSeq, since such records would follow the old
// schema; Convert fails if one was.
func (l *Log) Convert(schema, snapshot []byte, snapshotSeq uint64) error {
	schema, err := compactSchema(schema)
	if err == nil {
		err = l.replace(schema, snapshot, snapshotSeq)
	}
	if err != nil {
		return fmt.Errorf("convert %s: %w", l.path, err)
	}
	return nil
}

// compaction is the state of one Compact or Convert.
type compaction struct {
	schema    []byte
	seq       uint64   // snapshotSeq
	convert   bool     // no record may follow the snapshot
	old       *os.File // the file being replaced
	oldFrom   int64    // where record anchorSeq+1 starts in old
	oldTo     int64    // old's size when the compaction began
	skip      uint64   // records between anchorSeq and seq
	tmp       *os.File
	tmpPath   string
	snapEnd   int64 // end of the snapshot record in tmp
	size      int64 // bytes written to tmp
	nrecords  int64 // records after the schema in tmp
	installed bool  // tmp has been renamed over the file
}

// replace runs a compaction; schema nil keeps the current schema.
func (l *Log) replace(schema, snapshot []byte, seq uint64) error {
	if err := checkBody(snapshot); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	if err := l.Wait(context.Background(), seq); err != nil {
		return err
	}
	c, err := l.beginCompaction(schema, seq)
	if err != nil {
		return err
	}
	err = l.runCompaction(c, snapshot)
	if !c.installed {
		l.abortCompaction(c)
	}
	return err
}

// beginCompaction starts copying written batches to the tail and captures
// where the records after seq are in the current file.
func (l *Log) beginCompaction(schema []byte, seq uint64) (*compaction, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closing:
		return nil, ErrClosed
	case l.err != nil:
		return nil, l.err
	case seq < l.anchorSeq:
		return nil, fmt.Errorf("%w: record %d, compacted through %d", ErrStaleSnapshot, seq, l.anchorSeq)
	}
	c := &compaction{schema: schema, seq: seq, convert: schema != nil, old: l.file,
		oldFrom: l.anchorOff, oldTo: l.end, skip: seq - l.anchorSeq, tmpPath: tempPath(l.path)}
	if schema == nil {
		c.schema = l.schema
	}
	c.nrecords = 1 + int64(l.done-seq)
	l.compacting, l.tail = true, nil
	return c, nil
}

// runCompaction writes the new file and installs it.
func (l *Log) runCompaction(c *compaction, snapshot []byte) error {
	if c.convert && c.nrecords != 1 {
		return errors.New("records were appended after the snapshot")
	}
	if err := l.writeHead(c, snapshot); err != nil {
		return err
	}
	if err := l.copyOld(c); err != nil {
		return err
	}
	for {
		n, err := l.copyTail(c)
		if err != nil {
			return err
		}
		if n < tailChunk {
			break
		}
	}
	if err := datasync(c.tmp); err != nil {
		return err
	}
	return l.install(c)
}

// writeHead creates the temporary file with the schema and snapshot.
func (l *Log) writeHead(c *compaction, snapshot []byte) error {
	f, err := os.OpenFile(c.tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	c.tmp = f
	buf := encodeRecord(encodeRecord(nil, c.schema), snapshot)
	if _, err := f.Write(buf); err != nil {
		return err
	}
	c.snapEnd, c.size = int64(len(buf)), int64(len(buf))
	return nil
}

// copyOld copies the records after the snapshot that the old file already
// held when the compaction began.
func (l *Log) copyOld(c *compaction) error {
	from, err := skipRecords(c.old, c.oldFrom, c.oldTo, c.skip)
	if err != nil {
		return fmt.Errorf("find record %d in old file: %w", c.seq+1, err)
	}
	n, err := io.Copy(c.tmp, io.NewSectionReader(c.old, from, c.oldTo-from))
	c.size += n
	return err
}

// copyTail moves the batches written since the last call to the new file.
func (l *Log) copyTail(c *compaction) (int, error) {
	l.mu.Lock()
	buf := l.tail
	l.tail = nil
	l.mu.Unlock()
	_, err := c.tmp.Write(buf)
	c.size += int64(len(buf))
	return len(buf), err
}

// install copies the last batches, renames the new file into place and
// swaps it in, holding fileMu so that the writer stays out meanwhile.
func (l *Log) install(c *compaction) error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	n, err := l.copyTail(c)
	if err == nil && n > 0 {
		err = datasync(c.tmp)
	}
	if err == nil && c.convert && l.LastSeq() != c.seq {
		err = errors.New("records were appended after the snapshot")
	}
	if err == nil {
		err = os.Rename(c.tmpPath, l.path)
	}
	if err != nil {
		return err
	}
	c.installed = true
	err = syncDir(l.path)
	l.swapLocked(c, err)
	c.old.Close()
	return err
}

// swapLocked makes the new file current. fileMu is held. A failure to make
// the rename durable is sticky: later fsyncs could not be trusted.
func (l *Log) swapLocked(c *compaction, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.nrecords = 1 + int64(l.done-c.seq)
	l.file, l.schema = c.tmp, c.schema
	l.anchorSeq, l.anchorOff = c.seq, c.snapEnd
	l.end, l.baseSize, l.nrecords = c.size, c.size, c.nrecords
	l.baseTime = time.Now()
	l.unsynced, l.compacting, l.tail = false, false, nil
	l.stats.Compactions++
	if err != nil {
		l.failLocked(fmt.Errorf("compact %s: %w", l.path, err))
	}
	l.logger.Info("compacted database file", "path", l.path, "size", c.size,
		"records", c.nrecords, "snapshot_seq", c.seq)
}

// abortCompaction stops the tail copy and removes the temporary file.
func (l *Log) abortCompaction(c *compaction) {
	l.mu.Lock()
	l.compacting, l.tail = false, nil
	l.mu.Unlock()
	if c.tmp != nil {
		c.tmp.Close()
		os.Remove(c.tmpPath)
	}
}

// skipRecords returns the offset of the record that follows n records
// starting at offset from in f, reading no further than to.
func skipRecords(f *os.File, from, to int64, n uint64) (int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, from, to-from), 64<<10)
	off := from
	for ; n > 0; n-- {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("read header at %d: %w", off, err)
		}
		h, err := parseHeader(line[:len(line)-1])
		if err != nil {
			return 0, fmt.Errorf("header at %d: %w", off, err)
		}
		if _, err := r.Discard(int(h.length)); err != nil {
			return 0, fmt.Errorf("record at %d: %w", off, err)
		}
		off += int64(len(line)) + h.length
	}
	return off, nil
}

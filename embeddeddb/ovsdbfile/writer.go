package ovsdbfile

import (
	"fmt"
	"time"
)

// Linger is how long the writer holds back records that no one waits to
// be durable, to write many commits with one write(2). A durable record,
// a full batch (lingerMax bytes) or Close ends the wait early. A kill -9
// may lose up to this much of non-durable commits, never a durable one
// (for records appended with AppendQuiet, this much plus however long
// the caller takes to get to WriteQueued: an event loop's iteration).
const (
	Linger    = 2 * time.Millisecond
	lingerMax = 1 << 20
)

// batch is a run of consecutive queued records the writer writes at once.
type batch struct {
	buf         []byte // encoded records
	first, last uint64 // their sequence numbers
	durable     bool   // fsync after writing
	start       int64  // file offset the batch is written at
}

// routineWrite is the writer goroutine: it takes everything queued, writes
// it with one write(2), fsyncs if any of it is durable, and repeats until
// Close and the queue is empty. A goroutine waiting for a durable record
// usually writes it first (see Wait); the writer then finds nothing.
func (l *Log) routineWrite() {
	defer l.wg.Done()
	for {
		if !l.awaitWork() {
			return
		}
		l.runTestHook()
		l.writeNext()
	}
}

// runTestHook runs the hook a test may set to hold the writer back.
func (l *Log) runTestHook() {
	l.mu.Lock()
	h := l.beforeBatch
	l.mu.Unlock()
	if h != nil {
		h()
	}
}

// awaitWork waits for queued records, lingering for more while none of
// them is durable; it returns false when the Log is closing and nothing is
// left to write.
func (l *Log) awaitWork() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.pending) == 0 && !l.closing {
		l.work.Wait()
	}
	if len(l.pending) > 0 && !l.pendingDurable && !l.closing && len(l.pending) < lingerMax {
		l.lingerLocked()
	}
	return len(l.pending) > 0 || !l.closing
}

// writeNext writes whatever is queued, if anything. Taking the records and
// writing them under fileMu keeps batches in order whoever writes them.
func (l *Log) writeNext() {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.mu.Lock()
	b, ok := l.takeLocked()
	l.mu.Unlock()
	if ok {
		l.writeBatch(b)
	}
}

// takeLocked takes every queued record as one batch and marks it in
// flight. fileMu and mu are held.
func (l *Log) takeLocked() (batch, bool) {
	if len(l.pending) == 0 {
		return batch{}, false
	}
	b := batch{buf: l.pending, first: l.taken + 1, last: l.queued, durable: l.pendingDurable, start: l.end}
	l.pending, l.spare, l.pendingDurable = l.spare[:0], nil, false
	l.taken = l.queued
	l.writing = true
	l.space.Broadcast()
	return b, true
}

// writeBatch writes b to the file and records the outcome. fileMu is
// held, which keeps compaction from swapping the file meanwhile.
func (l *Log) writeBatch(b batch) {
	l.mu.Lock()
	failed := l.err != nil
	l.mu.Unlock()
	var err error
	if !failed {
		err = l.writeFile(b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writing = false
	l.finishBatchLocked(b, err)
}

// writeFile writes and, if needed, syncs one batch. On failure it cuts the
// file back to the batch's start so that no partial record stays behind.
func (l *Log) writeFile(b batch) error {
	_, err := l.file.Write(b.buf)
	if err == nil && b.durable {
		err = datasync(l.file)
		l.mu.Lock()
		l.stats.Syncs++
		l.mu.Unlock()
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("write %s: %w", l.path, err)
	if terr := l.file.Truncate(b.start); terr != nil {
		l.logger.Error("cannot cut partial write from database file", "offset", b.start, "err", terr)
	}
	return err
}

// finishBatchLocked publishes a batch's outcome to Wait and compaction.
func (l *Log) finishBatchLocked(b batch, err error) {
	defer l.broadcastLocked()
	l.stats.Writes++
	if err != nil || l.err != nil {
		l.failLocked(err)
		return
	}
	l.done, l.end = b.last, b.start+int64(len(b.buf))
	l.unsynced = !b.durable
	l.nrecords += int64(b.last - b.first + 1)
	l.stats.Records += b.last - b.first + 1
	if l.compacting {
		l.tail = append(l.tail, b.buf...)
	}
	if cap(b.buf) <= 2*l.maxPending {
		l.spare = b.buf[:0]
	}
}

// failLocked makes err sticky and drops everything queued.
func (l *Log) failLocked(err error) {
	if l.err == nil && err != nil {
		l.err = err
		l.logger.Error("database file write failed; no further records will be written",
			"path", l.path, "err", err)
	}
	l.pending, l.pendingDurable = nil, false
	l.taken = l.queued
	l.space.Broadcast()
}

// lingerLocked waits up to Linger for more records, unless kicked.
func (l *Log) lingerLocked() {
	select { // drop a stale kick
	case <-l.kick:
	default:
	}
	l.lingering = true
	l.mu.Unlock()
	t := time.NewTimer(Linger)
	select {
	case <-t.C:
	case <-l.kick:
		t.Stop()
	}
	l.mu.Lock()
	l.lingering = false
}

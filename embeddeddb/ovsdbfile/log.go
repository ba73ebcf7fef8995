package ovsdbfile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// MaxPending bounds the bytes of records queued by Append and not yet taken
// by the writer. Append blocks while the queue is at least this full; a
// single record larger than the bound is accepted when the queue is empty.
// Together with the batch being written, a Log holds at most about twice
// this (plus one oversized record) in its queue.
const MaxPending = 16 << 20

// ErrClosed is returned by Wait for records that were appended after Close
// began, and by Compact and Convert on a closed Log.
var ErrClosed = errors.New("database log is closed")

// Log appends records to one open database file. Append and Wait may be
// called from any goroutine; the caller serializes Appends to fix their
// order. A Log owns one writer goroutine, which Close stops.
type Log struct {
	path   string
	logger *slog.Logger
	lock   *os.File // lock file; closing it releases the lock
	wg     sync.WaitGroup

	// compactMu serializes Compact, Convert and Close.
	compactMu sync.Mutex

	// fileMu is held by the writer while it writes a batch and records the
	// outcome, and by compaction while it swaps files: whoever holds it may
	// use file. Lock order: fileMu, then mu.
	fileMu sync.Mutex
	file   *os.File

	mu   sync.Mutex // guards the fields below
	work sync.Cond  // on mu: the writer waits for records or closing
	// lingering is set while the writer holds back a batch of non-durable
	// records to gather more; kick ends the wait early.
	lingering bool
	kick      chan struct{}
	space     sync.Cond     // on mu: Append waits for queue room
	progress  chan struct{} // closed and replaced when done, err or closed change

	schema         []byte
	pending        []byte // encoded records queued by Append
	spare          []byte // an empty buffer to swap with pending
	pendingDurable bool   // pending holds a durable record
	maxPending     int
	lastSeq        uint64 // seq of the last Append
	queued         uint64 // seq of the last record put into pending
	taken          uint64 // seq of the last record taken for writing
	writing        bool   // a batch is being written (fileMu is held)
	done           uint64 // records up to here are written, synced if asked
	end            int64  // file size after the last completed write
	unsynced       bool   // written data awaits fsync
	err            error  // sticky write error
	closing        bool   // Close began: no more records are queued
	closed         bool   // the writer stopped

	anchorSeq uint64 // record anchorSeq+1 starts at anchorOff in file
	anchorOff int64
	baseSize  int64     // file size after Open, Create or the last compaction
	baseTime  time.Time // when the Log was opened or last compacted
	nrecords  int64     // records in the file after the schema

	compacting bool   // the writer copies written batches to tail
	tail       []byte // batches written since compaction began
	tailFrom   uint64 // seq of the first record in tail

	stats Stats

	// beforeBatch, if a test sets it, runs in the writer (outside mu)
	// each time records are queued, before it takes them.
	beforeBatch func()
}

// Stats are counters for monitoring and tests.
type Stats struct {
	Syncs       uint64 // fdatasync calls on the log file by the writer
	Writes      uint64 // write(2) calls by the writer, one per batch
	Records     uint64 // records written by the writer
	Compactions uint64 // completed compactions and conversions
	Size        int64  // current file size
	FileRecords int64  // records in the file after the schema
}

// newLog wraps an open file positioned at its end and starts the writer.
func newLog(path string, f, lock *os.File, schema []byte, size, nrecords int64, logger *slog.Logger) *Log {
	l := &Log{
		path: path, logger: orDefault(logger), lock: lock, file: f,
		progress: make(chan struct{}), schema: schema, maxPending: MaxPending,
		end: size, anchorOff: size, baseSize: size, nrecords: nrecords,
		baseTime: time.Now(),
	}
	l.work.L = &l.mu
	l.kick = make(chan struct{}, 1)
	l.space.L = &l.mu
	l.wg.Add(1)
	go l.routineWrite()
	return l
}

// Path returns the file's path.
func (l *Log) Path() string { return l.path }

// Schema returns the schema record's JSON, which the caller must not
// modify.
func (l *Log) Schema() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.schema
}

// Append queues the JSON object rec, which should be compact (one line), as
// the next record and returns its sequence number: 1 for the first Append
// on this Log, then counting up. It does no I/O (it computes the SHA-1,
// copies rec into the queue and, for a record that is not durable, wakes
// the writer goroutine). Queued records are written in Append order, and
// each batch that holds a record appended with durable set is fsynced. A
// durable record is written by the first Wait for it, in the waiting
// goroutine, together with everything queued before it, which saves two
// goroutine hand-offs per durable commit; without a Wait it goes with the
// next batch the writer takes, or at Close. Append blocks only while the queue is
// full (see MaxPending). After Close began, or after a write error, the
// record is dropped and Wait reports why. Append does not keep rec.
func (l *Log) Append(rec []byte, durable bool) uint64 {
	return l.append(rec, durable, true)
}

// AppendQuiet queues rec like Append(rec, false) but does not wake the
// writer goroutine: the caller takes the writing over and calls
// WriteQueued within Linger, as an event loop that keeps its own
// deadlines does, so that no other goroutine runs for its commits.
// Anything that wakes the writer (another Append, Close) or writes a
// batch (a Wait for a durable record) writes it too.
func (l *Log) AppendQuiet(rec []byte) uint64 {
	return l.append(rec, false, false)
}

func (l *Log) append(rec []byte, durable, wake bool) uint64 {
	var buf [maxHeaderLen]byte // hashed outside the lock
	hdr := appendHeader(buf[:0], rec)
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.acceptingLocked() && len(l.pending) > 0 && len(l.pending)+len(hdr)+len(rec)+1 > l.maxPending {
		l.space.Wait()
	}
	l.lastSeq++
	if !l.acceptingLocked() {
		return l.lastSeq
	}
	l.pending = append(append(append(l.pending, hdr...), rec...), '\n')
	l.pendingDurable = l.pendingDurable || durable
	l.queued = l.lastSeq
	if durable {
		// Its Wait writes it, in the waiting goroutine: no hand-off.
		return l.lastSeq
	}
	if !wake && len(l.pending) < lingerMax {
		return l.lastSeq
	}
	if l.lingering && len(l.pending) >= lingerMax {
		l.kickLocked()
	}
	l.work.Signal()
	return l.lastSeq
}

// WriteQueued writes the records queued so far, in the calling
// goroutine, as the writer goroutine would. When a batch is being
// written or a compaction holds the file, it does not wait: it wakes the
// writer goroutine, which writes them after that batch. Write errors
// are reported as for the writer's batches (Err, Wait).
func (l *Log) WriteQueued() {
	if !l.fileMu.TryLock() {
		l.mu.Lock()
		l.work.Signal()
		l.mu.Unlock()
		return
	}
	defer l.fileMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	b, ok := l.takeLocked()
	l.mu.Unlock()
	if ok {
		l.writeBatch(b)
	}
}

// acceptingLocked reports whether Append may queue records.
func (l *Log) acceptingLocked() bool { return l.err == nil && !l.closing }

// Wait blocks until record seq is written, and fsynced if it or a record
// written in the same batch was durable, or until ctx ends. It returns nil
// once that holds, the sticky write error if the record could not be
// written, ErrClosed if it was appended after Close began, or ctx.Err().
// Many goroutines waiting for durable records share one fsync.
func (l *Log) Wait(ctx context.Context, seq uint64) error {
	for {
		ch, err, ok, lead := l.waitState(seq)
		if ok {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if lead {
			l.lead(seq)
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ErrWaitTimeout is returned by WaitTimeout when the record is not
// written in time.
var ErrWaitTimeout = errors.New("timed out waiting for the database file")

// WaitTimeout is Wait bounded by a timeout instead of a context. It starts
// a timer only when it has to wait for a batch that another goroutine
// writes, so that a lone durable commit, which its caller writes, costs
// none. It returns ErrWaitTimeout (wrapped) when the time runs out.
func (l *Log) WaitTimeout(seq uint64, timeout time.Duration) error {
	var expired <-chan time.Time
	for {
		ch, err, ok, lead := l.waitState(seq)
		if ok {
			return err
		}
		if lead {
			l.lead(seq)
			continue
		}
		if expired == nil {
			t := time.NewTimer(timeout)
			defer t.Stop()
			expired = t.C
		}
		select {
		case <-ch:
		case <-expired:
			return fmt.Errorf("%w: record %d after %v", ErrWaitTimeout, seq, timeout)
		}
	}
}

// waitState reports whether Wait(seq) is settled and how; if not, it
// returns a channel closed on the next change, and lead is set when the
// record is queued and no batch is being written: the waiter should write
// it.
func (l *Log) waitState(seq uint64) (ch chan struct{}, err error, ok, lead bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case seq <= l.done:
		return nil, nil, true, false
	case l.err != nil:
		return nil, l.err, true, false
	case seq > l.lastSeq:
		return nil, fmt.Errorf("wait for record %d: only %d appended", seq, l.lastSeq), true, false
	case seq > l.queued || l.closed:
		return nil, ErrClosed, true, false
	}
	return l.progress, nil, false, seq > l.taken && !l.writing
}

// lead writes every queued record, seq among them, in the calling
// goroutine, unless another goroutine took seq first. It blocks on fileMu
// only behind the end of a batch or a compaction's file swap.
func (l *Log) lead(seq uint64) {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.mu.Lock()
	if seq <= l.taken || l.closed {
		l.mu.Unlock()
		return
	}
	b, ok := l.takeLocked()
	l.mu.Unlock()
	if ok {
		l.writeBatch(b)
	}
}

// Err returns the sticky write error, or nil. Once a write or fsync fails
// (a full disk, say), no more records are written: Append drops them and
// Wait returns this error for every record not yet written. The file keeps
// the records written before the failure; reopen it to continue.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stats returns the current counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Size, s.FileRecords = l.end, l.nrecords
	return s
}

// LastSeq returns the sequence number of the last Append.
func (l *Log) LastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastSeq
}

// Close writes every queued record, fsyncs the file, stops the writer
// goroutine and closes the file, waiting for a running compaction first. It
// returns the sticky write error if writing failed. Calling it again
// returns nil.
func (l *Log) Close() error {
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return nil
	}
	l.closing = true
	l.kickLocked()
	l.work.Signal()
	l.space.Broadcast()
	l.mu.Unlock()
	l.wg.Wait()
	return l.finishClose()
}

// finishClose runs after the writer stopped: final fsync, close, unlock.
func (l *Log) finishClose() error {
	l.fileMu.Lock() // a waiter may still be writing a batch
	defer l.fileMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.err
	if err == nil && l.unsynced {
		err = datasync(l.file)
	}
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.lock.Close()
	l.closed = true
	l.broadcastLocked()
	if err != nil {
		return fmt.Errorf("close %s: %w", l.path, err)
	}
	return nil
}

// broadcastLocked wakes every Wait.
func (l *Log) broadcastLocked() {
	close(l.progress)
	l.progress = make(chan struct{})
}

func (l *Log) kickLocked() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

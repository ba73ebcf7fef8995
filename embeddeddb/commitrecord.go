package embeddeddb

import (
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
)

// asyncRecordMin is the number of row changes from which a non-durable
// commit's record is encoded and queued by a goroutine of its own, after
// the database lock is released, instead of before the reply. northd's
// first write of a large SB (~42,000 rows, a record of ~14 MB) spent
// ~140 ms encoding it under the lock while its client waited for the
// reply; a non-durable commit promises nothing about the disk, so the
// reply need not wait. Small commits stay on the lock holder's goroutine,
// where they cost no hand-off.
const asyncRecordMin = 2048

// recordJob is a commit record being encoded off the lock. It is settled
// (settleRecordLocked) before anything else is appended to the file and
// before anything reads dbState.lastSeq, so that records keep commit
// order and a durable commit's wait covers every commit before it.
type recordJob struct {
	done chan struct{}
	seq  uint64 // the record's sequence number, 0 if empty; set before done closes
}

// appendRecordLocked encodes commit's record and queues it on d's file.
// A durable commit's record is queued before it returns, with d.lastSeq
// its sequence number; a large non-durable one may be left to a
// goroutine. A quiet record does not wake the file's writer goroutine
// (see commitLocked). d.mu is held and d.file is not nil.
func (d *dbState) appendRecordLocked(commit *database.Commit, durable, quiet bool) {
	d.settleRecordLocked()
	date := time.Now().UnixMilli()
	if !durable && changedRows(commit) >= asyncRecordMin {
		buf := d.recBuf // sized by the caller from the request, if it knew it
		d.recBuf = nil
		j := &recordJob{done: make(chan struct{})}
		d.recording = j
		go d.routineRecord(j, commit, buf, date, d.beforeRecord)
		return
	}
	d.recBuf = commit.AppendRecord(d.recBuf[:0], date)
	if len(d.recBuf) > 0 {
		// Append copies the record into its queue before returning.
		if quiet && !durable {
			d.lastSeq = d.file.AppendQuiet(d.recBuf)
		} else {
			d.lastSeq = d.file.Append(d.recBuf, durable)
		}
	}
	if cap(d.recBuf) > maxKeptRecBuf {
		d.recBuf = nil // a rare large commit does not pin its buffer
	}
}

// routineRecord encodes and queues one large commit's record. Committed
// rows are never modified (a transaction copies a row before changing
// it), so the commit may be read without the lock while later
// transactions run; only the file's order needs the lock holder to wait
// for j (settleRecordLocked).
func (d *dbState) routineRecord(j *recordJob, commit *database.Commit, buf []byte, date int64, before func()) {
	defer close(j.done)
	if before != nil {
		before()
	}
	rec := commit.AppendRecord(buf[:0], date)
	if len(rec) > 0 {
		j.seq = d.file.Append(rec, false)
	}
}

// settleRecordLocked waits for the record being encoded off the lock, if
// any, and takes its sequence number. d.mu is held.
func (d *dbState) settleRecordLocked() {
	j := d.recording
	if j == nil {
		return
	}
	<-j.done
	d.recording = nil
	if j.seq != 0 {
		d.lastSeq = j.seq
	}
}

// changedRows counts a commit's row changes.
func changedRows(commit *database.Commit) int {
	n := 0
	for _, tc := range commit.Tables {
		n += len(tc.Rows)
	}
	return n
}

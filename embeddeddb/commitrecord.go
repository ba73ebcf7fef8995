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

// recordJob is a commit record being encoded off the lock. Jobs form a
// chain: each queues its record after the one before it (prev). The
// chain is settled (settleRecordLocked) before a durable record is
// appended and before anything reads dbState.lastSeq, so that records
// keep commit order and a durable commit's wait covers every commit
// before it.
type recordJob struct {
	done chan struct{}
	// seq is the sequence number of the last record queued by this job
	// or the jobs before it, 0 if none; set before done closes.
	seq uint64
}

// appendRecordLocked encodes commit's record and queues it on d's file.
// A durable commit's record is queued before it returns, with d.lastSeq
// its sequence number; a large non-durable one is left to a goroutine,
// and so is any non-durable one while such a goroutine still runs (it
// must queue after it, and waiting for it would hold up every client of
// the event loop). A quiet record does not wake the file's writer
// goroutine (see commitLocked). d.mu is held and d.file is not nil.
func (d *dbState) appendRecordLocked(commit *database.Commit, durable, quiet bool) {
	if j := d.recording; j != nil {
		select {
		case <-j.done:
			d.settleRecordLocked()
		default:
			if durable {
				d.settleRecordLocked()
			}
		}
	}
	date := time.Now().UnixMilli()
	if !durable && (d.recording != nil || changedRows(commit) >= asyncRecordMin) {
		var buf []byte
		var before func()
		if d.recording == nil {
			buf = d.recBuf // sized by the caller from the request, if it knew it
			d.recBuf = nil
			before = d.beforeRecord
		}
		j := &recordJob{done: make(chan struct{})}
		go d.routineRecord(j, d.recording, commit, buf, date, before)
		d.recording = j
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

// routineRecord encodes one commit's record and queues it after prev's.
// Committed rows are never modified (a transaction copies a row before
// changing it), so the commit may be read without the lock while later
// transactions run; only the file's order needs the lock holder to wait
// for the chain (settleRecordLocked).
func (d *dbState) routineRecord(j, prev *recordJob, commit *database.Commit, buf []byte, date int64, before func()) {
	defer close(j.done)
	if before != nil {
		before()
	}
	rec := commit.AppendRecord(buf[:0], date)
	if prev != nil {
		<-prev.done
		j.seq = prev.seq
	}
	if len(rec) > 0 {
		j.seq = d.file.Append(rec, false)
	}
}

// settleRecordLocked waits for the records being encoded off the lock,
// if any, and takes the last one's sequence number. d.mu is held.
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

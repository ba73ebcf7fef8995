package embeddeddb

import (
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/valyala/fastjson"
)

// waitingTxn is a transaction blocked in a "wait" operation.
type waitingTxn struct {
	c       *conn
	id      []byte
	raw     []byte // the whole request message
	rawOps  bool   // handleRawTransact took it: its params are plain
	arrived time.Time
	timer   *time.Timer
}

func (c *conn) transact(req *request) {
	d := req.db
	if d == nil {
		var ok bool
		if d, ok = c.dbParam(req); !ok {
			return
		}
	}
	var start time.Time
	if len(req.rawOps) >= largeTxnOps {
		start = time.Now()
	}
	d.mu.Lock()
	var res database.Result
	if req.db != nil {
		res = d.db.TransactRaw(req.rawOps, c, 0)
	} else {
		res = d.db.Transact(req.params[1:], c, 0)
	}
	if !start.IsZero() {
		defer c.logLarge(d, req, res, start, time.Now())
	}
	if res.Blocked {
		d.block(c, req, res.WaitMs)
		d.mu.Unlock()
		return
	}
	if res.Commit != nil && d.file != nil && cap(d.recBuf) < len(req.raw) {
		// The record is about as long as the request: growing a buffer
		// of tens of MB by doubling costs as much as writing it.
		d.recBuf = make([]byte, 0, len(req.raw)+len(req.raw)/8)
	}
	// The event loop writes its clients' non-durable records itself
	// (evLoop.writeLater): no writer goroutine wakes per batch.
	quiet := c.ev != nil && !res.Durable && res.Commit != nil && d.file != nil
	seq := d.commitLocked(res.Commit, res.Durable, quiet)
	d.mu.Unlock()
	if quiet {
		c.ev.writeLater(d)
	}
	if c.ev != nil && res.Durable && d.file != nil {
		// The loop syncs once for all the durable commits it makes in
		// one iteration, then answers them.
		c.ev.holdReply(d, req.id, res, seq)
		return
	}
	c.finishTransact(d, req.id, res, seq)
}

// largeTxnOps is the operation count from which a transaction's timing
// is logged at info level: bulk loads (northd's first write of a large
// SB, a big NB batch) are rare, and each is worth a line.
const largeTxnOps = 4096

// logLarge logs a large transaction's timing: executing it (parsing,
// checking, applying) from start to executed, then committing it
// (queueing its record, sending the monitor updates) and queueing the
// reply, or holding it for the disk if durable.
func (c *conn) logLarge(d *dbState, req *request, res database.Result, start, executed time.Time) {
	c.log.Info("large transaction", "db", d.name, "ops", len(req.rawOps), "bytes", len(req.raw),
		"committed", res.Commit != nil, "durable", res.Durable, "blocked", res.Blocked,
		"execute", executed.Sub(start), "commit_and_reply", time.Since(executed))
}

// finishTransact waits for durability when asked and sends the reply.
func (c *conn) finishTransact(d *dbState, id []byte, res database.Result, seq uint64) {
	var err error
	if d.file != nil && res.Durable {
		err = d.file.WaitTimeout(seq, time.Minute)
	}
	c.answerDurable(d, id, res, err)
}

// answerDurable sends a transaction's reply, or, when its durable commit
// could not be written (err), an I/O error in its place.
func (c *conn) answerDurable(d *dbState, id []byte, res database.Result, err error) {
	if err != nil {
		c.log.Error("durable commit failed", "db", d.name, "err", err)
		c.send(appendReply(nil, id, (&database.Error{Tag: database.TagIO, Details: err.Error()}).AppendJSON([]byte("["))))
		return
	}
	c.replyDirect(id, res.Reply)
}

// commitLocked stores and publishes a commit. It returns the log sequence
// number to wait on for durability. A quiet commit's record does not
// wake the file's writer goroutine: the caller sees that it is written
// (ovsdbfile.Log.AppendQuiet). d.mu must be held.
func (d *dbState) commitLocked(commit *database.Commit, durable, quiet bool) uint64 {
	if commit == nil {
		if durable && d.file != nil {
			d.settleRecordLocked()
			return d.lastSeq
		}
		return 0
	}
	if d.file != nil {
		d.appendRecordLocked(commit, durable, quiet)
	}
	d.publishLocked(commit)
	d.retryWaitingLocked()
	if d.onCommit != nil {
		d.onCommit(commit)
	}
	return d.lastSeq
}

// maxKeptRecBuf is the largest record buffer kept between commits.
const maxKeptRecBuf = 1 << 20

func (d *dbState) block(c *conn, req *request, waitMs int64) {
	raw := make([]byte, len(req.raw))
	copy(raw, req.raw)
	w := &waitingTxn{c: c, id: append([]byte(nil), req.id...), raw: raw, rawOps: req.db != nil, arrived: time.Now()}
	if waitMs >= 0 {
		w.timer = time.AfterFunc(time.Duration(waitMs)*time.Millisecond, func() {
			d.mu.Lock()
			d.retryWaitingLocked()
			d.mu.Unlock()
		})
	}
	d.waiting = append(d.waiting, w)
}

// retryWaitingLocked re-runs blocked transactions; those that complete or
// time out are answered.
func (d *dbState) retryWaitingLocked() {
	for progress := true; progress && len(d.waiting) > 0; {
		progress = false
		pending := d.waiting
		d.waiting = nil
		for i, w := range pending {
			res, err := d.rerun(w)
			if err != nil {
				continue
			}
			if res.Blocked {
				d.waiting = append(d.waiting, w)
				continue
			}
			if w.timer != nil {
				w.timer.Stop()
			}
			seq := uint64(0)
			if res.Commit != nil {
				// Later waiters must see this commit: requeue them and start over.
				d.waiting = append(d.waiting, pending[i+1:]...)
				seq = d.commitNoRetryLocked(res.Commit, res.Durable)
				progress = true
			}
			go w.c.finishTransact(d, w.id, res, seq)
			if progress {
				break
			}
		}
	}
}

// rerun runs a blocked transaction again. d.mu must be held.
func (d *dbState) rerun(w *waitingTxn) (database.Result, error) {
	elapsed := time.Since(w.arrived).Milliseconds()
	if w.rawOps {
		ops, err := rawParams(w.raw)
		if err != nil {
			return database.Result{}, err
		}
		return d.db.TransactRaw(ops, w.c, elapsed), nil
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(w.raw)
	if err != nil {
		return database.Result{}, err
	}
	return d.db.Transact(v.GetArray("params")[1:], w.c, elapsed), nil
}

func (d *dbState) commitNoRetryLocked(commit *database.Commit, durable bool) uint64 {
	if d.file != nil {
		d.settleRecordLocked()
		if rec := commit.AppendRecord(nil, time.Now().UnixMilli()); len(rec) > 0 {
			d.lastSeq = d.file.Append(rec, durable)
		}
	}
	d.publishLocked(commit)
	if d.onCommit != nil {
		d.onCommit(commit)
	}
	return d.lastSeq
}

// cancel answers a blocked transaction with a "canceled" error.
func (c *conn) cancel(req *request) {
	if len(req.params) != 1 {
		return
	}
	id := req.params[0].MarshalTo(nil)
	for _, d := range c.srv.dbs {
		d.mu.Lock()
		for i, w := range d.waiting {
			if w.c == c && string(w.id) == string(id) {
				if w.timer != nil {
					w.timer.Stop()
				}
				d.waiting = append(d.waiting[:i], d.waiting[i+1:]...)
				c.replyError(w.id, "canceled", "transaction canceled by request")
				break
			}
		}
		d.mu.Unlock()
	}
}

// dropWaitingLocked forgets the blocked transactions of a closed client.
func (d *dbState) dropWaitingLocked(c *conn) {
	kept := d.waiting[:0]
	for _, w := range d.waiting {
		if w.c == c {
			if w.timer != nil {
				w.timer.Stop()
			}
			continue
		}
		kept = append(kept, w)
	}
	d.waiting = kept
}

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
	arrived time.Time
	timer   *time.Timer
}

func (c *conn) transact(req *request) {
	d, ok := c.dbParam(req)
	if !ok {
		return
	}
	d.mu.Lock()
	res := d.db.Transact(req.params[1:], c, 0)
	if res.Blocked {
		d.block(c, req, res.WaitMs)
		d.mu.Unlock()
		return
	}
	seq := d.commitLocked(res.Commit, res.Durable)
	d.mu.Unlock()
	if c.ev != nil && res.Durable && d.file != nil {
		// The loop syncs once for all the durable commits it makes in
		// one iteration, then answers them.
		c.ev.holdReply(d, req.id, res, seq)
		return
	}
	c.finishTransact(d, req.id, res, seq)
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
// number to wait on for durability. d.mu must be held.
func (d *dbState) commitLocked(commit *database.Commit, durable bool) uint64 {
	if commit == nil {
		if durable && d.file != nil {
			return d.lastSeq
		}
		return 0
	}
	if d.file != nil {
		d.recBuf = commit.AppendRecord(d.recBuf[:0], time.Now().UnixMilli())
		if len(d.recBuf) > 0 {
			// Append copies the record into its queue before returning.
			d.lastSeq = d.file.Append(d.recBuf, durable)
		}
	}
	d.publishLocked(commit)
	d.retryWaitingLocked()
	if d.onCommit != nil {
		d.onCommit(commit)
	}
	return d.lastSeq
}

func (d *dbState) block(c *conn, req *request, waitMs int64) {
	raw := make([]byte, len(req.raw))
	copy(raw, req.raw)
	w := &waitingTxn{c: c, id: append([]byte(nil), req.id...), raw: raw, arrived: time.Now()}
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
			var p fastjson.Parser
			v, err := p.ParseBytes(w.raw)
			if err != nil {
				continue
			}
			params := v.GetArray("params")
			res := d.db.Transact(params[1:], w.c, time.Since(w.arrived).Milliseconds())
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

func (d *dbState) commitNoRetryLocked(commit *database.Commit, durable bool) uint64 {
	if d.file != nil {
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

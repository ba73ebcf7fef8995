package northd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// lockName is the SB lock that makes one ovn-northd (or ovnd northd) the
// active one; the others stand by.
const lockName = "ovn_northd"

// sbLock holds the ovn_northd lock on its own JSON-RPC session to SB,
// since the libovsdb client has no lock support, and northd's SB writes
// go through that session too (transact), each asserting the lock as
// ovn-northd's do: a northd that lost the lock cannot write. RoutineLock
// reconnects and asks again whenever the session drops.
type sbLock struct {
	remotes []string
	changed func()
	log     *slog.Logger // nil discards

	mu   sync.Mutex // guards held
	held bool

	// wmu guards the session's writing side: conn and w are nil
	// without a session; every message goes out whole under it.
	wmu  sync.Mutex
	conn net.Conn
	w    *bufio.Writer
	// pmu guards the transactions waiting for their reply, by id.
	pmu     sync.Mutex
	pending map[string]chan *rpc
	next    int
}

// Held reports whether this process holds the lock now.
func (l *sbLock) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

func (l *sbLock) set(held bool) {
	l.mu.Lock()
	was := l.held
	l.held = held
	l.mu.Unlock()
	if was != held {
		l.changed()
	}
}

// lockable keeps the remotes the lock session can dial (unix: and tcp:).
func lockable(remotes []string) []string {
	var out []string
	for _, r := range remotes {
		if strings.HasPrefix(r, "unix:") || strings.HasPrefix(r, "tcp:") {
			out = append(out, r)
		}
	}
	return out
}

// RoutineLock keeps a session with the lock requested until ctx ends.
// Without a remote it can dial, it holds the lock unconditionally: this
// northd then has no standby protection, which Serve logs.
func (l *sbLock) RoutineLock(ctx context.Context) {
	if len(l.remotes) == 0 {
		l.set(true)
		<-ctx.Done()
		return
	}
	for i := 0; ctx.Err() == nil; i++ {
		err := l.session(ctx, l.remotes[i%len(l.remotes)])
		l.set(false)
		if ctx.Err() == nil && err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// rpc is a JSON-RPC 1.0 message as OVSDB uses it (RFC 7047 §4).
type rpc struct {
	ID     any               `json:"id"`
	Method string            `json:"method,omitempty"`
	Params []json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage   `json:"result,omitempty"`
	Error  any               `json:"error,omitempty"`
}

// dialSession dials remote (unix: or tcp:) for a session of northd's
// own, what naming it in errors; the connection closes when ctx ends or
// the caller calls done.
func dialSession(ctx context.Context, remote, what string) (conn net.Conn, done func(), err error) {
	network, addr, ok := strings.Cut(remote, ":")
	if !ok || (network != "unix" && network != "tcp") {
		return nil, nil, fmt.Errorf("%s on %q: only unix: and tcp: remotes are supported", what, remote)
	}
	var d net.Dialer
	if conn, err = d.DialContext(ctx, network, addr); err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, func() { stop(); conn.Close() }, nil
}

// session dials remote, requests the lock and follows the server's
// notifications and replies until the connection or ctx ends.
func (l *sbLock) session(ctx context.Context, remote string) error {
	conn, done, err := dialSession(ctx, remote, "lock")
	if err != nil {
		return err
	}
	defer done()
	l.wmu.Lock()
	l.conn, l.w = conn, bufio.NewWriterSize(conn, 64<<10)
	l.wmu.Unlock()
	defer l.endSession()
	if err := l.send(map[string]any{"id": "lock", "method": "lock", "params": []string{lockName}}); err != nil {
		return err
	}
	sp := ovsjson.NewSplitter(conn, maxSessionMessage)
	for {
		msg, err := sp.Next()
		if err != nil {
			return err
		}
		m, err := parseRPC(msg)
		if err != nil {
			return fmt.Errorf("lock session: %w", err)
		}
		// The splitter's buffer grew to the largest message (a bulk
		// reply, MBs): let it go.
		sp.Shrink()
		if err := l.handle(m); err != nil {
			return err
		}
	}
}

// maxSessionMessage bounds a message on the lock session: the reply to
// a bulk write is a few MB.
const maxSessionMessage = 1 << 30

// parseRPC reads one JSON-RPC message as json.Unmarshal into rpc does
// (member names matched exactly), without encoding/json's second pass
// over a bulk reply's MBs. Params and Result are copied out of msg.
func parseRPC(msg []byte) (*rpc, error) {
	members, err := ovsjson.Members(msg, nil)
	if err != nil {
		return nil, err
	}
	m := &rpc{}
	for _, mb := range members {
		switch string(mb.Key) {
		case "id":
			err = json.Unmarshal(mb.Value, &m.ID)
		case "method":
			err = json.Unmarshal(mb.Value, &m.Method)
		case "error":
			err = json.Unmarshal(mb.Value, &m.Error)
		case "result":
			m.Result = bytes.Clone(mb.Value)
		case "params":
			m.Params, err = rawElements(mb.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mb.Key, err)
		}
	}
	return m, nil
}

// rawElements is a JSON array's elements, copied; nil for null.
func rawElements(v []byte) ([]json.RawMessage, error) {
	if string(v) == "null" {
		return nil, nil
	}
	elems, err := ovsjson.Elements(v, nil)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(elems))
	for i, e := range elems {
		out[i] = bytes.Clone(e)
	}
	return out, nil
}

// endSession forgets the session's writer and fails the transactions
// still waiting for a reply from it.
func (l *sbLock) endSession() {
	l.wmu.Lock()
	l.conn, l.w = nil, nil
	l.wmu.Unlock()
	l.pmu.Lock()
	for id, ch := range l.pending {
		close(ch)
		delete(l.pending, id)
	}
	l.pmu.Unlock()
}

// writer is the session's writer, nil while there is no session.
func (l *sbLock) writer() *bufio.Writer {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	return l.w
}

// send writes one message on the session.
func (l *sbLock) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.w == nil {
		return errNoSession
	}
	l.w.Write(b)
	return l.w.Flush()
}

// errNoSession is returned by transact while the lock session is down.
var errNoSession = errors.New("no session to the sb lock")

// handle acts on one message: the lock reply, locked/stolen
// notifications, the server's echo probes and transaction replies.
func (l *sbLock) handle(m *rpc) error {
	switch {
	case m.Method == "echo":
		return l.send(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
	case m.Method == "locked":
		l.set(true)
	case m.Method == "stolen":
		l.set(false)
	case m.ID == "lock" && m.Error != nil:
		return fmt.Errorf("lock %s: %v", lockName, m.Error)
	case m.ID == "lock":
		var r struct{ Locked bool }
		if err := json.Unmarshal(m.Result, &r); err != nil {
			return errors.New("lock reply without locked")
		}
		if !r.Locked && l.log != nil {
			l.log.Info("another northd holds the " + lockName + " lock; standing by")
		}
		l.set(r.Locked)
	default:
		if id, ok := m.ID.(string); ok {
			l.pmu.Lock()
			ch := l.pending[id]
			delete(l.pending, id)
			l.pmu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}
	return nil
}

// transact runs txn on db as one transaction on the lock session,
// behind an assert of the lock, and returns the operations' results.
// The request is encoded straight onto the connection, continuing the
// stream txn's planning started (streamTo) if it did; txn's encoded
// rows are dropped once sent (its heads still describe the
// operations).
func (l *sbLock) transact(ctx context.Context, db string, txn *sbTxn) ([]ovsdb.OperationResult, error) {
	s := txn.stream
	if s == nil {
		if txn.sent {
			return nil, errors.New("transaction already sent")
		}
		var err error
		if s, err = l.begin(db); err != nil {
			return nil, err
		}
	}
	txn.stream = nil
	s.ops(txn)
	if err := s.end(false); err != nil {
		return nil, err
	}
	txn.dropEncoded()
	txn.times.sent = time.Now()
	var m *rpc
	select {
	case <-ctx.Done():
		l.forget(s.id)
		return nil, ctx.Err()
	case m = <-s.ch:
	}
	txn.times.replied = time.Now()
	if m == nil {
		return nil, fmt.Errorf("sb session closed before the transaction's reply")
	}
	if m.Error != nil {
		return nil, fmt.Errorf("transact: %v", m.Error)
	}
	res, err := decodeResults(m.Result)
	txn.times.decoded = time.Now()
	if err != nil {
		return nil, fmt.Errorf("transact reply: %w", err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("transact reply without results")
	}
	if res[0].Error != "" {
		return nil, fmt.Errorf("assert %s lock: %s: %s", lockName, res[0].Error, res[0].Details)
	}
	return res[1:], nil
}

// txnStream writes one transact request on the lock session. It holds
// the session's writer from begin to end, so that a transaction can go
// out while it is being planned: the database reads and frames a bulk
// request of some 14 MB while northd plans the rest of it, instead of
// after.
type txnStream struct {
	l   *sbLock
	id  string
	ch  chan *rpc // the reply
	b   []byte
	n   int // the operations written so far
	err error
}

// begin starts a transact request on db with the lock's assert; end
// must follow.
func (l *sbLock) begin(db string) (*txnStream, error) {
	l.wmu.Lock()
	if l.w == nil {
		l.wmu.Unlock()
		return nil, errNoSession
	}
	s := &txnStream{l: l, ch: make(chan *rpc, 1), b: make([]byte, 0, 64<<10)}
	l.pmu.Lock()
	l.next++
	s.id = "txn" + strconv.Itoa(l.next)
	if l.pending == nil {
		l.pending = map[string]chan *rpc{}
	}
	l.pending[s.id] = s.ch
	l.pmu.Unlock()
	s.b = append(s.b, `{"id":`...)
	s.b = ovsjson.AppendString(s.b, s.id)
	s.b = append(s.b, `,"method":"transact","params":[`...)
	s.b = ovsjson.AppendString(s.b, db)
	s.b = append(s.b, `,{"op":"assert","lock":`...)
	s.b = ovsjson.AppendString(s.b, lockName)
	s.b = append(s.b, '}')
	return s, nil
}

// ops writes txn's operations not yet written, and lets txn drop their
// bodies.
func (s *txnStream) ops(txn *sbTxn) {
	for ; s.n < txn.len() && s.err == nil; s.n++ {
		s.b = append(s.b, ',')
		if s.b, s.err = txn.appendTo(s.b, s.n); s.err != nil {
			break
		}
		txn.written(s.n)
		if len(s.b) >= 32<<10 {
			s.write()
		}
	}
}

func (s *txnStream) write() {
	if s.err == nil {
		_, s.err = s.l.w.Write(s.b)
	}
	s.b = s.b[:0]
}

// end closes the request and releases the session's writer. With
// abort, the request ends with an abort operation: nothing of it
// commits, and its reply is not waited for. A failure part way leaves
// the stream unusable, so it closes the connection (the session
// restarts).
func (s *txnStream) end(abort bool) error {
	if abort {
		s.b = append(s.b, `,{"op":"abort"}`...)
	}
	s.b = append(s.b, "]}"...)
	s.write()
	if s.err == nil {
		s.err = s.l.w.Flush()
	}
	if s.err != nil {
		s.l.conn.Close()
	}
	s.l.wmu.Unlock()
	if s.err != nil || abort {
		s.l.forget(s.id)
	}
	if s.err != nil {
		return fmt.Errorf("send transaction: %w", s.err)
	}
	return nil
}

func (l *sbLock) forget(id string) {
	l.pmu.Lock()
	delete(l.pending, id)
	l.pmu.Unlock()
}

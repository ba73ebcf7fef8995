package sbreplica

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

const (
	minBackoff  = 250 * time.Millisecond
	maxBackoff  = 8 * time.Second
	dialTimeout = 10 * time.Second
	monitorID   = "sbreplica"
	zeroUUID    = "00000000-0000-0000-0000-000000000000"
)

// Run connects to remote (a comma list of unix:/tcp:/ssl: endpoints, as
// ovn-remote), monitors with monitor_cond_since (falling back to
// monitor_cond / monitor against a server without it), applies every
// update, and reconnects with backoff (250 ms up to 8 s) until ctx
// ends; after a reconnect it resumes from the last transaction id so a
// server that still has it sends only the difference. probe > 0 sends
// echo after that much silence and drops a connection that does not
// answer (the controller's ovn-remote-probe-interval). tlsConfig is
// used for ssl: endpoints. notify is called (it must not block) after
// each applied update or state change. Run returns ctx.Err(). Only one
// Run may be active on a Replica at a time.
func (r *Replica) Run(ctx context.Context, remote string, tlsConfig *tls.Config, probe time.Duration, notify func()) error {
	if notify == nil {
		notify = func() {}
	}
	var eps []string
	for _, ep := range strings.Split(remote, ",") {
		if ep = strings.TrimSpace(ep); ep != "" {
			eps = append(eps, ep)
		}
	}
	backoff := minBackoff
	for i := 0; ctx.Err() == nil; i++ {
		if len(eps) == 0 {
			r.log.Error("no remote to connect to", "remote", remote)
			<-ctx.Done()
			break
		}
		ep := eps[i%len(eps)]
		s := &session{r: r, ep: ep, probe: probe, notify: notify}
		r.sessMu.Lock()
		r.sess = s
		r.sessMu.Unlock()
		err := s.run(ctx, tlsConfig)
		r.sessMu.Lock()
		partial := s.inFlight != 0 || len(s.toAsk) > 0
		r.sess = nil
		r.sessMu.Unlock()
		if partial {
			// The last transaction id stands for the parts that came,
			// not for the whole tables: a resumption would miss the rest.
			r.lastTxn = ""
		}
		r.synced.Store(false)
		if r.connected.Swap(false) {
			notify()
		}
		if ctx.Err() != nil {
			break
		}
		var bad *badInputError
		switch {
		case errors.As(err, &bad):
			// The copy may be fine, but the server might send the same
			// thing again on a resumption: start over.
			r.lastTxn = ""
			r.log.Error("bad input from server; reconnecting to resync in full", "remote", ep, "err", err)
		case s.synced:
			r.log.Info("connection lost", "remote", ep, "err", err)
		default:
			r.log.Warn("connection failed", "remote", ep, "err", err)
		}
		if s.synced {
			backoff = minBackoff
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
	return ctx.Err()
}

// badInputError is a message from the server that ovnd cannot accept:
// not JSON, or not the OVSDB protocol, or an update that does not fit
// the schema or the replica.
type badInputError struct{ err error }

func (e *badInputError) Error() string { return e.err.Error() }
func (e *badInputError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return &badInputError{fmt.Errorf(format, args...)}
}

// session is one connection to one endpoint.
type session struct {
	r      *Replica
	ep     string
	probe  time.Duration
	notify func()
	conn   net.Conn
	sp     *ovsjson.Splitter
	nextID int
	echoed bool // an echo of ours is unanswered
	synced bool // the initial reply was applied
	// A load in parts: the conditions of the steps not asked for yet,
	// and the id of the monitor_cond_change asked for and not answered
	// (0: none). Guarded by r.sessMu: TakeChanges asks (askNext).
	toAsk    []map[string][]any
	inFlight int
	askedAt  time.Time // when inFlight was asked for
	// partDone is r.commits once the last part asked for was in: the
	// next is asked for once the replica's user has taken the changes
	// up to there (r.taken), so that the server builds it while the
	// user works on the one before, and has time for other clients'
	// requests while the user is busy elsewhere.
	partDone int64
	// loadStart is when the monitor request went out (for the log).
	loadStart time.Time
}

func (s *session) run(ctx context.Context, tlsConfig *tls.Config) error {
	conn, err := dial(ctx, s.ep, tlsConfig)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	s.conn = conn
	s.sp = newSplitter(readerFunc(s.readConn))
	cols, has, err := s.serverColumns()
	if err != nil {
		return err
	}
	if err := s.monitor(cols, has); err != nil {
		return err
	}
	s.synced = true
	s.r.connected.Store(true)
	s.r.sessMu.Lock()
	parts := len(s.toAsk)
	s.r.sessMu.Unlock()
	if parts == 0 {
		s.r.synced.Store(true)
		s.r.log.Info("replica in sync", "remote", s.ep)
	} else {
		s.r.log.Info("replica connected; the rest comes in parts", "remote", s.ep, "parts", parts)
	}
	s.notify()
	for {
		m, err := s.receive()
		if err != nil {
			return err
		}
		if m.method == nil && !isNull(m.id) {
			if err := s.partReply(m); err != nil {
				return err
			}
			continue
		}
		t0 := time.Now()
		if err := s.handleNotification(m); err != nil {
			return err
		}
		s.r.sessMu.Lock()
		loading, asked := s.inFlight != 0, s.askedAt
		s.r.sessMu.Unlock()
		if loading {
			// wait: from the request (the server builds the part) to
			// the whole message in.
			s.r.log.Debug("update during a load in parts", "bytes", len(m.params),
				"wait", t0.Sub(asked).Round(time.Millisecond), "decode", time.Since(t0).Round(time.Millisecond))
		}
	}
}

// askNextLocked asks for the next part of a load in parts, unless one
// is asked for and not answered yet, none is left, or the user has not
// taken the changes of the last one yet. r.sessMu is held.
func (s *session) askNextLocked() {
	if s.inFlight != 0 || len(s.toAsk) == 0 || s.r.taken.Load() < s.partDone {
		return
	}
	reqs := map[string][]map[string]any{}
	for t, w := range s.toAsk[0] {
		reqs[t] = []map[string]any{{"where": w}}
	}
	id, err := s.callLocked("monitor_cond_change", monitorID, monitorID, reqs)
	if err != nil {
		// The session's reads fail too, and it reconnects.
		s.r.log.Debug("asking for the next part failed", "err", err)
		s.conn.Close()
		return
	}
	s.inFlight, s.toAsk, s.askedAt = id, s.toAsk[1:], time.Now()
}

// partReply handles a reply outside wait: that of the monitor_cond_change
// of a load in parts (after the update that brought its rows), or a
// late one to an echo. The last part's makes the replica Synced.
func (s *session) partReply(m message) error {
	s.r.sessMu.Lock()
	defer s.r.sessMu.Unlock()
	if s.inFlight == 0 || string(m.id) != strconv.Itoa(s.inFlight) {
		return nil // a late echo reply
	}
	if !isNull(m.err) {
		// Without the condition change, the monitor cannot widen to the
		// rest: start over, in one step.
		s.r.oneStep = true
		return fmt.Errorf("server refused monitor_cond_change (%s); loading in one step from now on", rpcError(m.err))
	}
	s.inFlight, s.partDone = 0, s.r.commits.Load()
	if len(s.toAsk) == 0 {
		s.r.synced.Store(true)
		s.r.log.Info("replica in sync", "remote", s.ep, "load", time.Since(s.loadStart).Round(time.Millisecond))
		s.notify()
		return nil
	}
	s.askNextLocked()
	return nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// readConn reads with the probe deadline renewed on every read, so only
// silence (not a long message) counts.
func (s *session) readConn(b []byte) (int, error) {
	if s.probe > 0 {
		s.conn.SetReadDeadline(time.Now().Add(s.probe))
	}
	return s.conn.Read(b)
}

// dial opens one endpoint: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT.
func dial(ctx context.Context, ep string, tlsConfig *tls.Config) (net.Conn, error) {
	kind, addr, ok := strings.Cut(ep, ":")
	if !ok {
		return nil, fmt.Errorf("remote %q: want unix:, tcp: or ssl:", ep)
	}
	d := net.Dialer{Timeout: dialTimeout}
	switch kind {
	case "unix":
		return d.DialContext(ctx, "unix", addr)
	case "tcp", "ssl":
		addr = hostPort(addr)
		if kind == "tcp" {
			return d.DialContext(ctx, "tcp", addr)
		}
		if tlsConfig == nil {
			return nil, fmt.Errorf("remote %q: ssl needs a TLS configuration", ep)
		}
		td := tls.Dialer{NetDialer: &d, Config: tlsConfig}
		return td.DialContext(ctx, "tcp", addr)
	}
	return nil, fmt.Errorf("remote %q: want unix:, tcp: or ssl:", ep)
}

// hostPort turns OVS's HOST[:PORT] (IPv6 in brackets) into Go's form,
// with OVSDB's port 6640 when none is given.
func hostPort(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if i := strings.Index(addr, "]"); i >= 0 && i == len(addr)-1 {
			return addr + ":6640"
		}
		return addr
	}
	if strings.Count(addr, ":") == 0 {
		return net.JoinHostPort(addr, "6640")
	}
	return addr
}

// send writes one JSON-RPC message; r.sessMu is held.
func (s *session) send(msg []byte) error {
	d := s.probe
	if d <= 0 {
		d = 30 * time.Second
	}
	s.conn.SetWriteDeadline(time.Now().Add(d))
	_, err := s.conn.Write(msg)
	return err
}

// call sends a request and returns its id.
func (s *session) call(method string, params ...any) (int, error) {
	s.r.sessMu.Lock()
	defer s.r.sessMu.Unlock()
	return s.callLocked(method, params...)
}

// callLocked is call with r.sessMu held.
func (s *session) callLocked(method string, params ...any) (int, error) {
	s.nextID++
	if params == nil {
		params = []any{} // ovsdb-server drops a request with null params
	}
	b, err := json.Marshal(struct {
		ID     int    `json:"id"`
		Method string `json:"method"`
		Params []any  `json:"params"`
	}{s.nextID, method, params})
	if err != nil {
		return 0, err
	}
	return s.nextID, s.send(b)
}

// receive returns the next message, answering the server's echoes and
// probing a silent server on the way.
func (s *session) receive() (message, error) {
	for {
		s.sp.Shrink() // the previous message is consumed
		b, err := s.sp.Next()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && s.probe > 0 {
			if s.echoed {
				return message{}, fmt.Errorf("no answer to echo in %v", s.probe)
			}
			s.echoed = true
			if _, err := s.call("echo"); err != nil {
				return message{}, fmt.Errorf("send echo: %w", err)
			}
			continue
		}
		if errors.Is(err, ovsjson.ErrSyntax) || errors.Is(err, ovsjson.ErrTooDeep) {
			return message{}, badInput("bad JSON-RPC message: %w", err)
		}
		if err != nil {
			return message{}, err
		}
		s.echoed = false
		m, err := parseMessage(b)
		if err != nil {
			return message{}, badInput("bad JSON-RPC message: %w", err)
		}
		if m.methodName() == "echo" && !isNull(m.id) {
			if err := s.replyEcho(m); err != nil {
				return message{}, err
			}
			continue
		}
		return m, nil
	}
}

func (s *session) replyEcho(m message) error {
	msg := append([]byte(`{"id":`), m.id...)
	msg = append(msg, `,"result":`...)
	if m.params != nil {
		msg = append(msg, m.params...)
	} else {
		msg = append(msg, "[]"...)
	}
	msg = append(msg, `,"error":null}`...)
	s.r.sessMu.Lock()
	defer s.r.sessMu.Unlock()
	return s.send(msg)
}

// wait returns the raw result of request id, or the error the server
// gave; notifications that arrive first are handled. The result is
// valid until the next receive.
func (s *session) wait(id int) (result []byte, rpcErr string, err error) {
	want := strconv.Itoa(id)
	for {
		m, err := s.receive()
		if err != nil {
			return nil, "", err
		}
		if m.method != nil || isNull(m.id) {
			if err := s.handleNotification(m); err != nil {
				return nil, "", err
			}
			continue
		}
		if string(m.id) != want {
			continue // a late echo reply
		}
		if !isNull(m.err) {
			return nil, rpcError(m.err), nil
		}
		if m.result == nil {
			return nil, "", badInput("reply without result")
		}
		return m.result, "", nil
	}
}

// rpcError renders a JSON-RPC error: {"error": "...", "details": ...}
// gives its "error" string.
func rpcError(raw []byte) string {
	var p fastjson.Parser
	v, err := p.ParseBytes(raw)
	if err != nil {
		return string(raw)
	}
	if e := v.GetStringBytes("error"); e != nil {
		return string(e)
	}
	if e, err := v.StringBytes(); err == nil {
		return string(e)
	}
	return string(raw)
}

// serverColumns asks the server for its schema and returns, per
// replicated table the server has, the columns both sides know, and
// every column the server has.
func (s *session) serverColumns() (map[string][]string, map[string]map[string]bool, error) {
	id, err := s.call("get_schema", s.r.dbName)
	if err != nil {
		return nil, nil, err
	}
	raw, rpcErr, err := s.wait(id)
	if err != nil {
		return nil, nil, err
	}
	if rpcErr != "" {
		return nil, nil, fmt.Errorf("get_schema %s: %s", s.r.dbName, rpcErr)
	}
	var p fastjson.Parser
	res, err := p.ParseBytes(raw)
	if err != nil {
		return nil, nil, badInput("get_schema reply: %w", err)
	}
	out, has := map[string][]string{}, map[string]map[string]bool{}
	for _, name := range s.r.order {
		tc := s.r.tables[name].codec
		cols := res.Get("tables", name, "columns")
		if cols == nil {
			s.r.log.Warn("server has no table; it stays empty", "table", name)
			continue
		}
		has[name] = map[string]bool{}
		if o, err := cols.Object(); err == nil {
			o.Visit(func(k []byte, _ *fastjson.Value) { has[name][string(k)] = true })
		}
		want := []string{}
		for _, c := range tc.names {
			if cols.Get(c) != nil {
				want = append(want, c)
			} else {
				s.r.log.Warn("server has no column; it stays empty", "table", name, "column", c)
			}
		}
		out[name] = want
	}
	return out, has, nil
}

// monitor sends the monitor request, the newest kind the server knows,
// and applies its reply. A load in parts (see parts.go) asks with the
// first step's condition and leaves the further steps for askNext.
func (s *session) monitor(cols map[string][]string, has map[string]map[string]bool) error {
	var steps []map[string][]any
	if !s.r.oneStep {
		steps = s.r.steps(has)
	}
	last := s.r.lastTxn
	if last == "" {
		last = zeroUUID
	}
	for _, method := range []string{"monitor_cond_since", "monitor_cond", "monitor"} {
		// A resumption asks for the whole tables, as the replica had
		// them; only monitor_cond* know conditions.
		split := len(steps) > 1 && method != "monitor" && (method != "monitor_cond_since" || s.r.lastTxn == "")
		reqs := map[string][]map[string]any{}
		for t, c := range cols {
			req := map[string]any{"columns": c}
			if w, ok := steps0(steps, split)[t]; ok {
				req["where"] = w
			}
			reqs[t] = []map[string]any{req}
		}
		params := []any{s.r.dbName, monitorID, reqs}
		if method == "monitor_cond_since" {
			params = append(params, last)
		}
		s.loadStart = time.Now()
		id, err := s.call(method, params...)
		if err != nil {
			return err
		}
		res, rpcErr, err := s.wait(id)
		if err != nil {
			return err
		}
		if rpcErr != "" {
			s.r.log.Debug("monitor method refused", "method", method, "err", rpcErr)
			continue
		}
		t1 := time.Now()
		err = s.applyReply(method, res)
		s.r.log.Debug("monitor reply", "method", method, "bytes", len(res), "wait", t1.Sub(s.loadStart).Round(time.Millisecond),
			"decode", time.Since(t1).Round(time.Millisecond), "split", split)
		if err == nil && split {
			s.r.sessMu.Lock()
			s.toAsk, s.partDone = steps[1:], s.r.commits.Load()
			s.r.sessMu.Unlock()
		}
		return err
	}
	return errors.New("server refused monitor, monitor_cond and monitor_cond_since")
}

// steps0 returns the first step's conditions when the load is split.
func steps0(steps []map[string][]any, split bool) map[string][]any {
	if !split {
		return nil
	}
	return steps[0]
}

// applyReply applies a monitor reply.
func (s *session) applyReply(method string, res []byte) error {
	r := s.r
	switch method {
	case "monitor_cond_since":
		// [found, last-txn-id, updates], the updates decoded in place:
		// the initial reply is the one big message.
		var (
			found, resumed bool
			txn            []byte
			b              *batch
		)
		end, err := walkArray(res, skipSpace(res, 0), func(n, i int) (int, error) {
			j, err := skipValue(res, i)
			if err != nil {
				return 0, err
			}
			switch n {
			case 0:
				if found = string(res[i:j]) == "true"; !found && string(res[i:j]) != "false" {
					return 0, errors.New("found is not a boolean")
				}
			case 1:
				var ok bool
				if txn, ok = rawString(res[i:j]); !ok {
					return 0, errors.New("last-txn-id is not a string")
				}
			case 2:
				resumed = found && r.lastTxn != ""
				if !resumed {
					r.dec = newDecoder()
				}
				b, j, err = r.decodeUpdatesAt(res, i, updateV2, !resumed)
				return j, err
			default:
				return 0, errors.New("more than three members")
			}
			return j, nil
		})
		if err == nil {
			err = atEnd(res, end)
		}
		if err == nil && b == nil {
			err = errors.New("fewer than three members")
		}
		if err != nil {
			return badInput("monitor_cond_since reply [found, last-txn-id, updates]: %w", err)
		}
		r.commit(b)
		s.notify()
		r.lastTxn = string(txn)
		if resumed {
			r.log.Info("resumed", "remote", s.ep, "txn", r.lastTxn)
		}
		return nil
	case "monitor_cond":
		r.lastTxn = ""
		return s.apply(res, updateV2, true)
	default:
		r.lastTxn = ""
		return s.apply(res, updateV1, true)
	}
}

// apply decodes and commits one <table-updates>, or nothing of it.
func (s *session) apply(raw []byte, version int, full bool) error {
	r := s.r
	if full {
		r.dec = newDecoder()
	}
	b, err := r.decodeUpdates(raw, version, full)
	if err != nil {
		return &badInputError{err}
	}
	r.commit(b)
	s.notify()
	return nil
}

// handleNotification handles a message that is not a reply to our
// request: updates of our monitor, and monitor_canceled.
func (s *session) handleNotification(m message) error {
	method := m.methodName()
	switch method {
	case "update3", "update2", "update":
	case "monitor_canceled":
		return errors.New("server canceled the monitor")
	default:
		return nil
	}
	params, err := elements(m.params)
	if err != nil {
		return badInput("%s params: %w", method, err)
	}
	if len(params) == 0 {
		return badInput("%s without params", method)
	}
	if id, _ := rawString(params[0]); string(id) != monitorID {
		return nil
	}
	switch method {
	case "update3":
		if len(params) != 3 {
			return badInput("update3 params are not [id, last-txn-id, updates]")
		}
		txn, ok := rawString(params[1])
		if !ok {
			return badInput("update3: last-txn-id is not a string")
		}
		if err := s.apply(params[2], updateV2, false); err != nil {
			return err
		}
		s.r.lastTxn = string(txn)
		return nil
	default:
		if len(params) != 2 {
			return badInput("%s params are not [id, updates]", method)
		}
		version := updateV2
		if method == "update" {
			version = updateV1
		}
		return s.apply(params[1], version, false)
	}
}

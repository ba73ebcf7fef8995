package embeddeddb

import (
	"bytes"
	"fmt"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// request is one decoded JSON-RPC request. Its values live in the
// connection's parser and are valid only while it is being handled.
type request struct {
	id     []byte // raw JSON of the id
	method string
	params []*fastjson.Value
	raw    []byte // the whole message, for requests that must be re-run
	// db and rawOps are set instead of params for a transact request
	// taken apart by handleRawTransact: its operations as raw JSON.
	db     *dbState
	rawOps [][]byte
}

// The pieces of a reply around its id and result.
var (
	replyOpen  = []byte(`{"id":`)
	replyMid   = []byte(`,"result":`)
	replyClose = []byte(`,"error":null}`)
)

func appendReply(b, id, result []byte) []byte {
	if b == nil {
		b = make([]byte, 0, len(id)+len(result)+32)
	}
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = append(b, `,"result":`...)
	b = append(b, result...)
	return append(b, `,"error":null}`...)
}

func errorReply(id []byte, e *database.Error) []byte {
	b := append([]byte(`{"id":`), id...)
	b = append(b, `,"error":`...)
	b = e.AppendJSON(b)
	return append(b, '}')
}

// reply queues a reply; it is safe under any lock.
func (c *conn) reply(id, result []byte) { c.send(appendReply(nil, id, result)) }

// replyDirect writes a reply at once when nothing is queued. Only for
// callers that hold no lock: the write may block on a slow client.
func (c *conn) replyDirect(id, result []byte) {
	if c.ev != nil {
		// id and result are never modified after this: a part of the
		// reply the socket does not take is queued as it is.
		c.sendJoined(&c.joinBuf, replyOpen, id, replyMid, result, replyClose)
		return
	}
	c.sendDirect(appendReply(nil, id, result))
}

// replyParts queues a reply whose result is the concatenation of parts,
// which the caller must never modify afterwards; safe under any lock.
func (c *conn) replyParts(id []byte, result [][]byte) {
	msg := make([][]byte, 0, len(result)+4)
	msg = append(msg, replyOpen, id, replyMid)
	msg = append(msg, result...)
	c.sendParts(append(msg, replyClose)...)
}

func (c *conn) replyError(id []byte, tag, details string) {
	c.send(errorReply(id, &database.Error{Tag: tag, Details: details}))
}

// handle decodes and dispatches one message, as an ovsjson.Splitter
// returns it: one JSON value whose grammar the Splitter has checked. A
// returned error closes the connection.
func (c *conn) handle(msg []byte) error {
	if int64(len(msg)) >= c.srv.rawTransactMin.Load() {
		if done, err := c.handleRawTransact(msg); done {
			return err
		}
	}
	v, err := c.parser.ParseBytes(msg)
	if err == nil {
		err = validateParsed(v, msg)
	}
	if err != nil {
		// As ovsdb-server: no reply, the connection just closes.
		return fmt.Errorf("malformed JSON: %w", err)
	}
	obj, err := v.Object()
	if err != nil {
		return fmt.Errorf("message is not a JSON object")
	}
	idv := obj.Get("id")
	mv := obj.Get("method")
	if mv == nil {
		// A reply, e.g. to our echo; nothing to do.
		return nil
	}
	method, err := mv.StringBytes()
	if err != nil {
		return fmt.Errorf("method is not a string")
	}
	req := &request{method: methodName(method), raw: msg}
	if idv == nil {
		req.id = []byte("null")
	} else {
		req.id = idv.MarshalTo(nil)
	}
	if pv := obj.Get("params"); pv != nil {
		if req.params, err = pv.Array(); err != nil {
			return fmt.Errorf("%s request: params is not an array", req.method)
		}
	}
	if idv == nil || idv.Type() == fastjson.TypeNull {
		c.notification(req)
		return nil
	}
	c.dispatch(req)
	return nil
}

// methodName returns the method as a string, allocating only for names
// that are not OVSDB methods.
func methodName(b []byte) string {
	switch string(b) {
	case "transact":
		return "transact"
	case "echo":
		return "echo"
	case "monitor_cond_since":
		return "monitor_cond_since"
	case "monitor_cond":
		return "monitor_cond"
	case "monitor_cond_change":
		return "monitor_cond_change"
	case "get_schema":
		return "get_schema"
	case "list_dbs":
		return "list_dbs"
	}
	return string(b)
}

// notification handles a message without an id: only cancel and
// monitor_cancel mean anything then, as in ovsdb-server; nothing is
// answered.
func (c *conn) notification(req *request) {
	switch req.method {
	case "cancel":
		c.cancel(req)
	case "echo":
	default:
		c.log.Info("ignoring notification", "method", req.method)
	}
}

func (c *conn) dispatch(req *request) {
	s := c.srv
	switch req.method {
	case "echo":
		c.replyDirect(req.id, paramsJSON(req.params))
	case "list_dbs":
		c.reply(req.id, s.listDBs())
	case "get_schema":
		c.getSchema(req)
	case "get_server_id":
		c.reply(req.id, ovsjson.AppendString(nil, s.serverID))
	case "set_db_change_aware":
		c.dbChangeAware = len(req.params) == 1 && req.params[0].Type() == fastjson.TypeTrue
		c.reply(req.id, []byte("{}"))
	case "transact":
		c.transact(req)
	case "cancel":
		c.cancel(req)
	case "monitor", "monitor_cond", "monitor_cond_since":
		c.monitor(req)
	case "monitor_cond_change":
		c.monitorCondChange(req)
	case "monitor_cancel":
		c.monitorCancel(req)
	case "convert":
		c.convert(req)
	case "lock", "steal", "unlock":
		c.lockRequest(req)
	default:
		c.replyError(req.id, "unknown method", fmt.Sprintf("unknown method %q", req.method))
	}
}

func paramsJSON(params []*fastjson.Value) []byte {
	b := []byte{'['}
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		b = p.MarshalTo(b)
	}
	return append(b, ']')
}

func (c *conn) getSchema(req *request) {
	d, ok := c.dbParam(req)
	if !ok {
		return
	}
	c.replyDirect(req.id, d.schemaJSON)
}

// dbParam resolves params[0] as a database name, replying with an error
// when it is missing or unknown.
func (c *conn) dbParam(req *request) (*dbState, bool) {
	if len(req.params) == 0 || req.params[0].Type() != fastjson.TypeString {
		c.replyError(req.id, database.TagSyntax, "first parameter must be a database name")
		return nil, false
	}
	d := c.srv.dbs[string(req.params[0].GetStringBytes())]
	if d == nil {
		name := string(req.params[0].GetStringBytes())
		c.send(errorReply(req.id, &database.Error{Tag: database.TagUnknownDatabase, Syntax: sortedParams(req.params),
			Details: fmt.Sprintf("%s request specifies unknown database %s", req.method, name)}))
		return nil, false
	}
	return d, true
}

func sortedParams(params []*fastjson.Value) string {
	b := []byte{'['}
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, database.SortedJSON(p)...)
	}
	return string(append(b, ']'))
}

// validateParsed checks a parsed message as validateJSON does. The
// Splitter that cut msg out of the stream has checked its grammar
// strictly (numbers, escapes, control characters), so of validateJSON's
// checks only the one for NUL characters, which valid JSON can only
// spell \u0000, can fail (see validRaw). A transact request without one
// skips the walk of its operations, which the engine reads anyway, as
// handleRawTransact does; its id is still walked, since that unescapes
// its strings and the reply carries the id as fastjson then renders it.
func validateParsed(v *fastjson.Value, msg []byte) error {
	if bytes.Index(msg, escapedNUL) >= 0 || string(v.GetStringBytes("method")) != "transact" {
		return validateJSON(v)
	}
	if id := v.Get("id"); id != nil {
		return validateJSON(id)
	}
	return nil
}

// validateJSON rejects what fastjson lets through but JSON and ovsdb-server
// do not: malformed numbers (fastjson checks them lazily) and NUL
// characters in strings.
func validateJSON(v *fastjson.Value) error {
	switch v.Type() {
	case fastjson.TypeNumber:
		if !validNumber(v.String()) {
			return fmt.Errorf("invalid number %q", v.String())
		}
	case fastjson.TypeString:
		if bytes.IndexByte(v.GetStringBytes(), 0) >= 0 {
			return fmt.Errorf("string contains a NUL character")
		}
	case fastjson.TypeArray:
		for _, e := range v.GetArray() {
			if err := validateJSON(e); err != nil {
				return err
			}
		}
	case fastjson.TypeObject:
		var err error
		v.GetObject().Visit(func(k []byte, e *fastjson.Value) {
			if err == nil && bytes.IndexByte(k, 0) >= 0 {
				err = fmt.Errorf("member name contains a NUL character")
			}
			if err == nil {
				err = validateJSON(e)
			}
		})
		return err
	}
	return nil
}

// validNumber checks s against JSON's number grammar.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || n > 1 && s[start] == '0' {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

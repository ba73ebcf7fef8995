package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"time"
)

// RawConn is a JSON-RPC connection to a server with no client library in
// between, for feeding it bad input.
type RawConn struct {
	conn net.Conn
	dec  *json.Decoder
}

// DialRaw connects to a unix socket.
func DialRaw(path string) (*RawConn, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &RawConn{conn: c, dec: json.NewDecoder(c)}, nil
}

// Close closes the connection.
func (r *RawConn) Close() error { return r.conn.Close() }

// Send writes raw bytes.
func (r *RawConn) Send(b []byte) error {
	_ = r.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := r.conn.Write(b)
	return err
}

// probeID is the id of the echo sent after a payload: its reply marks the
// end of what the payload caused, and proves the connection still works.
const probeID = "probe"

const probe = `{"method":"echo","params":["probe"],"id":"probe"}`

// Next reads one message, waiting at most timeout.
func (r *RawConn) Next(timeout time.Duration) (map[string]json.RawMessage, error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(timeout))
	var msg map[string]json.RawMessage
	err := r.dec.Decode(&msg)
	return msg, err
}

// Outcome reads what the server does next, until the probe's reply, the
// connection closing, or silence for the given window. Each event is one
// line: a summary of a reply ("id=1 error=unknown method"), "closed" or
// "silent".
func (r *RawConn) Outcome(silence time.Duration) []string {
	var events []string
	for {
		_ = r.conn.SetReadDeadline(time.Now().Add(silence))
		var msg map[string]json.RawMessage
		err := r.dec.Decode(&msg)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return append(events, "silent")
		case err != nil:
			return append(events, "closed")
		case string(msg["id"]) == `"`+probeID+`"`:
			return events
		}
		events = append(events, summarize(msg))
	}
}

// summarize renders a reply by its shape and RFC 7047 error strings,
// leaving out the free-form "details" and "syntax" texts.
func summarize(msg map[string]json.RawMessage) string {
	var b strings.Builder
	if id, ok := msg["id"]; ok {
		fmt.Fprintf(&b, "id=%s ", id)
	}
	if e, ok := msg["error"]; ok && string(e) != "null" {
		fmt.Fprintf(&b, "error=%s", errorString(e))
		return b.String()
	}
	if m, ok := msg["method"]; ok {
		fmt.Fprintf(&b, "method=%s params=%s", m, msg["params"])
		return b.String()
	}
	fmt.Fprintf(&b, "result=%s", summarizeResult(msg["result"]))
	return b.String()
}

// errorString returns the "error" member of an error object, or the error
// itself if it is a string.
func errorString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Error != "" {
		return obj.Error
	}
	return string(raw)
}

// summarizeResult renders a transact result as its operation results
// (uuid, count=N, rows=N, {} or error=E); other results as they are.
func summarizeResult(raw json.RawMessage) string {
	var ops []map[string]json.RawMessage
	if json.Unmarshal(raw, &ops) != nil || !isOpResults(ops) {
		return string(raw)
	}
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = summarizeOp(op)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func isOpResults(ops []map[string]json.RawMessage) bool {
	for _, op := range ops {
		if op == nil {
			return false
		}
	}
	return len(ops) > 0
}

func summarizeOp(op map[string]json.RawMessage) string {
	if e, ok := op["error"]; ok {
		return "error=" + errorString(e)
	}
	if _, ok := op["uuid"]; ok {
		return "uuid"
	}
	if c, ok := op["count"]; ok {
		return "count=" + string(c)
	}
	if rows, ok := op["rows"]; ok {
		var r []any
		_ = json.Unmarshal(rows, &r)
		return fmt.Sprintf("rows=%d", len(r))
	}
	keys := make([]string, 0, len(op))
	for k := range op {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "{" + strings.Join(keys, ",") + "}"
}

// Exchange sends payload followed by a probe echo and returns the
// outcome.
func (r *RawConn) Exchange(payload string) []string {
	if err := r.Send([]byte(payload + probe)); err != nil {
		return []string{"closed"}
	}
	return r.Outcome(5 * time.Second)
}

// Echo checks that the server at path answers an echo on a new
// connection.
func Echo(path string) error {
	r, err := DialRaw(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Send([]byte(`{"method":"echo","params":["alive"],"id":"alive"}`)); err != nil {
		return err
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var msg map[string]json.RawMessage
	if err := r.dec.Decode(&msg); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	if string(msg["result"]) != `["alive"]` {
		return fmt.Errorf("echo: unexpected reply %v", msg)
	}
	return nil
}

// writeAll writes n bytes of c to w in chunks, for huge messages.
func writeAll(w io.Writer, c byte, n int) error {
	chunk := []byte(strings.Repeat(string(c), 1<<20))
	for n > 0 {
		k := min(n, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

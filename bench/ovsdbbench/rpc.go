package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// maxFrame bounds one JSON-RPC message. The largest message the benchmark
// expects is the initial reply of a full NB monitor (tens of MB).
const maxFrame = 512 << 20

// errFrameTooBig is returned by frameReader.next when a message would
// exceed maxFrame.
var errFrameTooBig = errors.New("json-rpc message larger than 512 MiB")

// frameReader splits a byte stream into top-level JSON values without
// decoding them: it tracks nesting depth and string state only, which is
// all that is needed to find where one JSON-RPC message ends.
type frameReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buffered bytes are buf[start:end]
	pos        int // next byte to scan, start <= pos <= end
	depth      int
	inString   bool
	escaped    bool
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, buf: make([]byte, 64<<10)}
}

// next returns the next complete top-level JSON value. The slice is valid
// until the following call.
func (f *frameReader) next() ([]byte, error) {
	for {
		if frame, ok, err := f.scan(); err != nil || ok {
			return frame, err
		}
		if err := f.fill(); err != nil {
			return nil, err
		}
	}
}

// scan advances over buffered bytes and reports a frame if one completed.
func (f *frameReader) scan() ([]byte, bool, error) {
	for f.pos < f.end {
		if f.inString {
			f.skipString()
			continue
		}
		c := f.buf[f.pos]
		f.pos++
		switch {
		case f.depth == 0 && isSpace(c):
			f.start = f.pos
		case c == '{' || c == '[':
			f.depth++
		case f.depth == 0:
			return nil, false, fmt.Errorf("json-rpc stream: unexpected %q between messages", c)
		case c == '}' || c == ']':
			f.depth--
			if f.depth == 0 {
				frame := f.buf[f.start:f.pos]
				f.start = f.pos
				return frame, true, nil
			}
		case c == '"':
			f.inString = true
		}
	}
	return nil, false, nil
}

// skipString advances inside a string, to just past its closing quote
// or to the end of the buffered bytes. It jumps from quote to backslash
// with bytes.IndexByte: most of an update is strings, and a byte at a
// time was a tenth of the load generator's CPU.
func (f *frameReader) skipString() {
	for f.pos < f.end {
		if f.escaped {
			f.escaped = false
			f.pos++
			continue
		}
		rest := f.buf[f.pos:f.end]
		q := bytes.IndexByte(rest, '"')
		if q < 0 {
			q = len(rest)
		}
		if b := bytes.IndexByte(rest[:q], '\\'); b >= 0 {
			f.pos += b + 1
			f.escaped = true
			continue
		}
		f.pos += q
		if q < len(rest) {
			f.pos++ // the closing quote
			f.inString = false
			return
		}
	}
}

// fill makes room in the buffer and reads more bytes into it.
func (f *frameReader) fill() error {
	if f.start > 0 {
		n := copy(f.buf, f.buf[f.start:f.end])
		f.pos -= f.start
		f.end = n
		f.start = 0
	}
	if f.end == len(f.buf) {
		if len(f.buf) >= maxFrame {
			return errFrameTooBig
		}
		grown := make([]byte, 2*len(f.buf))
		copy(grown, f.buf[:f.end])
		f.buf = grown
	}
	n, err := f.r.Read(f.buf[f.end:])
	f.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t'
}

// message is any JSON-RPC 1.0 message: a request or notification (Method
// set) or a response (Result or Error set).
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (m *message) isResponse() bool { return m.Method == "" }

// hasError reports whether a response carries a non-null error.
func (m *message) hasError() bool {
	return len(m.Error) > 0 && string(m.Error) != "null"
}

// conn is a minimal OVSDB JSON-RPC client over one stream connection. It
// is not safe for concurrent calls: the benchmark gives each simulated
// client its own conn and issues one request at a time.
type conn struct {
	nc     net.Conn
	fr     *frameReader
	w      *bufio.Writer
	nextID uint64
	out    []byte // scratch for encoding requests
	// notify, if set, receives every notification read while waiting for
	// a response or in readNotifications; the frame is only valid during
	// the call.
	notify func(m *message, frame []byte)
}

// dial connects to a unix socket.
func dial(socket string, timeout time.Duration) (*conn, error) {
	nc, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return nil, err
	}
	return newConn(nc), nil
}

func newConn(nc net.Conn) *conn {
	return &conn{nc: nc, fr: newFrameReader(nc), w: bufio.NewWriterSize(nc, 64<<10)}
}

func (c *conn) Close() error { return c.nc.Close() }

// bound makes every read and write on c fail after limit, or as soon as
// ctx is done, by closing c. Call the returned function to lift the bound
// on ctx when done with c.
func bound(ctx context.Context, c *conn, limit time.Duration) (stop func()) {
	c.nc.SetDeadline(time.Now().Add(limit))
	stopAfter := context.AfterFunc(ctx, func() { c.Close() })
	return func() { stopAfter() }
}

// call sends method with pre-encoded params and waits for its response,
// answering echo requests and passing notifications to c.notify meanwhile.
func (c *conn) call(method string, params []byte) (*message, error) {
	id := c.nextID
	c.nextID++
	c.out = appendRequest(c.out[:0], id, method, params)
	if _, err := c.w.Write(c.out); err != nil {
		return nil, err
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	for {
		m, _, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		if m.isResponse() {
			if got, err := strconv.ParseUint(string(m.ID), 10, 64); err != nil || got != id {
				return nil, fmt.Errorf("%s: response id %s, want %d", method, m.ID, id)
			}
			if m.hasError() {
				return m, fmt.Errorf("%s: error %s", method, m.Error)
			}
			return m, nil
		}
	}
}

// read returns the next message that is not an echo request; echo is
// answered here, notifications are also passed to c.notify.
func (c *conn) read() (*message, []byte, error) {
	for {
		frame, err := c.fr.next()
		if err != nil {
			return nil, nil, err
		}
		m, err := c.decode(frame)
		if err != nil {
			return nil, nil, err
		}
		if m != nil {
			return m, frame, nil
		}
	}
}

// decode parses one frame. It answers an echo request itself and returns
// nil for it.
func (c *conn) decode(frame []byte) (*message, error) {
	m, ok := parseEnvelope(frame)
	if !ok {
		m = message{}
		if err := json.Unmarshal(frame, &m); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
	}
	if m.Method == "echo" && len(m.ID) > 0 && string(m.ID) != "null" {
		return nil, c.replyEcho(&m)
	}
	if !m.isResponse() && c.notify != nil {
		c.notify(&m, frame)
	}
	return &m, nil
}

func (c *conn) replyEcho(m *message) error {
	c.out = append(c.out[:0], `{"id":`...)
	c.out = append(c.out, m.ID...)
	c.out = append(c.out, `,"result":`...)
	c.out = append(c.out, m.Params...)
	c.out = append(c.out, `,"error":null}`...)
	if _, err := c.w.Write(c.out); err != nil {
		return err
	}
	return c.w.Flush()
}

// appendRequest encodes a JSON-RPC request; params must already be JSON.
func appendRequest(b []byte, id uint64, method string, params []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"method":`...)
	b = strconv.AppendQuote(b, method)
	b = append(b, `,"params":`...)
	b = append(b, params...)
	return append(b, '}')
}

// opResult is one element of a transact result array.
type opResult struct {
	UUID    []string `json:"uuid"`
	Error   string   `json:"error"`
	Details string   `json:"details"`
}

// transact runs one transaction and returns the per-operation results,
// failing if any operation or the transaction as a whole failed.
func (c *conn) transact(params []byte) ([]opResult, error) {
	m, err := c.call("transact", params)
	if err != nil {
		return nil, err
	}
	return parseTransactResult(m.Result)
}

func parseTransactResult(result json.RawMessage) ([]opResult, error) {
	var res []opResult
	if err := json.Unmarshal(result, &res); err != nil {
		return nil, fmt.Errorf("transact result: %w", err)
	}
	for i, r := range res {
		if r.Error != "" {
			return res, fmt.Errorf("transact op %d: %s: %s", i, r.Error, r.Details)
		}
	}
	return res, nil
}

// uuidOf returns the uuid string of an insert result.
func (r opResult) uuidOf() string {
	if len(r.UUID) == 2 && r.UUID[0] == "uuid" {
		return r.UUID[1]
	}
	return ""
}

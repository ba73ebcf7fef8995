// Package ovsdbtest is a raw OVSDB JSON-RPC client for tests: it sends
// requests exactly as written and shows replies and notifications exactly
// as the server sent them, with deadlines on every wait.
package ovsdbtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout bounds every wait that does not name its own.
const DefaultTimeout = 10 * time.Second

// Message is one JSON-RPC message as received. Absent members are nil.
type Message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	// Raw is the whole message.
	Raw json.RawMessage `json:"-"`
}

// IsReply reports whether m answers a request.
func (m Message) IsReply() bool { return m.Method == "" }

// ErrorTag returns the RFC 7047 error string of a failed reply, whether
// the server sent it as an object {"error": tag, ...} or as a bare string.
// It returns "" for a successful reply.
func (m Message) ErrorTag() string {
	if len(m.Error) == 0 || string(m.Error) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(m.Error, &s) == nil {
		return s
	}
	var obj struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(m.Error, &obj) == nil {
		return obj.Error
	}
	return string(m.Error)
}

// Client is one connection to an OVSDB server.
type Client struct {
	t      testing.TB
	nc     net.Conn
	nextID int

	in      chan Message // filled by the reader goroutine
	readErr error        // set before in is closed
	pending []Message    // read but not yet consumed
	wg      sync.WaitGroup
}

// Dial connects to network/addr ("unix" or "tcp") and closes the
// connection when the test ends.
func Dial(t testing.TB, network, addr string) *Client {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, DefaultTimeout)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	return New(t, nc)
}

// New wraps an established connection.
func New(t testing.TB, nc net.Conn) *Client {
	c := &Client{t: t, nc: nc, in: make(chan Message, 1024)}
	c.wg.Add(1)
	go c.routineRead()
	t.Cleanup(c.Close)
	return c
}

func (c *Client) routineRead() {
	defer c.wg.Done()
	defer close(c.in)
	dec := json.NewDecoder(c.nc)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			c.readErr = err
			return
		}
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			c.readErr = fmt.Errorf("message is not a JSON-RPC object: %s", raw)
			return
		}
		m.Raw = raw
		c.in <- m
	}
}

// Close closes the connection and waits for the reader to stop.
func (c *Client) Close() {
	c.nc.Close()
	c.wg.Wait()
}

// Conn returns the underlying connection, e.g. for raw writes.
func (c *Client) Conn() net.Conn { return c.nc }

// SendRaw writes bytes as they are.
func (c *Client) SendRaw(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(DefaultTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Send writes a request with a fresh numeric id and returns the id.
// params are marshalled with encoding/json; json.RawMessage passes as is.
func (c *Client) Send(method string, params ...any) json.RawMessage {
	c.t.Helper()
	c.nextID++
	id := json.RawMessage(strconv.Itoa(c.nextID))
	c.SendMessage(id, method, params...)
	return id
}

// SendMessage writes a request or, with a nil or "null" id, a notification.
func (c *Client) SendMessage(id json.RawMessage, method string, params ...any) {
	c.t.Helper()
	if params == nil {
		params = []any{}
	}
	if id == nil {
		id = json.RawMessage("null")
	}
	b, err := json.Marshal(struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params []any           `json:"params"`
	}{id, method, params})
	if err != nil {
		c.t.Fatalf("marshal %s request: %v", method, err)
	}
	c.SendRaw(b)
}

// Call sends a request and waits for its reply; notifications that
// arrive meanwhile are kept for Next and Notification.
func (c *Client) Call(method string, params ...any) Message {
	c.t.Helper()
	id := c.Send(method, params...)
	return c.Reply(id)
}

// Reply waits for the reply with the given id.
func (c *Client) Reply(id json.RawMessage) Message {
	c.t.Helper()
	m, err := c.waitFor(DefaultTimeout, func(m Message) bool { return m.IsReply() && string(m.ID) == string(id) })
	if err != nil {
		c.t.Fatalf("reply to request %s: %v", id, err)
	}
	return m
}

// Notification waits for the next notification with the given method.
func (c *Client) Notification(method string) Message {
	c.t.Helper()
	m, err := c.waitFor(DefaultTimeout, func(m Message) bool { return m.Method == method })
	if err != nil {
		c.t.Fatalf("%s notification: %v", method, err)
	}
	return m
}

// Next returns the next message of any kind.
func (c *Client) Next(timeout time.Duration) (Message, error) {
	return c.waitFor(timeout, func(Message) bool { return true })
}

// ExpectNone fails the test if any message arrives within d.
func (c *Client) ExpectNone(d time.Duration) {
	c.t.Helper()
	if m, err := c.Next(d); err == nil {
		c.t.Fatalf("unexpected message: %s", m.Raw)
	}
}

// ErrTimeout is returned by Next when nothing came in time.
var ErrTimeout = errors.New("timed out waiting for a message")

// WaitClosed waits until the server closes the connection, discarding
// messages, and reports whether it did within timeout.
func (c *Client) WaitClosed(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func (c *Client) waitFor(timeout time.Duration, match func(Message) bool) (Message, error) {
	for i, m := range c.pending {
		if match(m) {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return m, nil
		}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case m, ok := <-c.in:
			if !ok {
				err := c.readErr
				if errors.Is(err, io.EOF) {
					err = io.EOF
				}
				return Message{}, fmt.Errorf("connection ended: %w", err)
			}
			if match(m) {
				return m, nil
			}
			c.pending = append(c.pending, m)
		case <-deadline.C:
			return Message{}, ErrTimeout
		}
	}
}

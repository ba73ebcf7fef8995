package openflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// ErrClosed is returned by calls on a Conn whose connection has closed;
// Conn.Err says why.
var ErrClosed = errors.New("openflow connection closed")

// ErrVersion is returned by NewConn when the peer does not speak OpenFlow
// 1.5.
var ErrVersion = errors.New("peer does not speak OpenFlow 1.5")

// asyncQueue is how many unsolicited messages Conn holds for a slow reader
// of Async before it drops them.
const asyncQueue = 1024

// Conn is an OpenFlow 1.5 connection to a switch. It assigns xids, matches
// replies to requests, answers echo requests, and delivers everything else
// (packet-ins, port status, errors for messages sent with Send) on Async.
// Conn owns one reader goroutine; Close stops it and waits for it.
type Conn struct {
	nc  net.Conn
	log *slog.Logger

	wmu sync.Mutex // serializes writes to nc

	mu      sync.Mutex // guards the fields below
	xid     uint32
	pending map[uint32]*call
	bundles []*openBundle // bundles whose adds are in flight
	err     error         // why the reader stopped; set before done closes

	async     chan Message
	done      chan struct{}
	closing   chan struct{} // closed by Close, so that the reader stops waiting on a stream
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// call collects the reply (or the parts of a multipart reply) to one
// request; done closes when the last part has arrived. A streamed call
// instead passes each part, undecoded, on stream, which the reader
// closes after the last part or when the connection dies; quit closes
// when its caller stops reading.
type call struct {
	parts  []Message
	done   chan struct{}
	stream chan []byte
	quit   chan struct{}
}

// Dial connects to a switch ("unix", "/var/run/openvswitch/br-int.mgmt"
// or "tcp", "127.0.0.1:6653") and does the hello handshake.
func Dial(ctx context.Context, network, addr string, log *slog.Logger) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dial openflow %s: %w", addr, err)
	}
	c, err := NewConn(ctx, nc, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// NewConn does the hello handshake on nc and starts the reader. On error
// the caller still owns nc.
func NewConn(ctx context.Context, nc net.Conn, log *slog.Logger) (*Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{nc: nc, log: log, pending: map[uint32]*call{},
		async: make(chan Message, asyncQueue), done: make(chan struct{}), closing: make(chan struct{})}
	if err := c.handshake(ctx); err != nil {
		return nil, fmt.Errorf("openflow handshake: %w", err)
	}
	c.wg.Add(1)
	go c.routineRead()
	return c, nil
}

func (c *Conn) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		stop()
		c.nc.SetDeadline(time.Time{})
	}()
	if err := c.write(c.nextXid(), &Hello{Versions: []uint8{Version}}); err != nil {
		return err
	}
	b, err := readMessage(c.nc)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The socket deadline, set from ctx's, can fire just before ctx's.
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	case err != nil:
		return err
	}
	_, m, err := Unmarshal(b)
	if err != nil {
		return err
	}
	h, ok := m.(*Hello)
	if !ok {
		return fmt.Errorf("expected hello, got %T", m)
	}
	if !speaks15(b[0], h.Versions) {
		return ErrVersion
	}
	return nil
}

// speaks15 applies the OpenFlow version negotiation rule.
func speaks15(headerVersion uint8, bitmap []uint8) bool {
	if len(bitmap) == 0 {
		return headerVersion >= Version
	}
	for _, v := range bitmap {
		if v == Version {
			return true
		}
	}
	return false
}

// readMessage reads one whole OpenFlow message.
func readMessage(r io.Reader) ([]byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(be16(h[2:]))
	if n < headerLen {
		return nil, fmt.Errorf("message length %d below header size", n)
	}
	b := make([]byte, n)
	copy(b, h[:])
	if _, err := io.ReadFull(r, b[headerLen:]); err != nil {
		return nil, err
	}
	return b, nil
}

func (c *Conn) nextXid() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.xid++
	if c.xid == 0 {
		c.xid++
	}
	return c.xid
}

func (c *Conn) write(xid uint32, m Message) error {
	b, err := Marshal(xid, m)
	if err != nil {
		return err
	}
	if err := c.writeBytes(b); err != nil {
		return fmt.Errorf("write %T: %w", m, err)
	}
	return nil
}

// writeBytes writes whole encoded messages.
func (c *Conn) writeBytes(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		// A partial write leaves the stream out of step: give up on it.
		c.nc.Close()
		if errors.Is(err, net.ErrClosed) {
			err = ErrClosed
		}
		return err
	}
	return nil
}

// Async delivers messages that answer no request: packet-ins, port status,
// flow removed, and errors for messages sent with Send. It closes when the
// connection does. If nobody reads it, messages beyond a queue of 1024 are
// dropped (and logged) so replies to requests keep flowing.
func (c *Conn) Async() <-chan Message { return c.async }

// Err returns why the connection stopped, or nil while it runs.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and waits for the reader to stop.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.closing) })
	err := c.nc.Close()
	c.wg.Wait()
	return err
}

// routineRead reads messages until the connection fails or closes.
func (c *Conn) routineRead() {
	defer c.wg.Done()
	var err error
	for {
		var b []byte
		if b, err = readMessage(c.nc); err != nil {
			break
		}
		c.dispatch(b)
	}
	if errors.Is(err, net.ErrClosed) {
		err = ErrClosed
	}
	c.mu.Lock()
	c.err = err
	pending := c.pending
	c.pending, c.bundles = nil, nil
	c.mu.Unlock()
	for _, cl := range pending {
		if cl.stream != nil {
			close(cl.stream)
		} else {
			close(cl.done)
		}
	}
	close(c.done)
	close(c.async)
}

func (c *Conn) dispatch(b []byte) {
	if c.dispatchStream(b) {
		return
	}
	xid, m, err := Unmarshal(b)
	if err != nil {
		c.log.Warn("undecodable openflow message", "xid", xid, "err", err)
		return
	}
	if _, ok := m.(*EchoRequest); ok {
		if err := c.write(xid, &EchoReply{Data: m.(*EchoRequest).Data}); err != nil {
			c.log.Warn("echo reply", "err", err)
		}
		return
	}
	c.mu.Lock()
	cl := c.pending[xid]
	if cl != nil {
		cl.parts = append(cl.parts, m)
		if !moreParts(m) {
			delete(c.pending, xid)
			close(cl.done)
		}
	}
	taken := cl != nil || c.bundleReplyLocked(xid, m)
	c.mu.Unlock()
	if taken {
		return
	}
	select {
	case c.async <- m:
	default:
		c.log.Warn("async queue full, dropping message", "type", fmt.Sprintf("%T", m), "xid", xid)
	}
}

// moreParts reports whether m is a multipart reply with more to come.
func moreParts(m Message) bool {
	switch r := m.(type) {
	case *FlowStatsReply:
		return r.Flags&MultipartMore != 0
	case *GroupDescReply:
		return r.Flags&MultipartMore != 0
	case *MultipartReply:
		return r.Flags&MultipartMore != 0
	}
	return false
}

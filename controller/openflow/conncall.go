package openflow

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Send sends m without waiting for an answer; an error the switch reports
// for it arrives on Async. It returns the xid used.
func (c *Conn) Send(ctx context.Context, m Message) (uint32, error) {
	xid := c.nextXid()
	return xid, c.writeCtx(ctx, xid, m)
}

// writeCtx writes m, giving up when ctx ends. Giving up mid-message closes
// the connection, since the stream can no longer be parsed.
func (c *Conn) writeCtx(ctx context.Context, xid uint32, m Message) error {
	b, err := Marshal(xid, m)
	if err != nil {
		return err
	}
	if err := c.writeBytesCtx(ctx, b); err != nil {
		return fmt.Errorf("write %T: %w", m, err)
	}
	return nil
}

// writeBytesCtx writes whole encoded messages, giving up when ctx ends.
func (c *Conn) writeBytesCtx(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	if _, ok := ctx.Deadline(); !ok && ctx.Done() == nil {
		return c.writeBytes(b)
	}
	stop := context.AfterFunc(ctx, func() { c.nc.SetWriteDeadline(time.Unix(1, 0)) })
	if dl, ok := ctx.Deadline(); ok {
		c.nc.SetWriteDeadline(dl)
	}
	err := c.writeBytes(b)
	stop()
	c.nc.SetWriteDeadline(time.Time{})
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The socket deadline, set from ctx's, can fire just before ctx's.
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

// register makes the reader collect replies to xid.
func (c *Conn) register(xid uint32) (*call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return nil, ErrClosed
	}
	cl := &call{done: make(chan struct{})}
	c.pending[xid] = cl
	return cl, nil
}

func (c *Conn) unregister(xid uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, xid)
}

// wait waits for the call's last part. An *Error reply comes back as the
// error. A call abandoned by ctx stays registered, so that a late reply is
// dropped rather than showing up on Async.
func (c *Conn) wait(ctx context.Context, cl *call) ([]Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-cl.done:
	}
	c.mu.Lock()
	parts := cl.parts
	c.mu.Unlock()
	if len(parts) == 0 {
		return nil, ErrClosed
	}
	for _, p := range parts {
		if e, ok := p.(*Error); ok {
			return nil, e
		}
	}
	return parts, nil
}

// Multipart sends m and returns every part of the reply.
func (c *Conn) Multipart(ctx context.Context, m Message) ([]Message, error) {
	xid := c.nextXid()
	cl, err := c.register(xid)
	if err != nil {
		return nil, err
	}
	if err := c.writeCtx(ctx, xid, m); err != nil {
		c.unregister(xid)
		return nil, err
	}
	return c.wait(ctx, cl)
}

// Request sends m and returns its reply; an OpenFlow error reply comes
// back as an *Error. Use it only for messages the switch answers.
func (c *Conn) Request(ctx context.Context, m Message) (Message, error) {
	parts, err := c.Multipart(ctx, m)
	if err != nil {
		return nil, err
	}
	return parts[0], nil
}

// Barrier waits until the switch has finished every earlier message.
func (c *Conn) Barrier(ctx context.Context) error {
	_, err := c.Request(ctx, &BarrierRequest{})
	return err
}

// Echo checks that the switch is alive.
func (c *Conn) Echo(ctx context.Context) error {
	_, err := c.Request(ctx, &EchoRequest{})
	return err
}

// Features asks for the switch's datapath id and table count.
func (c *Conn) Features(ctx context.Context) (*FeaturesReply, error) {
	m, err := c.Request(ctx, &FeaturesRequest{})
	if err != nil {
		return nil, err
	}
	f, ok := m.(*FeaturesReply)
	if !ok {
		return nil, fmt.Errorf("features: unexpected reply %T", m)
	}
	return f, nil
}

// DumpGroups returns the description of group id (GroupAll for every
// group).
func (c *Conn) DumpGroups(ctx context.Context, id uint32) ([]GroupDesc, error) {
	parts, err := c.Multipart(ctx, &GroupDescRequest{GroupID: id})
	if err != nil {
		return nil, fmt.Errorf("dump groups: %w", err)
	}
	var groups []GroupDesc
	for _, p := range parts {
		r, ok := p.(*GroupDescReply)
		if !ok {
			return nil, fmt.Errorf("dump groups: unexpected reply %T", p)
		}
		groups = append(groups, r.Groups...)
	}
	return groups, nil
}

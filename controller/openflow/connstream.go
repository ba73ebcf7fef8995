package openflow

import (
	"context"
	"fmt"
)

// streamQueue is how many undecoded parts of a streamed reply the reader
// holds for a caller still busy with earlier ones (OVS sends parts of
// up to about 64 KB).
const streamQueue = 4

// dispatchStream hands b to the streamed call waiting for it, if there is
// one, and reports whether it did. When the caller is busy the reader
// waits for it, so a stream holds at most streamQueue parts.
func (c *Conn) dispatchStream(b []byte) bool {
	if MsgType(b[1]) == TypeEchoRequest {
		return false // the switch's own xid, which may equal a request's
	}
	xid := be32(b[4:])
	c.mu.Lock()
	cl := c.pending[xid]
	if cl == nil || cl.stream == nil {
		c.mu.Unlock()
		return false
	}
	last := !rawMoreParts(b)
	if last {
		delete(c.pending, xid)
	}
	c.mu.Unlock()
	select {
	case cl.stream <- b:
	case <-cl.quit: // the caller gave up: drop the rest
	case <-c.closing:
	}
	if last {
		close(cl.stream)
	}
	return true
}

// rawMoreParts reports whether the encoded message b is a multipart reply
// with more to come.
func rawMoreParts(b []byte) bool {
	return MsgType(b[1]) == TypeMultipartReply && len(b) >= headerLen+4 && be16(b[headerLen+2:])&MultipartMore != 0
}

// registerStream makes the reader pass the replies to xid, undecoded, to
// the returned call's stream.
func (c *Conn) registerStream(xid uint32) (*call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		return nil, ErrClosed
	}
	cl := &call{stream: make(chan []byte, streamQueue), quit: make(chan struct{})}
	c.pending[xid] = cl
	return cl, nil
}

// multipartFunc sends m and passes each part of the reply, undecoded, to
// fn, one at a time, as it arrives. An *Error reply comes back as the
// error. A call abandoned (by ctx or fn) stays registered until its last
// part, so that late parts are dropped rather than showing up on Async.
func (c *Conn) multipartFunc(ctx context.Context, m Message, fn func(part []byte) error) error {
	xid := c.nextXid()
	cl, err := c.registerStream(xid)
	if err != nil {
		return err
	}
	defer close(cl.quit)
	if err := c.writeCtx(ctx, xid, m); err != nil {
		c.unregister(xid)
		return err
	}
	for {
		var b []byte
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b, ok = <-cl.stream:
		}
		if !ok {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err // select picks at random among ready cases
		}
		if MsgType(b[1]) == TypeError {
			_, e, err := Unmarshal(b)
			if err != nil {
				return err
			}
			return e.(*Error)
		}
		if err := fn(b); err != nil {
			return err
		}
		if !rawMoreParts(b) {
			return nil
		}
	}
}

// DumpFlowsFunc passes fn each flow that req selects, decoding one reply
// part at a time as it arrives, so that a dump of many thousands of
// flows never sits whole in memory. fn may keep the FlowStats it gets.
// An error from fn ends the dump and comes back wrapped. fn runs on the
// caller's goroutine while the connection reads only a few parts ahead:
// it must not wait for another reply on c, or it waits forever (it may
// Close c).
func (c *Conn) DumpFlowsFunc(ctx context.Context, req *FlowStatsRequest, fn func(FlowStats) error) error {
	err := c.multipartFunc(ctx, req, func(b []byte) error {
		if MsgType(b[1]) != TypeMultipartReply || len(b) < headerLen+8 || be16(b[headerLen:]) != MultipartFlowDesc {
			return fmt.Errorf("unexpected reply: %s", describe(b))
		}
		return eachFlowStats(b[headerLen+8:], fn)
	})
	if err != nil {
		return fmt.Errorf("dump flows: %w", err)
	}
	return nil
}

// describe names the encoded message b for an error.
func describe(b []byte) string {
	_, m, err := Unmarshal(b)
	if err != nil {
		return fmt.Sprintf("message type %d (%v)", b[1], err)
	}
	return fmt.Sprintf("%T", m)
}

// DumpFlows returns the flows that req selects.
func (c *Conn) DumpFlows(ctx context.Context, req *FlowStatsRequest) ([]FlowStats, error) {
	var flows []FlowStats
	err := c.DumpFlowsFunc(ctx, req, func(f FlowStats) error {
		flows = append(flows, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return flows, nil
}

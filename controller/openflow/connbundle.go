package openflow

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// batchBytes is how much Bundle encodes before writing.
const batchBytes = 64 << 10

// openBundle is a bundle whose adds are in flight. OVS answers a
// BUNDLE_ADD only when it refuses it, so rather than a call per add the
// connection keeps the bundle's xids as one range (first, first+n) and
// the first refusal in it.
type openBundle struct {
	first, n uint32
	refused  int // index of the first add refused, -1 for none
	err      *Error
}

// openBundleLocked reserves n consecutive xids for a bundle's adds and
// routes the switch's errors for them to the returned bundle.
func (c *Conn) openBundleLocked(n int) (*openBundle, error) {
	if c.pending == nil {
		return nil, ErrClosed
	}
	if uint64(c.xid)+uint64(n) > math.MaxUint32 {
		c.xid = 0 // wrap early, so that the range stays in one piece
	}
	ob := &openBundle{first: c.xid + 1, n: uint32(n), refused: -1}
	c.xid += uint32(n)
	c.bundles = append(c.bundles, ob)
	return ob, nil
}

func (c *Conn) openBundle(n int) (*openBundle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.openBundleLocked(n)
}

// closeBundle stops routing errors to ob and returns its first refusal.
func (c *Conn) closeBundle(ob *openBundle) (int, *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range c.bundles {
		if b == ob {
			c.bundles = append(c.bundles[:i], c.bundles[i+1:]...)
			break
		}
	}
	return ob.refused, ob.err
}

// bundleReplyLocked takes m, the answer to xid, if xid is an add of an
// open bundle, and reports whether it did. An error is kept when it is
// the bundle's first; anything else is dropped, as nothing waits for it.
func (c *Conn) bundleReplyLocked(xid uint32, m Message) bool {
	for _, ob := range c.bundles {
		i := xid - ob.first
		if i >= ob.n {
			continue
		}
		if e, ok := m.(*Error); ok && (ob.err == nil || int(i) < ob.refused) {
			ob.refused, ob.err = int(i), e
		}
		return true
	}
	return false
}

// Bundle applies msgs (flow and group mods) atomically and in order in
// bundle id: open, add each, commit. If the switch rejects a message,
// nothing is applied and the error names the first rejection. OVS refuses
// meter mods in bundles (OFPBFC_MSG_UNSUP): send those with Send and a
// Barrier first.
func (c *Conn) Bundle(ctx context.Context, id uint32, msgs []Message) error {
	return c.BundleFunc(ctx, id, len(msgs), func(i int) (Message, error) { return msgs[i], nil })
}

// BundleFunc is Bundle for n messages that msg builds one at a time, as
// they are sent, so that a bundle of many thousands of flows need not
// hold every message at once; the connection keeps a few words per
// bundle, not per message. A BundleMessageError carries the message msg
// builds again for its index.
func (c *Conn) BundleFunc(ctx context.Context, id uint32, n int, msg func(i int) (Message, error)) error {
	if n < 0 || n > math.MaxInt32 {
		return fmt.Errorf("bundle of %d messages", n)
	}
	s, err := c.OpenBundle(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Add(ctx, n, msg); err != nil {
		s.close()
		return err
	}
	return s.Commit(ctx, msg)
}

// BundleStream is an atomic, ordered bundle open on the switch whose
// messages go out in parts (Add) while the caller is still working out
// the rest, and apply together at Commit: the switch parses each part
// as it comes, in the meantime. Its methods are for one goroutine.
type BundleStream struct {
	c     *Conn
	id    uint32
	flags uint16
	open  func(context.Context) error // waits for the open's answer
	parts []*openBundle
	n     int // messages added
	done  bool
}

// OpenBundle opens bundle id for messages sent in parts. The caller
// must Commit or Discard it.
func (c *Conn) OpenBundle(ctx context.Context, id uint32) (*BundleStream, error) {
	flags := uint16(BundleAtomic | BundleOrdered)
	// The open goes out with the adds and the commit right behind it:
	// the switch handles them in order, and its answer to the open is
	// read after the commit's, so that a bundle costs the switch's
	// main loop one round trip instead of two.
	open, err := c.startControl(ctx, id, BundleOpenRequest, flags)
	if err != nil {
		return nil, fmt.Errorf("bundle open: %w", err)
	}
	return &BundleStream{c: c, id: id, flags: flags, open: open}, nil
}

// Len is the number of messages added so far.
func (s *BundleStream) Len() int { return s.n }

// Add sends n more messages that msg builds one at a time, as
// BundleFunc does; the indexes msg is given start at 0 in each Add.
func (s *BundleStream) Add(ctx context.Context, n int, msg func(i int) (Message, error)) error {
	if s.done {
		return errors.New("bundle add: bundle committed or discarded")
	}
	if n < 0 || s.n+n > math.MaxInt32 {
		return fmt.Errorf("bundle of %d messages", s.n+n)
	}
	if n == 0 {
		return nil
	}
	ob, err := s.c.openBundle(n)
	if err != nil {
		return err
	}
	s.parts = append(s.parts, ob)
	s.n += n
	return s.c.bundleAdds(ctx, ob, s.id, s.flags, n, msg)
}

// Commit applies every message added, in order, or none. If the
// switch refused one, the error is a BundleMessageError whose Index
// counts the messages of every Add; its Message is what msg (nil: none)
// builds again for that index.
func (s *BundleStream) Commit(ctx context.Context, msg func(i int) (Message, error)) error {
	if s.done {
		return errors.New("bundle commit: bundle committed or discarded")
	}
	commitErr := s.c.bundleControl(ctx, s.id, BundleCommitRequest, s.flags)
	return s.finish(ctx, commitErr, msg)
}

// Discard drops the bundle: the switch applies none of it.
func (s *BundleStream) Discard(ctx context.Context) error {
	if s.done {
		return nil
	}
	err := s.c.bundleControl(ctx, s.id, BundleDiscardRequest, s.flags)
	if ferr := s.finish(ctx, err, nil); ferr != nil && err == nil {
		var be *BundleMessageError
		if !errors.As(ferr, &be) { // a refused add matters to no one now
			err = ferr
		}
	}
	return err
}

// finish reads the open's answer after the commit's or the discard's
// and returns the first refusal of an add, or ctlErr.
func (s *BundleStream) finish(ctx context.Context, ctlErr error, msg func(i int) (Message, error)) error {
	// The switch answers in order, so the open's answer and any error
	// for an add have arrived before the commit reply (or before the
	// connection closed).
	openErr := s.open(ctx)
	first, ferr := s.close()
	if openErr != nil {
		return fmt.Errorf("bundle open: %w", openErr)
	}
	if ferr != nil {
		var m Message
		if msg != nil {
			if mm, err := msg(first); err == nil {
				m = mm
			}
		}
		return &BundleMessageError{Index: first, Message: m, Err: ferr}
	}
	if ctlErr != nil {
		return fmt.Errorf("bundle commit: %w", ctlErr)
	}
	return nil
}

// close stops routing the switch's errors to the bundle's parts and
// returns the first refusal among them, by index over all parts.
func (s *BundleStream) close() (int, *Error) {
	s.done = true
	first, off := -1, 0
	var ferr *Error
	for _, ob := range s.parts {
		if i, e := s.c.closeBundle(ob); e != nil && first < 0 {
			first, ferr = off+i, e
		}
		off += int(ob.n)
	}
	return first, ferr
}

// bundleAdds sends the n adds of ob, batched into large writes.
func (c *Conn) bundleAdds(ctx context.Context, ob *openBundle, id uint32, flags uint16, n int, msg func(i int) (Message, error)) error {
	var buf []byte
	for i := range n {
		m, err := msg(i)
		if err != nil {
			return fmt.Errorf("bundle message %d: %w", i, err)
		}
		if buf, err = appendBundleAdd(buf, ob.first+uint32(i), id, flags, m); err != nil {
			return fmt.Errorf("bundle message %d: %w", i, err)
		}
		if len(buf) >= batchBytes || i == n-1 {
			if err := c.writeBytesCtx(ctx, buf); err != nil {
				return fmt.Errorf("bundle add: %w", err)
			}
			buf = buf[:0]
		}
	}
	return nil
}

// appendBundleAdd appends a BUNDLE_ADD of m, as BundleAdd encodes it,
// without allocating one.
func appendBundleAdd(b []byte, xid, id uint32, flags uint16, m Message) ([]byte, error) {
	start := len(b)
	b = append(b, Version, byte(TypeBundleAdd), 0, 0)
	b = put16(put16(put32(put32(b, xid), id), 0), flags)
	b, err := appendMessage(b, xid, m)
	if err != nil {
		return nil, fmt.Errorf("bundle add: %w", err)
	}
	if n := len(b) - start; n > 0xffff {
		return nil, fmt.Errorf("bundle add: message of %d bytes exceeds 65535", n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

func (c *Conn) bundleControl(ctx context.Context, id uint32, typ, flags uint16) error {
	wait, err := c.startControl(ctx, id, typ, flags)
	if err != nil {
		return err
	}
	return wait(ctx)
}

// startControl sends a bundle control request and returns what waits
// for its reply.
func (c *Conn) startControl(ctx context.Context, id uint32, typ, flags uint16) (func(context.Context) error, error) {
	xid := c.nextXid()
	cl, err := c.register(xid)
	if err != nil {
		return nil, err
	}
	if err := c.writeCtx(ctx, xid, &BundleControl{BundleID: id, CtlType: typ, Flags: flags}); err != nil {
		c.unregister(xid)
		return nil, err
	}
	return func(ctx context.Context) error {
		parts, err := c.wait(ctx, cl)
		if err != nil {
			return err
		}
		if r, ok := parts[0].(*BundleControl); !ok || r.CtlType != typ+1 {
			return errors.New("bundle: unexpected reply")
		}
		return nil
	}, nil
}

package flowtable

import (
	"context"
	"fmt"

	"github.com/ovnd/ovnd/controller/openflow"
)

// BundleStream is a bundle open on the switch that takes its messages
// in parts and applies them all at Commit; *openflow.BundleStream is
// one.
type BundleStream interface {
	Add(ctx context.Context, n int, msg func(i int) (openflow.Message, error)) error
	Commit(ctx context.Context, msg func(i int) (openflow.Message, error)) error
	Discard(ctx context.Context) error
}

// StreamSwitch is a Switch that opens bundles to send in parts.
// *openflow.Conn is used as one through its OpenBundle.
type StreamSwitch interface {
	OpenBundleStream(ctx context.Context, id uint32) (BundleStream, error)
}

// streamSwitch returns sw as a StreamSwitch, if it can be one.
func streamSwitch(sw Switch) (StreamSwitch, bool) {
	switch s := sw.(type) {
	case StreamSwitch:
		return s, true
	case *openflow.Conn:
		return connStream{s}, true
	}
	return nil, false
}

type connStream struct{ c *openflow.Conn }

func (s connStream) OpenBundleStream(ctx context.Context, id uint32) (BundleStream, error) {
	b, err := s.c.OpenBundle(ctx, id)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// stream is an install of a Desired table sent while the table is
// built (Installer.Stream).
type stream struct {
	d    *Desired
	sw   StreamSwitch
	bs   BundleStream // nil until the first part is sent
	st   Stats        // what the Feeds sent
	sent int          // messages sent
	// The Feeds' parts go out from a goroutine of the stream's own
	// (RoutineSend), so that the caller goes on building the table
	// while the switch reads: a Feed waits only once streamQueue parts
	// are queued. parts is nil until the first part.
	parts chan bundle
	done  chan struct{} // closed when RoutineSend has returned
	serr  error         // RoutineSend's first error, read after done
}

// streamQueue is how many parts a stream queues for the switch, each
// its keys and bodies (40 bytes a flow): the 4,096-flow parts of the
// controller's full compile are 2.6 MB at most.
const streamQueue = 16

// Stream starts an install of d that goes out while the caller is
// still building d (a full compile): from now on each Feed sends what d
// changed since the Feed before into one bundle, open on the switch,
// and the next Install sends the rest and commits it. The switch
// parses the flow mods while the caller computes the rest, and applies
// them all at once: as with one Install, no packet sees a half-applied
// change, the difference with what the switch holds stays exact (a flow
// changed again after it went out is changed again in the same bundle,
// a flow no longer desired deleted), and flows that name a group or
// meter wait for the last part, where the groups and meters come
// first. Stream reports false, and streams nothing, when the installer
// is not synced or the switch cannot take a bundle in parts. Abort
// drops a stream that will not be installed.
func (in *Installer) Stream(d *Desired) bool {
	if in.str != nil {
		return in.str.d == d
	}
	sw, ok := streamSwitch(in.sw)
	if !in.synced || !ok {
		return false
	}
	if d != in.d && !in.full {
		in.adopt(d)
	}
	in.retryRejected(d)
	if in.full {
		// dumped is what the switch holds; what the stream sends that
		// it did not hold is recorded in d from a clean slate.
		clear(d.flows.was)
		d.flows.clearInstalled()
		in.fullStream = true
	}
	in.str = &stream{d: d, sw: sw}
	d.flows.journaling, d.flows.journal = true, nil
	return true
}

// Streaming reports whether a stream of d is open.
func (in *Installer) Streaming(d *Desired) bool { return in.str != nil && in.str.d == d }

// Pending is the number of flow changes d recorded since the last
// Feed of its stream (with repeats); 0 when d is not streaming.
func (in *Installer) Pending(d *Desired) int {
	if !in.Streaming(d) {
		return 0
	}
	return len(d.flows.journal)
}

// Feed sends into the open bundle the flows of d that changed since
// the stream began or the last Feed, but for those naming a group or a
// meter: it queues them for the stream's sender, and waits only when
// streamQueue parts are queued already. A part the switch does not
// take loses the stream: the next Install reports the error, and the
// installer needs Sync again.
func (in *Installer) Feed(ctx context.Context, d *Desired) error {
	s := in.str
	if s == nil || s.d != d {
		return nil
	}
	keys := d.flows.journal
	d.flows.journal = make([]fkey, 0, cap(keys))
	out := keys[:0]
	for _, k := range keys {
		if _, late := d.late[k]; !late {
			out = append(out, k)
		}
	}
	clear(keys[len(out):])
	b, st := in.diff(d, out, nil, in.full)
	if in.full {
		// After a Sync, what the switch holds is read from dumped
		// first: once the bundle commits, it holds what this part
		// sends. A flow it did not hold is recorded in d (diff did).
		for _, k := range b.dels {
			delete(in.dumped, k)
		}
		for _, k := range b.adds {
			if _, ok := in.dumped[k]; ok {
				in.dumped[k], _ = d.flows.lookup(k)
			}
		}
	}
	s.st.add(st)
	if b.len() == 0 {
		return nil
	}
	// The part takes the bodies it sends along: the table changes
	// while it waits to be sent.
	b.bodies = make([]body, len(b.adds))
	for i, k := range b.adds {
		b.bodies[i], _ = d.flows.lookup(k)
	}
	b.desired = nil
	if s.parts == nil {
		in.bundleID++
		s.parts, s.done = make(chan bundle, streamQueue), make(chan struct{})
		go s.routineSend(ctx, in.bundleID)
	}
	s.parts <- b
	return nil
}

// routineSend sends the stream's parts, in order, into the bundle it
// opens on the switch with the first, until parts is closed. After an
// error it sends nothing more.
func (s *stream) routineSend(ctx context.Context, id uint32) {
	defer close(s.done)
	for b := range s.parts {
		if s.serr != nil {
			continue
		}
		if s.bs == nil {
			bs, err := s.sw.OpenBundleStream(ctx, id)
			if err != nil {
				s.serr = fmt.Errorf("open bundle: %w", err)
				continue
			}
			s.bs = bs
		}
		n := b.len()
		if err := s.bs.Add(ctx, n, b.message); err != nil {
			s.serr = fmt.Errorf("stream %d flow changes: %w", n, err)
			continue
		}
		s.sent += n
	}
}

// stop waits for the parts queued to be sent and returns the sender's
// error; the sender then has stopped, and the stream's bundle is the
// caller's.
func (s *stream) stop() error {
	if s.parts == nil {
		return nil
	}
	close(s.parts)
	<-s.done
	s.parts = nil
	return s.serr
}

// sendPart adds b's messages to the stream's bundle, opening it first;
// the sender has stopped.
func (in *Installer) sendPart(ctx context.Context, s *stream, b bundle) error {
	n := b.len()
	if n == 0 {
		return nil
	}
	if s.bs == nil {
		in.bundleID++
		bs, err := s.sw.OpenBundleStream(ctx, in.bundleID)
		if err != nil {
			return fmt.Errorf("open bundle: %w", err)
		}
		s.bs = bs
	}
	if err := s.bs.Add(ctx, n, b.message); err != nil {
		return fmt.Errorf("stream %d flow changes: %w", n, err)
	}
	s.sent += n
	return nil
}

// commitStream sends b, the rest of the stream's install, and commits
// the bundle. A refusal of a message carries no message: what was sent
// is not kept.
func (in *Installer) commitStream(ctx context.Context, s *stream, b bundle) error {
	in.str = nil
	s.d.endJournal()
	if err := s.stop(); err != nil {
		return err
	}
	if err := in.sendPart(ctx, s, b); err != nil {
		return err
	}
	if s.bs == nil {
		return nil
	}
	if err := s.bs.Commit(ctx, nil); err != nil {
		return fmt.Errorf("install %d flow changes: %w", s.sent, err)
	}
	return nil
}

// Abort drops a stream that will not be installed: the switch applies
// none of it, and the installer, which recorded what it sent as sent,
// reads the switch again (Sync).
func (in *Installer) Abort(ctx context.Context) error {
	s := in.str
	if s == nil {
		return nil
	}
	in.str = nil
	s.d.endJournal()
	queued := s.parts != nil
	s.stop()
	if !queued && s.bs == nil {
		return nil // nothing sent: what diff recorded is what the switch holds
	}
	in.synced = false
	if s.bs != nil {
		s.bs.Discard(ctx) // a lost connection drops the bundle too
	}
	return in.Sync(ctx, in.sw)
}

// endJournal stops recording the keys set for a stream.
func (d *Desired) endJournal() {
	d.flows.journaling, d.flows.journal = false, nil
	d.late = nil
}

// add counts o's changes in s.
func (s *Stats) add(o Stats) {
	s.Added += o.Added
	s.Modified += o.Modified
	s.Deleted += o.Deleted
	s.GroupsAdded += o.GroupsAdded
	s.GroupsModified += o.GroupsModified
	s.GroupsDeleted += o.GroupsDeleted
	s.MetersAdded += o.MetersAdded
	s.MetersModified += o.MetersModified
	s.MetersDeleted += o.MetersDeleted
}

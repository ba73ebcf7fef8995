package flowtable

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/openflow"
)

// fakeSwitch is an in-memory br-int: it applies bundles of flow and group
// mods the way OVS does (an add replaces a flow with the same table,
// priority and match) and keeps every bundle it was sent.
type fakeSwitch struct {
	flows   map[Key]openflow.FlowStats
	groups  map[uint32]openflow.GroupDesc
	meters  map[uint32]*openflow.MeterMod
	events  []string // meter mods and bundles, in order
	tlv     []openflow.TLVMap
	sent    []openflow.Message // outside bundles
	bundles [][]openflow.Message
	failAt  int // fail the bundle with this 1-based number
}

func newFakeSwitch() *fakeSwitch {
	return &fakeSwitch{flows: map[Key]openflow.FlowStats{}, groups: map[uint32]openflow.GroupDesc{},
		meters: map[uint32]*openflow.MeterMod{}}
}

// syncedInstaller returns an empty fake switch and an Installer synced
// with it.
func syncedInstaller(t *testing.T) (*fakeSwitch, *Installer) {
	t.Helper()
	sw := newFakeSwitch()
	in := NewInstaller(nil)
	if err := in.Sync(context.Background(), sw); err != nil {
		t.Fatal(err)
	}
	return sw, in
}

func (f *fakeSwitch) Send(_ context.Context, m openflow.Message) (uint32, error) {
	f.sent = append(f.sent, m)
	switch m := m.(type) {
	case *openflow.TLVTableMod:
		f.tlv = append(f.tlv, m.Maps...)
	case *openflow.MeterMod:
		f.events = append(f.events, fmt.Sprintf("meter %d cmd %d", m.MeterID, m.Command))
		switch m.Command {
		case openflow.MeterAdd, openflow.MeterModify:
			f.meters[m.MeterID] = m
		case openflow.MeterDelete:
			delete(f.meters, m.MeterID)
		}
	}
	return 1, nil
}

// Multipart answers meter desc requests.
func (f *fakeSwitch) Multipart(_ context.Context, m openflow.Message) ([]openflow.Message, error) {
	r, ok := m.(*openflow.MultipartRequest)
	if !ok || r.MPType != multipartMeterDesc {
		return nil, fmt.Errorf("fake switch: unexpected multipart %T", m)
	}
	var body []byte
	for _, mm := range f.meters {
		b, err := openflow.Marshal(0, mm)
		if err != nil {
			return nil, err
		}
		// A meter mod body is command, flags, id, bands; a meter desc
		// is length, flags, id, bands.
		desc := b[8:]
		binary.BigEndian.PutUint16(desc, uint16(len(desc)))
		body = append(body, desc...)
	}
	return []openflow.Message{&openflow.MultipartReply{MPType: multipartMeterDesc, Body: body}}, nil
}

func (f *fakeSwitch) Request(_ context.Context, m openflow.Message) (openflow.Message, error) {
	if _, ok := m.(*openflow.TLVTableRequest); ok {
		return &openflow.TLVTableReply{Maps: slices.Clone(f.tlv)}, nil
	}
	return nil, fmt.Errorf("fake switch: unexpected request %T", m)
}

func (f *fakeSwitch) Barrier(context.Context) error { return nil }

// BundleFunc builds every message, each as it would go on the wire
// before the next is built (the installer reuses its flow mods), and
// applies them as Bundle does.
func (f *fakeSwitch) BundleFunc(ctx context.Context, id uint32, n int, msg func(int) (openflow.Message, error)) error {
	msgs := make([]openflow.Message, n)
	for i := range n {
		m, err := msg(i)
		if err != nil {
			return err
		}
		if fm, ok := m.(*openflow.FlowMod); ok {
			b, err := openflow.Marshal(1, fm)
			if err != nil {
				return fmt.Errorf("fake switch: message %d: %w", i, err)
			}
			if _, m, err = openflow.Unmarshal(b); err != nil {
				return fmt.Errorf("fake switch: message %d: %w", i, err)
			}
		}
		msgs[i] = m
	}
	return f.Bundle(ctx, id, msgs)
}

func (f *fakeSwitch) Bundle(_ context.Context, _ uint32, msgs []openflow.Message) error {
	msgs, err := onTheWire(msgs)
	if err != nil {
		return err
	}
	f.bundles = append(f.bundles, msgs)
	f.events = append(f.events, "bundle")
	if len(f.bundles) == f.failAt {
		return fmt.Errorf("fake switch: bundle %d rejected", f.failAt)
	}
	// Like OVS, refuse (the whole bundle for) a flow naming a group that
	// neither exists nor comes earlier in the bundle.
	groups := map[uint32]bool{}
	for id := range f.groups {
		groups[id] = true
	}
	for i, m := range msgs {
		switch m := m.(type) {
		case *openflow.GroupMod:
			groups[m.GroupID] = m.Command != openflow.GroupDelete
		case *openflow.FlowMod:
			for _, a := range m.Instructions.Apply {
				if g, ok := a.(*openflow.Group); ok && !groups[g.ID] {
					return &openflow.BundleMessageError{Index: i, Message: m,
						Err: &openflow.Error{ErrType: 2, Code: 9}} // OFPBAC_BAD_OUT_GROUP
				}
			}
		}
	}
	for _, m := range msgs {
		switch m := m.(type) {
		case *openflow.FlowMod:
			k := Key{Table: m.Table, Priority: m.Priority, Match: MatchKey(m.Match)}
			switch m.Command {
			case openflow.FlowAdd:
				f.flows[k] = openflow.FlowStats{Table: m.Table, Priority: m.Priority, Cookie: m.Cookie,
					Match: m.Match, Instructions: m.Instructions}
			case openflow.FlowModifyStrict:
				if fl, ok := f.flows[k]; ok {
					fl.Instructions = m.Instructions
					f.flows[k] = fl
				}
			case openflow.FlowDeleteStrict:
				delete(f.flows, k)
			default:
				return fmt.Errorf("fake switch: flow mod command %d", m.Command)
			}
		case *openflow.GroupMod:
			switch m.Command {
			case openflow.GroupAdd, openflow.GroupModify:
				f.groups[m.GroupID] = openflow.GroupDesc{GroupType: m.GroupType, GroupID: m.GroupID, Buckets: m.Buckets}
			case openflow.GroupDelete:
				delete(f.groups, m.GroupID)
			}
		default:
			return fmt.Errorf("fake switch: %T in bundle", m)
		}
	}
	return nil
}

// onTheWire returns msgs as the switch reads them: flow mods built from
// encoded match and instructions are decoded.
func onTheWire(msgs []openflow.Message) ([]openflow.Message, error) {
	out := make([]openflow.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if fm, ok := m.(*openflow.FlowMod); ok && (fm.RawMatch != nil || fm.RawInstructions != nil) {
			b, err := openflow.Marshal(1, fm)
			if err != nil {
				return nil, fmt.Errorf("fake switch: message %d: %w", i, err)
			}
			if _, out[i], err = openflow.Unmarshal(b); err != nil {
				return nil, fmt.Errorf("fake switch: message %d: %w", i, err)
			}
		}
	}
	return out, nil
}

// DumpFlowsFunc passes every flow to fn, as a connection streams a dump.
func (f *fakeSwitch) DumpFlowsFunc(_ context.Context, _ *openflow.FlowStatsRequest, fn func(openflow.FlowStats) error) error {
	for _, fl := range f.flows {
		if err := fn(fl); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSwitch) DumpGroups(context.Context, uint32) ([]openflow.GroupDesc, error) {
	var out []openflow.GroupDesc
	for _, g := range f.groups {
		out = append(out, g)
	}
	return out, nil
}

// dump renders the switch's flows as dump-flows --no-stats does, sorted.
func (f *fakeSwitch) dump() string {
	var lines []string
	for _, fl := range f.flows {
		lines = append(lines, fl.NoStats())
	}
	for _, g := range f.groups {
		lines = append(lines, g.String())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// lastBundle renders the last bundle's messages as ofp-print does.
func (f *fakeSwitch) lastBundle() []string {
	if len(f.bundles) == 0 {
		return nil
	}
	var out []string
	for _, m := range f.bundles[len(f.bundles)-1] {
		out = append(out, fmt.Sprint(m))
	}
	return out
}

// OpenBundleStream opens a bundle that takes its messages in parts and
// applies them as Bundle does at Commit.
func (f *fakeSwitch) OpenBundleStream(_ context.Context, id uint32) (BundleStream, error) {
	f.events = append(f.events, "open")
	return &fakeStream{f: f, id: id}, nil
}

type fakeStream struct {
	f     *fakeSwitch
	id    uint32
	msgs  []openflow.Message
	parts int
	done  bool
}

func (s *fakeStream) Add(_ context.Context, n int, msg func(int) (openflow.Message, error)) error {
	if s.done {
		return fmt.Errorf("fake switch: add to a closed bundle")
	}
	for i := range n {
		m, err := msg(i)
		if err != nil {
			return err
		}
		// Each as it goes on the wire: the installer reuses its flow mods.
		w, err := onTheWire([]openflow.Message{m})
		if err != nil {
			return err
		}
		if fm, ok := w[0].(*openflow.FlowMod); ok && w[0] == m {
			c := *fm
			w[0] = &c
		}
		s.msgs = append(s.msgs, w[0])
	}
	s.parts++
	s.f.events = append(s.f.events, fmt.Sprintf("part %d", n))
	return nil
}

func (s *fakeStream) Commit(ctx context.Context, _ func(int) (openflow.Message, error)) error {
	s.done = true
	err := s.f.Bundle(ctx, s.id, s.msgs)
	var be *openflow.BundleMessageError
	if errors.As(err, &be) {
		be.Message = nil // a stream's refusal names the index only
	}
	return err
}

func (s *fakeStream) Discard(context.Context) error {
	s.done = true
	s.f.events = append(s.f.events, "discard")
	return nil
}

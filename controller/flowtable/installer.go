package flowtable

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/ovnd/ovnd/controller/openflow"
)

// Switch is what the installer needs from the connection to br-int;
// *openflow.Conn provides it. BundleFunc must be done with a message
// msg built (encoded it) before it calls msg again: the installer
// builds a bundle's flow mods in one place, one after another.
type Switch interface {
	Send(ctx context.Context, m openflow.Message) (uint32, error)
	Request(ctx context.Context, m openflow.Message) (openflow.Message, error)
	Barrier(ctx context.Context) error
	BundleFunc(ctx context.Context, id uint32, n int, msg func(i int) (openflow.Message, error)) error
	DumpFlowsFunc(ctx context.Context, req *openflow.FlowStatsRequest, fn func(openflow.FlowStats) error) error
	DumpGroups(ctx context.Context, id uint32) ([]openflow.GroupDesc, error)
	Multipart(ctx context.Context, m openflow.Message) ([]openflow.Message, error)
}

// ErrNotSynced is returned by Install before Sync has succeeded on the
// current connection, or after an Install failed: the installer no longer
// knows what the switch holds.
var ErrNotSynced = errors.New("flow installer not synced with the switch")

// GeneveOption is the Geneve option OVN carries its logical ports in:
// class 0x0102 (OVN), type 0x80, 4 bytes, mapped to tun_metadata0.
var GeneveOption = openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: 0}

// Installer keeps br-int equal to a Desired table. It remembers what the
// switch holds, and sends only the difference, as one atomic bundle, so
// that no packet ever sees a half-applied change. It starts no goroutine;
// one loop calls Sync after each (re)connection and Install after each
// change of the desired table. What the switch holds is recorded in the
// Desired table last installed, so a Desired serves one installer; an
// installer handed another table compares it in full, once.
type Installer struct {
	log *slog.Logger
	sw  Switch
	// What the switch holds of flows is recorded in the desired table
	// d, beside each flow (claim.inst, claims.was), so that br-int's
	// 200,000 flows take no second table; dumped holds what the last
	// Sync read, until the next Install compares it with d.
	d      *Desired
	dumped map[fkey]body
	groups map[uint32]string // rendered GroupDesc
	meters map[uint32]string // Meter.String
	synced bool
	// rejected are flows (by the actions refused) and groups the switch
	// refused, left out until their desired content changes.
	rejected       map[fkey]body
	rejectedGroups map[uint32]string
	full           bool // the next Install compares everything, not only dirty keys
	bundleID       uint32
	refused        bundle  // the last bundle, when the switch refused it
	str            *stream // an install sent while its table is built (Stream)
	// fullStream says a stream began while full: the flows it sent
	// that the switch did not hold when dumped are recorded in the
	// desired table, not in dumped (which stays the size of the dump).
	fullStream bool
}

// Stats counts what one Install sent.
type Stats struct {
	Added, Modified, Deleted                   int
	GroupsAdded, GroupsModified, GroupsDeleted int
	MetersAdded, MetersModified, MetersDeleted int
	// Rejected counts the flows and groups the switch refused, which
	// stay out (and are logged) until their desired content changes.
	Rejected int
}

// Empty reports whether nothing was sent.
func (s Stats) Empty() bool {
	s.Rejected = 0
	return s == Stats{}
}

// NewInstaller returns an installer that has no switch yet.
func NewInstaller(log *slog.Logger) *Installer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Installer{log: log, rejected: map[fkey]body{}, rejectedGroups: map[uint32]string{}}
}

// Sync adopts a new connection to br-int: it sets the packet-in format
// (NXT_PACKET_IN2) and miss_send_len, maps OVN's Geneve option to
// tun_metadata0, and reads the flows and groups the switch holds, so that
// the next Install changes only what differs. It deletes nothing: flows
// left by an earlier controller keep forwarding until Install replaces
// them in one bundle.
func (in *Installer) Sync(ctx context.Context, sw Switch) error {
	if s := in.str; s != nil {
		// A stream on the old connection is lost with it; on this one,
		// dropped: what the switch holds is read again below.
		in.str = nil
		s.d.endJournal()
		s.stop()
		if s.bs != nil && sw == in.sw {
			s.bs.Discard(ctx)
		}
	}
	in.sw, in.synced = sw, false
	if err := configureSwitch(ctx, sw); err != nil {
		return err
	}
	if err := in.readFlows(ctx, sw); err != nil {
		return err
	}
	groups, err := sw.DumpGroups(ctx, openflow.GroupAll)
	if err != nil {
		return err
	}
	in.groups = make(map[uint32]string, len(groups))
	for _, g := range groups {
		in.groups[g.GroupID] = g.String()
	}
	if in.meters, err = dumpMeters(ctx, sw); err != nil {
		return err
	}
	in.synced, in.full, in.fullStream = true, true, false
	in.log.Info("synced with switch", "flows", len(in.dumped), "groups", len(in.groups), "meters", len(in.meters))
	return nil
}

// readFlows makes the switch's flows what the installer knows it holds.
// The dump streams in: only each flow's key and body are kept.
func (in *Installer) readFlows(ctx context.Context, sw Switch) error {
	n := 0
	if in.d != nil {
		n = len(in.d.flows.keys) // what the switch held before is about what it holds now
	}
	in.dumped = make(map[fkey]body, n)
	var kb, bb []byte
	return sw.DumpFlowsFunc(ctx, openflow.NewFlowStatsRequest(), func(f openflow.FlowStats) error {
		var err error
		if kb, err = appendFlowKey(kb[:0], f.Table, f.Priority, f.Match); err != nil {
			in.log.Warn("switch holds a flow the installer cannot key: left alone", "flow", f.NoStats(), "err", err)
			return nil
		}
		ins := f.Instructions
		if len(ins.Apply) == 0 {
			ins.Apply = nil // as desired bodies encode a drop
		}
		bb = binary.BigEndian.AppendUint64(bb[:0], f.Cookie)
		if bb, err = ins.AppendBinary(bb); err != nil {
			bb = append(bb[:bodyHeader], 0xff) // matches no desired body: replaced
		}
		in.dumped[fkey(kb)] = body(bb)
		return nil
	})
}

// configureSwitch sets what ovn-controller sets on every connection.
func configureSwitch(ctx context.Context, sw Switch) error {
	if _, err := sw.Send(ctx, &openflow.SetPacketInFormat{Format: openflow.PacketInNXT2}); err != nil {
		return fmt.Errorf("set packet-in format: %w", err)
	}
	if _, err := sw.Send(ctx, &openflow.SetConfig{SwitchConfig: openflow.SwitchConfig{MissSendLen: 0xffff}}); err != nil {
		return fmt.Errorf("set config: %w", err)
	}
	if err := mapGeneveOption(ctx, sw); err != nil {
		return err
	}
	if err := sw.Barrier(ctx); err != nil {
		return fmt.Errorf("configure switch: %w", err)
	}
	return nil
}

// mapGeneveOption makes tun_metadata0 OVN's Geneve option, unless the
// switch already maps it there. Another mapping of index 0 is an error:
// ovnd's flows assume tun_metadata0.
func mapGeneveOption(ctx context.Context, sw Switch) error {
	m, err := sw.Request(ctx, &openflow.TLVTableRequest{})
	if err != nil {
		return fmt.Errorf("tlv table request: %w", err)
	}
	reply, ok := m.(*openflow.TLVTableReply)
	if !ok {
		return fmt.Errorf("tlv table request: unexpected reply %T", m)
	}
	for _, t := range reply.Maps {
		switch {
		case t == GeneveOption:
			return nil
		case t.Index == GeneveOption.Index:
			return fmt.Errorf("tun_metadata%d already maps geneve option class 0x%x type 0x%x", t.Index, t.OptionClass, t.OptionType)
		case t.OptionClass == GeneveOption.OptionClass && t.OptionType == GeneveOption.OptionType:
			return fmt.Errorf("ovn geneve option already mapped to tun_metadata%d, want tun_metadata%d", t.Index, GeneveOption.Index)
		}
	}
	mod := &openflow.TLVTableMod{Command: openflow.TLVAdd, Maps: []openflow.TLVMap{GeneveOption}}
	if _, err := sw.Send(ctx, mod); err != nil {
		return fmt.Errorf("tlv table mod: %w", err)
	}
	// A rejected mod answers with an error on the async channel; asking
	// again tells whether it took.
	if m, err = sw.Request(ctx, &openflow.TLVTableRequest{}); err != nil {
		return fmt.Errorf("tlv table request: %w", err)
	}
	if reply, ok := m.(*openflow.TLVTableReply); !ok || !slices.Contains(reply.Maps, GeneveOption) {
		return fmt.Errorf("switch did not map the ovn geneve option to tun_metadata%d", GeneveOption.Index)
	}
	return nil
}

// Install sends the difference between d and the switch as one atomic
// bundle and returns once the switch has applied it (the bundle commit is
// acknowledged): ports whose flows are in d may then
// be reported installed. Nothing to change sends nothing. New and changed
// meters go first and deleted ones last, outside the bundle (OVS takes
// no meter mod in a bundle). A flow or group the switch refuses (which
// makes it refuse the whole bundle) is set aside and logged, and the rest
// sent again, so that one bad flow holds up nothing else. On any other
// error the installer needs Sync again.
func (in *Installer) Install(ctx context.Context, d *Desired) (Stats, error) {
	if !in.synced {
		return Stats{}, ErrNotSynced
	}
	if in.str != nil && in.str.d != d {
		if err := in.Abort(ctx); err != nil {
			return Stats{}, err
		}
	}
	in.retryRejected(d)
	for rejected := 0; ; rejected++ {
		// A streamed bundle keeps no list of what it sent: a refusal in
		// it is found again by sending the whole difference as one
		// bundle of its own, after a Sync.
		streamed := in.str != nil
		st, err := in.install(ctx, d)
		if err == nil {
			st.Rejected = len(in.rejected) + len(in.rejectedGroups)
			return st, nil
		}
		in.synced = false
		var be *openflow.BundleMessageError
		if !errors.As(err, &be) || rejected >= maxRejected || !streamed && !in.reject(d, be) {
			return Stats{}, err
		}
		// The switch applied nothing: read it again, and send the rest.
		if err := in.Sync(ctx, in.sw); err != nil {
			return Stats{}, err
		}
	}
}

// maxRejected bounds how many flows and groups one Install sets aside
// before it gives up.
const maxRejected = 64

// reject sets aside the flow or group the switch refused, as long as its
// desired content stays the same, so that one bad flow does not hold up
// every other change. It reports false for what it cannot set aside.
func (in *Installer) reject(d *Desired, be *openflow.BundleMessageError) bool {
	switch m := be.Message.(type) {
	case *openflow.FlowMod:
		fc, ok := in.refused.flow(be.Index)
		if !ok {
			return false
		}
		k := fc.key
		want, ok := d.flows.lookup(k)
		if !ok || m.Command != openflow.FlowAdd {
			return false
		}
		in.rejected[k] = want
		in.log.Warn("switch rejects flow: left out until it changes", "flow", m.DumpString(), "err", be.Err)
		return true
	case *openflow.GroupMod:
		want, ok := d.groups.lookup(m.GroupID)
		if !ok || m.Command == openflow.GroupDelete {
			return false
		}
		in.rejectedGroups[m.GroupID] = want.text
		in.log.Warn("switch rejects group: left out until it changes", "group", m.String(), "err", be.Err)
		return true
	}
	return false
}

// retryRejected gives rejected flows another chance when groups or
// meters change: a flow is most often refused for naming a group or
// meter the switch does not have yet.
func (in *Installer) retryRejected(d *Desired) {
	if len(in.rejected) == 0 || !d.groups.anyDirty() && !d.meters.anyDirty() && !in.full {
		return
	}
	for k := range in.rejected {
		d.flows.markDirty(k)
	}
	clear(in.rejected)
}

// install sends one round of changes.
func (in *Installer) install(ctx context.Context, d *Desired) (Stats, error) {
	in.refused = bundle{}
	if d != in.d && !in.full {
		in.adopt(d)
	}
	if in.full && !in.fullStream {
		clear(d.flows.was) // what the switch holds is in dumped
	}
	flows, allFlows := d.flows.takeDirty()
	groups, allGroups := d.groups.takeDirty()
	meters, allMeters := d.meters.takeDirty()
	if in.full || allGroups {
		groups = union(d.groups.keys, in.groups)
	}
	if in.full || allMeters {
		meters = union(d.meters.keys, in.meters)
	}
	var keys []fkey
	if in.full || allFlows {
		keys = in.allKeys(d)
	} else {
		keys = sortedKeys(flows)
	}
	b, st := in.diff(d, keys, groups, in.full)
	meterAdds, meterDels := in.meterMods(d, meters, &st)
	if err := in.sendMeterMods(ctx, meterAdds); err != nil {
		return Stats{}, fmt.Errorf("install: %w", err)
	}
	if s := in.str; s != nil {
		st.add(s.st)
		if err := in.commitStream(ctx, s, b); err != nil {
			return Stats{}, err
		}
	} else if n := b.len(); n > 0 {
		in.bundleID++
		sent := b // only a bundle that is sent escapes to the heap
		// The switch acknowledges the commit once it has applied the
		// bundle (OVS answers after the flow tables changed): no
		// barrier need follow.
		if err := in.sw.BundleFunc(ctx, in.bundleID, n, sent.message); err != nil {
			in.refused = b
			return Stats{}, fmt.Errorf("install %d flow changes: %w", n, err)
		}
	}
	if err := in.sendMeterMods(ctx, meterDels); err != nil {
		return Stats{}, fmt.Errorf("install: %w", err)
	}
	in.full, in.fullStream, in.dumped, in.d = false, false, nil, d
	return st, nil
}

// adopt makes what in.d records as installed the switch's flows for a
// full comparison with d, which replaces it.
func (in *Installer) adopt(d *Desired) {
	in.dumped = map[fkey]body{}
	if old := in.d; old != nil {
		for k, c := range old.flows.keys {
			if c.inst {
				in.dumped[k] = c.val
			}
		}
		for k, v := range old.flows.was {
			in.dumped[k] = v
		}
	}
	in.d, in.full = d, true
}

// union is the set of keys of a and b.
func union[V1, V2 any](a map[uint32]V1, b map[uint32]V2) map[uint32]struct{} {
	out := make(map[uint32]struct{}, len(a)+len(b))
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}

// allKeys returns every desired and every installed flow's key, sorted,
// for an Install that compares them all: the first after a Sync, or
// one after a change of most of the table.
func (in *Installer) allKeys(d *Desired) []fkey {
	held := d.flows.was // the installed flows that are not desired are there
	if in.full {
		held = in.dumped
	}
	keys := make([]fkey, 0, len(d.flows.keys)+len(held)/8)
	for k := range d.flows.keys {
		keys = append(keys, k)
	}
	for k := range held {
		if _, ok := d.flows.keys[k]; !ok {
			keys = append(keys, k)
		}
	}
	if in.fullStream {
		// And those a stream sent that are no longer desired.
		for k := range d.flows.was {
			if _, ok := d.flows.keys[k]; !ok {
				if _, dumped := in.dumped[k]; !dumped {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// sortedKeys returns the keys of dirty, sorted.
func sortedKeys(dirty map[fkey]struct{}) []fkey {
	keys := make([]fkey, 0, len(dirty))
	for k := range dirty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// bundle is what one Install sends, in order: group adds and changes
// (flows may point at them), flow deletes, flow adds and changes (so that
// a delete can never remove a flow the same bundle adds), group deletes.
// Flow mods are built from the tables' strings as they are sent, so that
// a bundle of every flow costs little more than its list of keys: the
// body of a flow to add or change is the one the installer records as
// installed.
type bundle struct {
	before, after []openflow.Message
	dels          []fkey                    // flows to delete
	adds          []fkey                    // flows to add or change,
	cmds          []openflow.FlowModCommand // with these commands (nil: all FlowAdd)
	desired       *Desired                  // what adds and changes send,
	bodies        []body                    // or, when set, their bodies (a part sent by another goroutine)
	// fm and buf are where message builds each flow mod: the switch
	// encodes one before it asks for the next (see Switch), and a
	// flow mod and its buffer for each of 200,000 flows were 66 MB of
	// garbage in controllerbench's first install.
	fm  *openflow.FlowMod
	buf []byte
}

// flowChange is one flow mod of a bundle.
type flowChange struct {
	key fkey
	cmd openflow.FlowModCommand
}

func (b *bundle) len() int { return len(b.before) + len(b.dels) + len(b.adds) + len(b.after) }

// message builds message i; a flow mod is valid until the next call.
func (b *bundle) message(i int) (openflow.Message, error) {
	if i < len(b.before) {
		return b.before[i], nil
	}
	if fc, ok := b.flow(i); ok {
		var bd body
		switch {
		case fc.cmd == openflow.FlowDeleteStrict:
		case b.bodies != nil:
			bd = b.bodies[i-len(b.before)-len(b.dels)]
		default:
			bd, _ = b.desired.flows.lookup(fc.key)
		}
		if b.fm == nil {
			b.fm = new(openflow.FlowMod)
		}
		var err error
		if b.buf, err = buildFlowMod(b.fm, b.buf, fc.cmd, fc.key, bd); err != nil {
			return nil, err
		}
		return b.fm, nil
	}
	return b.after[i-len(b.before)-len(b.dels)-len(b.adds)], nil
}

// flow returns the flow change that message i sends, if it is one.
func (b *bundle) flow(i int) (flowChange, bool) {
	i -= len(b.before)
	switch {
	case i < 0:
		return flowChange{}, false
	case i < len(b.dels):
		return flowChange{b.dels[i], openflow.FlowDeleteStrict}, true
	case i < len(b.dels)+len(b.adds):
		i -= len(b.dels)
		cmd := openflow.FlowAdd
		if b.cmds != nil {
			cmd = b.cmds[i]
		}
		return flowChange{b.adds[i], cmd}, true
	}
	return flowChange{}, false
}

// diff plans the messages that make keys and groups on the switch equal
// to d, and records them as installed. After a Sync (full), installed
// flows whose bytes differ from the desired ones but whose actions print
// the same are the same flow. The flows to add or change are listed in
// keys' own array, which diff takes over.
func (in *Installer) diff(d *Desired, keys []fkey, groups map[uint32]struct{}, full bool) (bundle, Stats) {
	var st Stats
	b := bundle{desired: d}
	b.before, b.after = in.diffGroups(d, groups, &st)
	// An initial install adds every key: listing the adds where the
	// keys were, with a byte per command, costs no second list.
	adds := keys[:0]
	for _, k := range keys {
		want, ok := d.flows.lookup(k)
		var have body
		var installed bool
		if full {
			have, installed = in.dumped[k]
			if !installed && in.fullStream {
				have, installed = d.flows.installed(k)
			}
		} else {
			have, installed = d.flows.installed(k)
		}
		if r, bad := in.rejected[k]; bad {
			if ok && r == want {
				// Still the version the switch refused: leave it be.
				d.flows.record(k, have, installed)
				continue
			}
			delete(in.rejected, k)
		}
		var cmd openflow.FlowModCommand
		switch {
		case !ok && installed:
			b.dels = append(b.dels, k)
			d.flows.record(k, "", false)
			st.Deleted++
			continue
		case !ok:
			continue
		case installed && have == want:
			d.flows.record(k, want, true) // after a Sync: the desired table's strings, not the dump's
			continue
		case !installed:
			cmd = openflow.FlowAdd
			st.Added++
		case full && bodyCookie(have) == bodyCookie(want) && samePrinted(have, want):
			d.flows.record(k, want, true)
			continue
		default:
			// A strict modify changes the actions and keeps the flow's
			// counters; a new cookie takes an add, which replaces the
			// flow in place (a modify keeps the old cookie).
			cmd = openflow.FlowModifyStrict
			if bodyCookie(have) != bodyCookie(want) {
				cmd = openflow.FlowAdd
			}
			st.Modified++
		}
		adds = append(adds, k)
		if cmd != openflow.FlowAdd || b.cmds != nil {
			if b.cmds == nil {
				b.cmds = make([]openflow.FlowModCommand, len(adds)-1, len(keys))
			}
			b.cmds = append(b.cmds, cmd)
		}
		d.flows.record(k, want, true)
	}
	clear(keys[len(adds):]) // the keys not sent: no longer held
	b.adds = adds
	return b, st
}

// samePrinted reports whether two bodies' instructions print the same,
// as ovs-ofctl would print them.
func samePrinted(a, b body) bool {
	x, err := bodyInstructions(a)
	if err != nil {
		return false
	}
	y, err := bodyInstructions(b)
	return err == nil && x.String() == y.String()
}

// diffGroups builds the group mods for groups: adds and changes, to send
// before the flows, and deletes, to send after them.
func (in *Installer) diffGroups(d *Desired, groups map[uint32]struct{}, st *Stats) (before, after []openflow.Message) {
	for _, id := range sortedIDs(groups) {
		want, ok := d.groups.lookup(id)
		have, installed := in.groups[id]
		if r, bad := in.rejectedGroups[id]; bad {
			if ok && r == want.text {
				continue // still the version the switch refused: leave it be
			}
			delete(in.rejectedGroups, id)
		}
		switch {
		case !ok && installed:
			after = append(after, &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: id, CommandBucketID: openflow.BucketAll})
			delete(in.groups, id)
			st.GroupsDeleted++
		case ok && !installed:
			before = append(before, groupMod(openflow.GroupAdd, want.group))
			in.groups[id] = want.text
			st.GroupsAdded++
		case ok && have != want.text:
			before = append(before, groupMod(openflow.GroupModify, want.group))
			in.groups[id] = want.text
			st.GroupsModified++
		}
	}
	return before, after
}

func groupMod(cmd uint16, g Group) *openflow.GroupMod {
	return &openflow.GroupMod{Command: cmd, GroupType: g.Type, GroupID: g.ID,
		CommandBucketID: openflow.BucketAll, Buckets: g.Buckets, Selection: g.Selection}
}

func sortedIDs(m map[uint32]struct{}) []uint32 {
	out := make([]uint32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

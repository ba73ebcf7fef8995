// Package flowtable holds the controller's desired OpenFlow state: the
// Flow type every flow producer returns (the logical-flow compiler
// controller/lflowc, the physical flows of controller/physical), the
// desired table of flows, groups and meters keyed by owner (Desired), and
// the Installer that keeps br-int equal to it.
//
// The installer reads what the switch holds when it (re)connects (Sync)
// and from then on sends only the difference, as one atomic bundle per
// change (Install), returning once the switch acknowledges the commit,
// which it does once it has applied the bundle. A controller that restarts therefore replaces nothing that is
// already right, and a change never leaves a moment of half-applied
// forwarding.
//
// The desired table keeps each flow in wire form, not as a Flow: its
// key (table, priority and MatchKey, a compact canonical form of the
// match, the same for the ways OVS echoes a match back) and its body
// (the cookie and the encoded instructions), compared as bytes. The
// installer keeps no table of its own: beside each desired flow, the
// desired table records whether the switch holds it, and what the
// switch holds for the few flows changed or removed since the last
// Install. Flows read back from the switch whose bytes differ from the desired ones (OVS echoes some
// actions in a shorter encoding) are compared as ovs-ofctl prints their
// actions, once, after each Sync.
//
// An install may also go out while its table is still being built (a
// full compile): Stream, then Feed as flows are set, then Install,
// which sends the rest into the same bundle and commits it; the switch
// parses the flow mods while the caller works, and applies them all at
// once.
//
//	d := flowtable.NewDesired(log)
//	d.Set(owner, flows) // per lflow UUID, physical owner key...
//	in := flowtable.NewInstaller(log)
//	err := in.Sync(ctx, conn) // after every (re)connection
//	st, err := in.Install(ctx, d) // after every change; then mark ports up
package flowtable

import (
	"encoding/binary"
	"fmt"

	"github.com/ovnd/ovnd/controller/openflow"
)

// Flow is one desired OpenFlow flow. Two flows with the same Table,
// Priority and Match are the same flow to the switch; their actions must
// agree or the table holds a conflict (the first owner wins, as in
// ovn-controller).
type Flow struct {
	Table    uint8
	Priority uint16
	Match    openflow.Match    // in prerequisite order (see openflow package doc)
	Actions  []openflow.Action // apply-actions; nil or empty drops
	Cookie   uint64            // ovn-controller uses the first 32 bits of the lflow UUID
}

// Key identifies a flow to the switch: two flows with the same Key are one
// flow, whatever their actions.
type Key struct {
	Table    uint8
	Priority uint16
	Match    string // MatchKey(Match)
}

// Key returns the flow's identity.
func (f Flow) Key() Key { return Key{Table: f.Table, Priority: f.Priority, Match: MatchKey(f.Match)} }

// fkey is a Key in one string, as the tables keep it: the table, the
// priority inverted (so that keys sort by table, then highest priority
// first), then the match key.
type fkey string

const fkeyHeader = 3

// appendFlowKey appends the fkey of a flow to b.
func appendFlowKey(b []byte, table uint8, priority uint16, m openflow.Match) ([]byte, error) {
	b = append(b, table, byte(^priority>>8), byte(^priority))
	return appendMatchKey(b, m)
}

func (k fkey) table() uint8     { return k[0] }
func (k fkey) priority() uint16 { return ^(uint16(k[1])<<8 | uint16(k[2])) }
func (k fkey) match() string    { return string(k[fkeyHeader:]) }

// body is what the switch holds for a flow besides its key: the cookie
// (8 bytes, big endian) and the encoded instructions (none for a flow
// that drops).
type body = string

const bodyHeader = 8

// appendBody appends the body of a flow with cookie and actions to b.
func appendBody(b []byte, cookie uint64, acts []openflow.Action) ([]byte, error) {
	b = binary.BigEndian.AppendUint64(b, cookie)
	if len(acts) == 0 {
		return b, nil // OVS echoes an empty apply-actions as no instruction
	}
	b, err := openflow.Instructions{Apply: acts}.AppendBinary(b)
	if err != nil {
		return nil, fmt.Errorf("actions: %w", err)
	}
	return b, nil
}

func bodyCookie(b body) uint64 { return binary.BigEndian.Uint64([]byte(b[:bodyHeader])) }

func bodyInstructions(b body) (openflow.Instructions, error) {
	return openflow.DecodeInstructions([]byte(b[bodyHeader:]))
}

// flowOf rebuilds the flow a key and body stand for.
func flowOf(k fkey, b body) (Flow, error) {
	m, err := decodeMatchKey(k.match())
	if err != nil {
		return Flow{}, err
	}
	in, err := bodyInstructions(b)
	if err != nil {
		return Flow{}, err
	}
	return Flow{Table: k.table(), Priority: k.priority(), Match: m, Actions: in.Apply, Cookie: bodyCookie(b)}, nil
}

// renderMatch is the match of k as ovs-ofctl prints it, for logs.
func renderMatch(k fkey) string {
	m, err := decodeMatchKey(k.match())
	if err != nil {
		return err.Error()
	}
	return m.String()
}

// flowMod builds the flow mod that sends the flow of k with body b
// (b empty for a delete).
func flowMod(cmd openflow.FlowModCommand, k fkey, b body) (*openflow.FlowMod, error) {
	fm := new(openflow.FlowMod)
	if _, err := buildFlowMod(fm, make([]byte, 0, 4*len(k)+len(b)), cmd, k, b); err != nil {
		return nil, err
	}
	return fm, nil
}

// buildFlowMod makes *fm the flow mod that sends the flow of k with body
// b (b empty for a delete), its match and instructions encoded into buf,
// and returns buf grown, for the next flow mod once this one is sent.
func buildFlowMod(fm *openflow.FlowMod, buf []byte, cmd openflow.FlowModCommand, k fkey, b body) ([]byte, error) {
	*fm = *openflow.NewFlowMod(cmd, k.table(), k.priority())
	raw, err := appendMatchWire(buf[:0], k.match())
	if err != nil {
		return buf, err
	}
	fm.RawMatch = raw[:len(raw):len(raw)]
	if b != "" {
		fm.Cookie = bodyCookie(b)
		raw = append(raw, b[bodyHeader:]...)
		fm.RawInstructions = raw[len(fm.RawMatch):len(raw):len(raw)]
	}
	return raw, nil
}

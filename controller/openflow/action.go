package openflow

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Action is one OpenFlow action. String renders it as ovs-ofctl does.
type Action interface {
	appendAction(b []byte) ([]byte, error)
	String() string
}

// OpenFlow 1.5 action types.
const (
	actOutput     = 0
	actSetQueue   = 21
	actGroup      = 22
	actDecNwTTL   = 24
	actPushVLAN   = 17
	actPopVLAN    = 18
	actSetField   = 25
	actCopyField  = 28
	actMeter      = 29
	actExperiment = 0xffff
)

// appendActions encodes a list of actions.
func appendActions(b []byte, acts []Action) ([]byte, error) {
	for _, a := range acts {
		var err error
		if b, err = a.appendAction(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// actionsString renders a list of actions joined by commas.
func actionsString(acts []Action) string {
	s := make([]string, len(acts))
	for i, a := range acts {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}

// fixLen stores the length of the action that starts at start.
func fixLen(b []byte, start int) []byte {
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// Output sends the packet to a port. MaxLen matters only for the
// controller port.
type Output struct {
	Port   uint32
	MaxLen uint16
}

func (a *Output) appendAction(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, actOutput), 16), a.Port)
	return zeros(put16(b, a.MaxLen), 6), nil
}

func (a *Output) String() string {
	switch {
	case a.Port == PortController:
		return fmt.Sprintf("CONTROLLER:%d", a.MaxLen)
	case a.Port >= 0xffffff00:
		return portString(a.Port)
	}
	return fmt.Sprintf("output:%d", a.Port)
}

// Group sends the packet to a group.
type Group struct{ ID uint32 }

func (a *Group) appendAction(b []byte) ([]byte, error) {
	return put32(put16(put16(b, actGroup), 8), a.ID), nil
}

func (a *Group) String() string { return fmt.Sprintf("group:%d", a.ID) }

// Meter sends the packet through a meter (OpenFlow 1.5 OFPAT_METER).
type Meter struct{ ID uint32 }

func (a *Meter) appendAction(b []byte) ([]byte, error) {
	return put32(put16(put16(b, actMeter), 8), a.ID), nil
}

func (a *Meter) String() string { return fmt.Sprintf("meter:%d", a.ID) }

// SetQueue sets the output queue.
type SetQueue struct{ ID uint32 }

func (a *SetQueue) appendAction(b []byte) ([]byte, error) {
	return put32(put16(put16(b, actSetQueue), 8), a.ID), nil
}

func (a *SetQueue) String() string { return fmt.Sprintf("set_queue:%d", a.ID) }

// DecTTL decrements the IP TTL (OFPAT_DEC_NW_TTL).
type DecTTL struct{}

func (*DecTTL) appendAction(b []byte) ([]byte, error) {
	return put32(put16(put16(b, actDecNwTTL), 8), 0), nil
}
func (*DecTTL) String() string { return "dec_ttl" }

// PushVLAN pushes a VLAN header with the given TPID.
type PushVLAN struct{ EtherType uint16 }

func (a *PushVLAN) appendAction(b []byte) ([]byte, error) {
	return zeros(put16(put16(put16(b, actPushVLAN), 8), a.EtherType), 2), nil
}

func (a *PushVLAN) String() string { return fmt.Sprintf("push_vlan:0x%04x", a.EtherType) }

// PopVLAN pops the outer VLAN header.
type PopVLAN struct{}

func (*PopVLAN) appendAction(b []byte) ([]byte, error) {
	return put32(put16(put16(b, actPopVLAN), 8), 0), nil
}
func (*PopVLAN) String() string { return "pop_vlan" }

// SetField writes a field, or with a mask the masked bits of it (OVS's
// "load"). OpenFlow 1.5 carries masks in OFPAT_SET_FIELD itself; OVS
// refuses NXAST_REG_LOAD2 in 1.5, so it only decodes.
type SetField struct {
	OXM
}

func (a *SetField) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(put16(b, actSetField), 0)
	b, err := a.OXM.append(b)
	if err != nil {
		return nil, fmt.Errorf("set_field: %w", err)
	}
	return fixLen(pad8(b, start), start), nil
}

func (a *SetField) String() string {
	return "set_field:" + valueString(a.OXM) + "->" + a.Field.Name
}

// decodeAction reads one action and returns it with the remaining bytes.
func decodeAction(b []byte) (Action, []byte, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("action: %w", ErrShort)
	}
	typ, n := be16(b), int(be16(b[2:]))
	if n < 8 || n%8 != 0 || n > len(b) {
		return nil, nil, fmt.Errorf("action type %d length %d: bad length", typ, n)
	}
	a, rest := b[:n], b[n:]
	var act Action
	switch typ {
	case actOutput:
		if n < 16 {
			return nil, nil, fmt.Errorf("output action: %w", ErrShort)
		}
		act = &Output{Port: be32(a[4:]), MaxLen: be16(a[8:])}
	case actGroup:
		act = &Group{ID: be32(a[4:])}
	case actMeter:
		act = &Meter{ID: be32(a[4:])}
	case actSetQueue:
		act = &SetQueue{ID: be32(a[4:])}
	case actDecNwTTL:
		act = &DecTTL{}
	case actPushVLAN:
		act = &PushVLAN{EtherType: be16(a[4:])}
	case actPopVLAN:
		act = &PopVLAN{}
	case actSetField:
		o, _, err := decodeOXM(a[4:])
		if err != nil {
			return nil, nil, fmt.Errorf("set_field: %w", err)
		}
		act = &SetField{OXM: o}
	case actCopyField:
		var err error
		if act, err = decodeCopyField(a); err != nil {
			return nil, nil, err
		}
	case actExperiment:
		var err error
		if act, err = decodeNXAction(a); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("unsupported action type %d", typ)
	}
	return act, rest, nil
}

// decodeActions reads a list of actions filling all of b.
func decodeActions(b []byte) ([]Action, error) {
	var acts []Action
	for len(b) > 0 {
		a, rest, err := decodeAction(b)
		if err != nil {
			return nil, err
		}
		acts, b = append(acts, a), rest
	}
	return acts, nil
}

package openflow

import (
	"fmt"
	"strings"
)

// Nicira stack action subtypes.
const (
	nxStackPush = 27
	nxStackPop  = 28
)

// StackPush pushes a subfield onto the action stack (NXAST_STACK_PUSH);
// StackPop pops the top of the stack into one (NXAST_STACK_POP). OVN
// swaps fields ("a <-> b") and saves registers around a resubmit with
// them.
type StackPush struct{ Field Subfield }

// StackPop pops the top of the action stack into Field.
type StackPop struct{ Field Subfield }

func (a *StackPush) appendAction(b []byte) ([]byte, error) {
	return appendStack(b, nxStackPush, a.Field)
}
func (a *StackPop) appendAction(b []byte) ([]byte, error) { return appendStack(b, nxStackPop, a.Field) }
func (a *StackPush) String() string                       { return "push:" + a.Field.String() }
func (a *StackPop) String() string                        { return "pop:" + a.Field.String() }

// appendStack encodes nx_action_stack: the bit offset, the field's NXM
// header, the number of bits, zeros up to 24 bytes.
func appendStack(b []byte, subtype uint16, s Subfield) ([]byte, error) {
	start := len(b)
	b = put16(nxHeader(b, subtype), uint16(s.Ofs))
	b, err := s.appendNXMHeader(b)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	b = put16(b, uint16(s.NBits))
	for len(b)-start < 24 || (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return fixLen(b, start), nil
}

func decodeStack(a []byte) (Subfield, error) {
	if len(a) < 18 {
		return Subfield{}, fmt.Errorf("stack: %w", ErrShort)
	}
	f, rest, err := decodeFieldHeader(a[12:])
	if err != nil {
		return Subfield{}, err
	}
	if len(rest) < 2 {
		return Subfield{}, fmt.Errorf("stack n_bits: %w", ErrShort)
	}
	return Subfield{Field: f, Ofs: int(be16(a[10:])), NBits: int(be16(rest))}, nil
}

func init() {
	nxDecoders[nxStackPush] = func(a []byte) (Action, error) {
		s, err := decodeStack(a)
		return &StackPush{Field: s}, err
	}
	nxDecoders[nxDecTTLCntIDs] = decodeDecTTLIDs
	nxDecoders[nxStackPop] = func(a []byte) (Action, error) {
		s, err := decodeStack(a)
		return &StackPop{Field: s}, err
	}
}

// MarshalActions encodes a list of actions as OpenFlow 1.5 puts them in
// an instruction; OVN carries nested actions this way in controller
// userdata.
func MarshalActions(acts []Action) ([]byte, error) { return appendActions(nil, acts) }

// UnmarshalActions decodes a list of OpenFlow 1.5 actions.
func UnmarshalActions(b []byte) ([]Action, error) { return decodeActions(b) }

// nxDecTTLCntIDs is NXAST_DEC_TTL_CNT_IDS.
const nxDecTTLCntIDs = 21

// DecTTLIDs decrements the IP TTL and, when it expires, sends the packet
// to the controllers with the given ids (NXAST_DEC_TTL_CNT_IDS).
// ovn-controller's "ip.ttl--;" is this action with no ids, which OVS
// prints "dec_ttl()".
type DecTTLIDs struct{ IDs []uint16 }

func (a *DecTTLIDs) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = zeros(put16(nxHeader(b, nxDecTTLCntIDs), uint16(len(a.IDs))), 4)
	for _, id := range a.IDs {
		b = put16(b, id)
	}
	return fixLen(pad8(b, start), start), nil
}

func (a *DecTTLIDs) String() string {
	ids := make([]string, len(a.IDs))
	for i, id := range a.IDs {
		ids[i] = fmt.Sprint(id)
	}
	return "dec_ttl(" + strings.Join(ids, ",") + ")"
}

func decodeDecTTLIDs(a []byte) (Action, error) {
	n := int(be16(a[10:]))
	if len(a) < 16+2*n {
		return nil, fmt.Errorf("dec_ttl ids: %w", ErrShort)
	}
	d := &DecTTLIDs{}
	for i := range n {
		d.IDs = append(d.IDs, be16(a[16+2*i:]))
	}
	return d, nil
}

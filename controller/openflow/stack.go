package openflow

import "fmt"

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

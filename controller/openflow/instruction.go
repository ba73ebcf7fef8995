package openflow

import (
	"fmt"
	"strings"
)

// Instruction types (OFPIT_*).
const (
	instGotoTable     = 1
	instWriteMetadata = 2
	instWriteActions  = 3
	instApplyActions  = 4
	instClearActions  = 5
)

// Instructions are the instructions of a flow, at most one of each kind.
// The zero value is a flow that drops.
type Instructions struct {
	Apply         []Action // apply-actions, nil for none
	ClearActions  bool
	Write         []Action // write-actions, nil for none
	WriteMetadata *WriteMetadata
	GotoTable     *uint8
}

// WriteMetadata writes the masked bits of the metadata field.
type WriteMetadata struct {
	Metadata, Mask uint64
}

// Goto returns a pointer to t, for Instructions.GotoTable.
func Goto(t uint8) *uint8 { return &t }

func (in Instructions) append(b []byte) ([]byte, error) {
	var err error
	if in.Apply != nil {
		if b, err = appendActionsInstruction(b, instApplyActions, in.Apply); err != nil {
			return nil, err
		}
	}
	if in.ClearActions {
		b = put32(put16(put16(b, instClearActions), 8), 0)
	}
	if in.Write != nil {
		if b, err = appendActionsInstruction(b, instWriteActions, in.Write); err != nil {
			return nil, err
		}
	}
	if w := in.WriteMetadata; w != nil {
		b = put64(put64(put32(put16(put16(b, instWriteMetadata), 24), 0), w.Metadata), w.Mask)
	}
	if in.GotoTable != nil {
		b = append(put16(put16(b, instGotoTable), 8), *in.GotoTable, 0, 0, 0)
	}
	return b, nil
}

func appendActionsInstruction(b []byte, typ uint16, acts []Action) ([]byte, error) {
	start := len(b)
	b = put32(put16(put16(b, typ), 0), 0)
	b, err := appendActions(b, acts)
	if err != nil {
		return nil, fmt.Errorf("instruction %d: %w", typ, err)
	}
	return fixLen(b, start), nil
}

func decodeInstructions(b []byte) (Instructions, error) {
	var in Instructions
	for len(b) > 0 {
		if len(b) < 8 {
			return in, fmt.Errorf("instruction: %w", ErrShort)
		}
		typ, n := be16(b), int(be16(b[2:]))
		if n < 8 || n > len(b) {
			return in, fmt.Errorf("instruction %d length %d: %w", typ, n, ErrShort)
		}
		body := b[:n]
		var err error
		switch typ {
		case instApplyActions:
			in.Apply, err = decodeActionList(body[8:])
		case instWriteActions:
			in.Write, err = decodeActionList(body[8:])
		case instClearActions:
			in.ClearActions = true
		case instWriteMetadata:
			if n < 24 {
				return in, fmt.Errorf("write_metadata: %w", ErrShort)
			}
			in.WriteMetadata = &WriteMetadata{Metadata: be64(body[8:]), Mask: be64(body[16:])}
		case instGotoTable:
			in.GotoTable = Goto(body[4])
		default:
			return in, fmt.Errorf("unsupported instruction type %d", typ)
		}
		if err != nil {
			return in, err
		}
		b = b[n:]
	}
	return in, nil
}

// decodeActionList is decodeActions returning an empty non-nil list for no
// actions, so an empty apply-actions instruction survives a round trip.
func decodeActionList(b []byte) ([]Action, error) {
	acts, err := decodeActions(b)
	if acts == nil && err == nil {
		acts = []Action{}
	}
	return acts, err
}

// String renders the instructions as ovs-ofctl prints "actions=...".
func (in Instructions) String() string {
	var p []string
	if len(in.Apply) > 0 {
		p = append(p, actionsString(in.Apply))
	}
	if in.ClearActions {
		p = append(p, "clear_actions")
	}
	if in.Write != nil {
		p = append(p, "write_actions("+actionsString(in.Write)+")")
	}
	if w := in.WriteMetadata; w != nil {
		s := "write_metadata:" + hexU(w.Metadata)
		if w.Mask != ^uint64(0) {
			s += "/" + hexU(w.Mask)
		}
		p = append(p, s)
	}
	if in.GotoTable != nil {
		p = append(p, fmt.Sprintf("goto_table:%d", *in.GotoTable))
	}
	if len(p) == 0 {
		return "drop"
	}
	return strings.Join(p, ",")
}

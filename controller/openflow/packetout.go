package openflow

import (
	"fmt"
	"strings"
)

// PacketOut sends a packet through actions (OpenFlow 1.5 OFPT_PACKET_OUT).
// Match carries the pipeline fields the packet starts with; OVS requires
// in_port (field in_port_oxm) and accepts registers, metadata and tunnel
// fields too.
type PacketOut struct {
	BufferID uint32
	Match    Match
	Actions  []Action
	Data     []byte
}

func (*PacketOut) Type() MsgType { return TypePacketOut }

func (m *PacketOut) appendBody(b []byte) ([]byte, error) {
	b = put32(b, m.BufferID)
	lenAt := len(b)
	b = put32(b, 0)
	b, err := m.Match.append(b)
	if err != nil {
		return nil, fmt.Errorf("packet out: %w", err)
	}
	start := len(b)
	if b, err = appendActions(b, m.Actions); err != nil {
		return nil, fmt.Errorf("packet out: %w", err)
	}
	n := len(b) - start
	b[lenAt], b[lenAt+1] = byte(n>>8), byte(n)
	return append(b, m.Data...), nil
}

func decodePacketOut(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("packet out: %w", ErrShort)
	}
	m := &PacketOut{BufferID: be32(b)}
	n := int(be16(b[4:]))
	match, rest, err := decodeMatch(b[8:])
	if err != nil {
		return nil, fmt.Errorf("packet out: %w", err)
	}
	if n > len(rest) {
		return nil, fmt.Errorf("packet out actions: %w", ErrShort)
	}
	m.Match = match
	if m.Actions, err = decodeActions(rest[:n]); err != nil {
		return nil, fmt.Errorf("packet out: %w", err)
	}
	m.Data = clone(rest[n:])
	return m, nil
}

// String renders the first line of ofp-print's output after the header.
func (m *PacketOut) String() string {
	var s strings.Builder
	s.WriteString(m.Match.String())
	s.WriteString(" actions=" + Instructions{Apply: m.Actions}.String())
	if m.BufferID != NoBuffer {
		fmt.Fprintf(&s, " buffer=0x%08x", m.BufferID)
	} else {
		fmt.Fprintf(&s, " data_len=%d", len(m.Data))
	}
	return s.String()
}

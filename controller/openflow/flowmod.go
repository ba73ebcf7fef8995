package openflow

import (
	"fmt"
	"strings"
)

// FlowModCommand is the command of a FLOW_MOD.
type FlowModCommand uint8

// Flow mod commands (OFPFC_*).
const (
	FlowAdd          FlowModCommand = 0
	FlowModify       FlowModCommand = 1
	FlowModifyStrict FlowModCommand = 2
	FlowDelete       FlowModCommand = 3
	FlowDeleteStrict FlowModCommand = 4
)

var flowModCommandNames = []string{"ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"}

// Flow mod flags (OFPFF_*).
const (
	FlagSendFlowRem  = 1 << 0
	FlagCheckOverlap = 1 << 1
	FlagResetCounts  = 1 << 2
	FlagNoPktCounts  = 1 << 3
	FlagNoBytCounts  = 1 << 4
)

// TableAll is the table id meaning every table (deletes only).
const TableAll = 0xff

// GroupAny is the out_group wildcard.
const GroupAny = 0xffffffff

// NoBuffer is the buffer id meaning "no buffered packet".
const NoBuffer = 0xffffffff

// FlowMod adds, modifies or deletes flows (OFPT_FLOW_MOD). Use NewFlowMod
// for the defaults OVS uses (no buffer, any out port/group).
type FlowMod struct {
	Cookie, CookieMask uint64
	Table              uint8
	Command            FlowModCommand
	IdleTimeout        uint16
	HardTimeout        uint16
	Priority           uint16
	BufferID           uint32
	OutPort            uint32
	OutGroup           uint32
	Flags              uint16
	Importance         uint16
	Match              Match
	Instructions       Instructions
	// RawMatch, when not nil, is the match already encoded (OXM TLVs,
	// as OXM.AppendBinary appends them, without the ofp_match header
	// and padding) and is sent instead of Match; RawInstructions, when
	// not nil, are the instructions already encoded (as
	// Instructions.AppendBinary appends them) and are sent instead of
	// Instructions. String and DumpString decode them.
	RawMatch, RawInstructions []byte
}

// NewFlowMod returns a flow mod for cmd in table with the given priority,
// no buffer and wildcard out port and group.
func NewFlowMod(cmd FlowModCommand, table uint8, priority uint16) *FlowMod {
	return &FlowMod{Command: cmd, Table: table, Priority: priority,
		BufferID: NoBuffer, OutPort: PortAny, OutGroup: GroupAny}
}

func (*FlowMod) Type() MsgType { return TypeFlowMod }

func (m *FlowMod) appendBody(b []byte) ([]byte, error) {
	b = put64(put64(b, m.Cookie), m.CookieMask)
	b = append(b, m.Table, byte(m.Command))
	b = put16(put16(put16(b, m.IdleTimeout), m.HardTimeout), m.Priority)
	b = put32(put32(put32(b, m.BufferID), m.OutPort), m.OutGroup)
	b = put16(put16(b, m.Flags), m.Importance)
	b, err := m.appendMatch(b)
	if err != nil {
		return nil, err
	}
	return m.appendInstructions(b)
}

func decodeFlowMod(b []byte) (Message, error) {
	if len(b) < 40 {
		return nil, fmt.Errorf("flow mod: %w", ErrShort)
	}
	m := &FlowMod{
		Cookie: be64(b), CookieMask: be64(b[8:]), Table: b[16], Command: FlowModCommand(b[17]),
		IdleTimeout: be16(b[18:]), HardTimeout: be16(b[20:]), Priority: be16(b[22:]),
		BufferID: be32(b[24:]), OutPort: be32(b[28:]), OutGroup: be32(b[32:]),
		Flags: be16(b[36:]), Importance: be16(b[38:]),
	}
	match, rest, err := decodeMatch(b[40:])
	if err != nil {
		return nil, fmt.Errorf("flow mod: %w", err)
	}
	m.Match = match
	if m.Instructions, err = decodeInstructions(rest); err != nil {
		return nil, fmt.Errorf("flow mod: %w", err)
	}
	return m, nil
}

// String renders m as `ovs-ofctl ofp-print` prints an OpenFlow 1.5
// FLOW_MOD body (after "OFPT_FLOW_MOD (OF1.5) (xid=0x1): "). Like
// ovs-ofctl it leaves out the importance and out_group.
func (m *FlowMod) String() string {
	m = m.resolved()
	var s strings.Builder
	if int(m.Command) < len(flowModCommandNames) {
		s.WriteString(flowModCommandNames[m.Command])
	} else {
		fmt.Fprintf(&s, "cmd:%d", m.Command)
	}
	if m.Table != 0 || m.Command == FlowDelete || m.Command == FlowDeleteStrict {
		fmt.Fprintf(&s, " table:%d", m.Table)
	}
	if match := m.Match.format(int(m.Priority)); match != "" {
		s.WriteString(" " + match)
	}
	if m.Cookie != 0 || m.CookieMask != 0 {
		fmt.Fprintf(&s, " cookie:%s", hexU(m.Cookie))
		if m.CookieMask != 0 {
			fmt.Fprintf(&s, "/%s", hexU(m.CookieMask))
		}
	}
	if m.IdleTimeout != 0 {
		fmt.Fprintf(&s, " idle:%d", m.IdleTimeout)
	}
	if m.HardTimeout != 0 {
		fmt.Fprintf(&s, " hard:%d", m.HardTimeout)
	}
	if m.BufferID != NoBuffer {
		fmt.Fprintf(&s, " buf:0x%x", m.BufferID)
	}
	if m.OutPort != PortAny {
		s.WriteString(" out_port:" + portString(m.OutPort))
	}
	s.WriteString(flowModFlagsString(m.Flags))
	s.WriteString(" actions=" + m.Instructions.String())
	return s.String()
}

func flowModFlagsString(f uint16) string {
	var s string
	for i, n := range []string{"send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts"} {
		if f&(1<<i) != 0 {
			s += " " + n
		}
	}
	return s
}

// DumpString renders the flow m adds as `ovs-ofctl dump-flows --no-stats`
// would show it once installed, so desired flows compare with dumped ones
// as text.
func (m *FlowMod) DumpString() string {
	m = m.resolved()
	return FlowStats{Table: m.Table, Priority: m.Priority, IdleTimeout: m.IdleTimeout,
		HardTimeout: m.HardTimeout, Flags: m.Flags &^ FlagCheckOverlap, Importance: m.Importance,
		Cookie: m.Cookie, Match: m.Match, Instructions: m.Instructions}.NoStats()
}

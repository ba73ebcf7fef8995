package openflow

import (
	"fmt"
	"strings"
)

// Multipart types used here (OFPMP_*).
const (
	MultipartFlowDesc = 1
)

// MultipartMore is the flag saying more parts follow (OFPMPF_*_MORE).
const MultipartMore = 1

// MultipartRequest is a multipart request this package does not decode
// further.
type MultipartRequest struct {
	MPType uint16
	Flags  uint16
	Body   []byte
}

func (*MultipartRequest) Type() MsgType { return TypeMultipartRequest }

func (m *MultipartRequest) appendBody(b []byte) ([]byte, error) {
	return append(put32(put16(put16(b, m.MPType), m.Flags), 0), m.Body...), nil
}

// MultipartReply is a multipart reply this package does not decode
// further.
type MultipartReply struct {
	MPType uint16
	Flags  uint16
	Body   []byte
}

func (*MultipartReply) Type() MsgType { return TypeMultipartReply }

func (m *MultipartReply) appendBody(b []byte) ([]byte, error) {
	return append(put32(put16(put16(b, m.MPType), m.Flags), 0), m.Body...), nil
}

func decodeMultipartRequest(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("multipart request: %w", ErrShort)
	}
	typ, flags, body := be16(b), be16(b[2:]), b[8:]
	switch typ {
	case MultipartFlowDesc:
		return decodeFlowStatsRequest(flags, body)
	case MultipartGroupDesc:
		return decodeGroupDescRequest(flags, body)
	}
	return &MultipartRequest{MPType: typ, Flags: flags, Body: clone(body)}, nil
}

func decodeMultipartReply(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("multipart reply: %w", ErrShort)
	}
	typ, flags, body := be16(b), be16(b[2:]), b[8:]
	switch typ {
	case MultipartFlowDesc:
		return decodeFlowStatsReply(flags, body)
	case MultipartGroupDesc:
		return decodeGroupDescReply(flags, body)
	}
	return &MultipartReply{MPType: typ, Flags: flags, Body: clone(body)}, nil
}

// FlowStatsRequest asks for the flows matching Match (loosely) in Table
// (TableAll for every table), optionally filtered by out port, out group
// and cookie. Use NewFlowStatsRequest for the wildcard defaults.
type FlowStatsRequest struct {
	Flags              uint16
	Table              uint8
	OutPort            uint32
	OutGroup           uint32
	Cookie, CookieMask uint64
	Match              Match
}

// NewFlowStatsRequest asks for every flow in every table.
func NewFlowStatsRequest() *FlowStatsRequest {
	return &FlowStatsRequest{Table: TableAll, OutPort: PortAny, OutGroup: GroupAny}
}

func (*FlowStatsRequest) Type() MsgType { return TypeMultipartRequest }

func (m *FlowStatsRequest) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, MultipartFlowDesc), m.Flags), 0)
	b = put32(put32(append(b, m.Table, 0, 0, 0), m.OutPort), m.OutGroup)
	b = put64(put64(put32(b, 0), m.Cookie), m.CookieMask)
	return m.Match.append(b)
}

func decodeFlowStatsRequest(flags uint16, b []byte) (Message, error) {
	if len(b) < 32 {
		return nil, fmt.Errorf("flow stats request: %w", ErrShort)
	}
	m := &FlowStatsRequest{Flags: flags, Table: b[0], OutPort: be32(b[4:]), OutGroup: be32(b[8:]),
		Cookie: be64(b[16:]), CookieMask: be64(b[24:])}
	match, _, err := decodeMatch(b[32:])
	if err != nil {
		return nil, fmt.Errorf("flow stats request: %w", err)
	}
	m.Match = match
	return m, nil
}

// FlowStats is one flow in a flow stats reply: an OpenFlow 1.5
// ofp_flow_desc with its counters carried as OXS fields.
type FlowStats struct {
	Table        uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Importance   uint16
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        Match
	Instructions Instructions
}

// FlowStatsReply is one part of the reply to a FlowStatsRequest.
type FlowStatsReply struct {
	Flags uint16
	Flows []FlowStats
}

func (*FlowStatsReply) Type() MsgType { return TypeMultipartReply }

func (m *FlowStatsReply) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, MultipartFlowDesc), m.Flags), 0)
	for _, f := range m.Flows {
		var err error
		if b, err = f.append(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (f FlowStats) append(b []byte) ([]byte, error) {
	start := len(b)
	b = append(put32(b, 0), f.Table, 0)
	b = put16(put16(put16(put16(b, f.Priority), f.IdleTimeout), f.HardTimeout), f.Flags)
	b = put64(put16(b, f.Importance), f.Cookie)
	b, err := f.Match.append(b)
	if err != nil {
		return nil, fmt.Errorf("flow stats: %w", err)
	}
	b = f.appendStats(b)
	if b, err = f.Instructions.append(b); err != nil {
		return nil, fmt.Errorf("flow stats: %w", err)
	}
	n := len(b) - start
	b[start], b[start+1] = byte(n>>8), byte(n)
	return b, nil
}

// OXS statistics fields (class OFPXSC_OPENFLOW_BASIC).
const (
	oxsClass       = 0x8002
	oxsDuration    = 0
	oxsIdleTime    = 1
	oxsPacketCount = 4
	oxsByteCount   = 5
)

// appendStats appends the ofp_stats of f: duration, packet and byte count.
func (f FlowStats) appendStats(b []byte) []byte {
	start := len(b)
	b = put32(b, 0)
	oxs := func(field uint8, n int) []byte { return put32(b, oxsClass<<16|uint32(field)<<9|uint32(n)) }
	b = put32(put32(oxs(oxsDuration, 8), f.DurationSec), f.DurationNsec)
	b = put64(oxs(oxsPacketCount, 8), f.PacketCount)
	b = put64(oxs(oxsByteCount, 8), f.ByteCount)
	n := len(b) - start
	b[start+2], b[start+3] = byte(n>>8), byte(n)
	return pad8(b, start)
}

// decodeStats reads an ofp_stats into f and returns the bytes after it.
func (f *FlowStats) decodeStats(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("flow stats oxs: %w", ErrShort)
	}
	n := int(be16(b[2:]))
	padded := (n + 7) / 8 * 8
	if n < 4 || padded > len(b) {
		return nil, fmt.Errorf("flow stats oxs length %d: %w", n, ErrShort)
	}
	for p := b[4:n]; len(p) >= 4; {
		h := be32(p)
		k := int(h & 0xff)
		if 4+k > len(p) {
			return nil, fmt.Errorf("oxs 0x%08x: %w", h, ErrShort)
		}
		v := p[4 : 4+k]
		if h>>16 == oxsClass && k == 8 {
			switch uint8(h>>9) & 0x7f {
			case oxsDuration:
				f.DurationSec, f.DurationNsec = be32(v), be32(v[4:])
			case oxsPacketCount:
				f.PacketCount = be64(v)
			case oxsByteCount:
				f.ByteCount = be64(v)
			}
		}
		p = p[4+k:]
	}
	return b[padded:], nil
}

func decodeFlowStatsReply(flags uint16, b []byte) (Message, error) {
	m := &FlowStatsReply{Flags: flags}
	err := eachFlowStats(b, func(f FlowStats) error {
		m.Flows = append(m.Flows, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// eachFlowStats decodes the ofp_flow_desc records of a flow stats reply
// body one at a time and passes each to fn.
func eachFlowStats(b []byte, fn func(FlowStats) error) error {
	for len(b) > 0 {
		f, n, err := decodeFlowStats(b)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// decodeFlowStats decodes the ofp_flow_desc at the start of b and
// returns its length.
func decodeFlowStats(b []byte) (FlowStats, int, error) {
	if len(b) < 24 {
		return FlowStats{}, 0, fmt.Errorf("flow stats: %w", ErrShort)
	}
	n := int(be16(b))
	if n < 24 || n > len(b) {
		return FlowStats{}, 0, fmt.Errorf("flow stats length %d: %w", n, ErrShort)
	}
	f := FlowStats{Table: b[4], Priority: be16(b[6:]), IdleTimeout: be16(b[8:]),
		HardTimeout: be16(b[10:]), Flags: be16(b[12:]), Importance: be16(b[14:]), Cookie: be64(b[16:])}
	match, rest, err := decodeMatch(b[24:n])
	if err != nil {
		return FlowStats{}, 0, fmt.Errorf("flow stats: %w", err)
	}
	f.Match = match
	if rest, err = f.decodeStats(rest); err != nil {
		return FlowStats{}, 0, err
	}
	if f.Instructions, err = decodeInstructions(rest); err != nil {
		return FlowStats{}, 0, fmt.Errorf("flow stats: %w", err)
	}
	return f, n, nil
}

// String renders f as `ovs-ofctl dump-flows` prints it (without the
// leading space), statistics included.
func (f FlowStats) String() string {
	return f.format(true)
}

// NoStats renders f as `ovs-ofctl dump-flows --no-stats` prints it, which
// is stable across dumps and so what tests compare.
func (f FlowStats) NoStats() string { return f.format(false) }

func (f FlowStats) format(stats bool) string {
	var s strings.Builder
	if stats || f.Cookie != 0 {
		fmt.Fprintf(&s, "cookie=0x%x, ", f.Cookie)
	}
	if stats {
		s.WriteString("duration=" + durationString(f.DurationSec, f.DurationNsec) + ", ")
	}
	if stats || f.Table != 0 {
		fmt.Fprintf(&s, "table=%d, ", f.Table)
	}
	if stats {
		fmt.Fprintf(&s, "n_packets=%d, n_bytes=%d, ", f.PacketCount, f.ByteCount)
	}
	if f.IdleTimeout != 0 {
		fmt.Fprintf(&s, "idle_timeout=%d, ", f.IdleTimeout)
	}
	if f.HardTimeout != 0 {
		fmt.Fprintf(&s, "hard_timeout=%d, ", f.HardTimeout)
	}
	if f.Flags != 0 {
		s.WriteString(strings.TrimPrefix(flowModFlagsString(f.Flags), " ") + " ")
	}
	if f.Importance != 0 {
		fmt.Fprintf(&s, "importance=%d, ", f.Importance)
	}
	s.WriteString(f.Match.format(int(f.Priority)))
	if out := s.String(); out != "" && out[len(out)-1] != ' ' {
		s.WriteString(" ")
	}
	return s.String() + "actions=" + f.Instructions.String()
}

// durationString prints seconds with milliseconds when there are any, as
// ovs-ofctl does.
func durationString(sec, nsec uint32) string {
	if nsec == 0 {
		return fmt.Sprintf("%ds", sec)
	}
	return fmt.Sprintf("%d.%03ds", sec, nsec/1000000)
}

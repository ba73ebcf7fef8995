package openflow

import (
	"fmt"
	"strings"
)

// Meter mod commands (OFPMC_*).
const (
	MeterAdd    = 0
	MeterModify = 1
	MeterDelete = 2
)

// Meter flags (OFPMF_*).
const (
	MeterKbps  = 1 << 0
	MeterPktps = 1 << 1
	MeterBurst = 1 << 2
	MeterStats = 1 << 3
)

// MeterAll is the meter id meaning every meter (deletes).
const MeterAll = 0xffffffff

// Meter band types (OFPMBT_*).
const (
	BandDrop       = 1
	BandDSCPRemark = 2
)

// MeterMod adds, modifies or deletes a meter (OFPT_METER_MOD).
type MeterMod struct {
	Command uint16
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

// MeterBand is a drop or DSCP-remark band; PrecLevel is for DSCP remark.
type MeterBand struct {
	Type      uint16
	Rate      uint32
	BurstSize uint32
	PrecLevel uint8
}

func (*MeterMod) Type() MsgType { return TypeMeterMod }

func (m *MeterMod) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, m.Command), m.Flags), m.MeterID)
	for _, d := range m.Bands {
		b = put32(put32(put16(put16(b, d.Type), 16), d.Rate), d.BurstSize)
		if d.Type == BandDSCPRemark {
			b = append(b, d.PrecLevel, 0, 0, 0)
		} else {
			b = put32(b, 0)
		}
	}
	return b, nil
}

func decodeMeterMod(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("meter mod: %w", ErrShort)
	}
	m := &MeterMod{Command: be16(b), Flags: be16(b[2:]), MeterID: be32(b[4:])}
	for p := b[8:]; len(p) > 0; {
		if len(p) < 16 || int(be16(p[2:])) < 16 || int(be16(p[2:])) > len(p) {
			return nil, fmt.Errorf("meter band: %w", ErrShort)
		}
		d := MeterBand{Type: be16(p), Rate: be32(p[4:]), BurstSize: be32(p[8:])}
		if d.Type == BandDSCPRemark {
			d.PrecLevel = p[12]
		}
		m.Bands, p = append(m.Bands, d), p[be16(p[2:]):]
	}
	return m, nil
}

// String renders m as `ovs-ofctl ofp-print` does, bands on their own lines.
func (m *MeterMod) String() string {
	var s strings.Builder
	s.WriteString([]string{"ADD", "MOD", "DEL"}[min(int(m.Command), 2)])
	if m.MeterID == MeterAll {
		s.WriteString(" meter=all")
	} else {
		fmt.Fprintf(&s, " meter=%d", m.MeterID)
	}
	for i, n := range []string{"kbps", "pktps", "burst", "stats"} {
		if m.Flags&(1<<i) != 0 {
			s.WriteString(" " + n)
		}
	}
	s.WriteString(" bands=")
	for _, d := range m.Bands {
		s.WriteString("\n")
		switch d.Type {
		case BandDrop:
			s.WriteString("type=drop")
		case BandDSCPRemark:
			s.WriteString("type=dscp_remark")
		default:
			fmt.Fprintf(&s, "type=%d", d.Type)
		}
		fmt.Fprintf(&s, " rate=%d", d.Rate)
		if m.Flags&MeterBurst != 0 {
			fmt.Fprintf(&s, " burst_size=%d", d.BurstSize)
		}
		if d.Type == BandDSCPRemark {
			fmt.Fprintf(&s, " prec_level=%d", d.PrecLevel)
		}
	}
	return s.String()
}

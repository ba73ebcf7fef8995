package openflow

import (
	"fmt"
	"net/netip"
	"strings"
)

// CT flags (NX_CT_F_*).
const (
	CTCommit = 1 << 0
	CTForce  = 1 << 1
)

// CTNoTable is the CT.Table value for "no recirculation".
const CTNoTable = 255

// CT sends the packet through the connection tracker (NXAST_CT). The zone
// is either the immediate Zone or, when ZoneSrc.Field is set, read from a
// subfield. Actions are the nested actions: a leading *NAT, then set_field
// of ct_mark / ct_label (rendered inside exec(...)).
type CT struct {
	Flags   uint16
	ZoneSrc Subfield
	Zone    uint16
	Table   uint8
	Alg     uint16
	Actions []Action
}

func (a *CT) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(nxHeader(b, nxCT), a.Flags)
	if a.ZoneSrc.Field != nil {
		var err error
		if b, err = a.ZoneSrc.appendNXMHeader(b); err != nil {
			return nil, fmt.Errorf("ct zone: %w", err)
		}
		b = put16(b, a.ZoneSrc.ofsNBits())
	} else {
		b = put16(put32(b, 0), a.Zone)
	}
	b = put16(append(b, a.Table, 0, 0, 0), a.Alg)
	b, err := appendActions(b, a.Actions)
	if err != nil {
		return nil, fmt.Errorf("ct actions: %w", err)
	}
	return fixLen(b, start), nil
}

var algNames = map[uint16]string{21: "ftp", 69: "tftp"}

func (a *CT) String() string {
	var p []string
	if a.Flags&CTCommit != 0 {
		p = append(p, "commit")
	}
	if a.Flags&CTForce != 0 {
		p = append(p, "force")
	}
	if a.Table != CTNoTable {
		p = append(p, fmt.Sprintf("table=%d", a.Table))
	}
	if a.ZoneSrc.Field != nil {
		p = append(p, "zone="+a.ZoneSrc.String())
	} else if a.Zone != 0 {
		p = append(p, fmt.Sprintf("zone=%d", a.Zone))
	}
	acts := a.Actions
	if len(acts) > 0 {
		if n, ok := acts[0].(*NAT); ok {
			p = append(p, n.String())
			acts = acts[1:]
		}
	}
	if len(acts) > 0 {
		p = append(p, "exec("+actionsString(acts)+")")
	}
	if a.Alg != 0 {
		name, ok := algNames[a.Alg]
		if !ok {
			name = fmt.Sprint(a.Alg)
		}
		p = append(p, "alg="+name)
	}
	return "ct(" + strings.Join(p, ",") + ")"
}

func decodeCT(a []byte) (Action, error) {
	if len(a) < 24 {
		return nil, fmt.Errorf("ct: %w", ErrShort)
	}
	c := &CT{Flags: be16(a[10:]), Table: a[18], Alg: be16(a[22:])}
	if src := be32(a[12:]); src != 0 {
		f, _, err := decodeFieldHeader(a[12:16])
		if err != nil {
			return nil, fmt.Errorf("ct zone: %w", err)
		}
		c.ZoneSrc = subfieldFromOfsNBits(f, be16(a[16:]))
	} else {
		c.Zone = be16(a[16:])
	}
	acts, err := decodeActions(a[24:])
	if err != nil {
		return nil, fmt.Errorf("ct actions: %w", err)
	}
	c.Actions = acts
	return c, nil
}

// NAT flags (NX_NAT_F_*).
const (
	NATSrc        = 1 << 0
	NATDst        = 1 << 1
	NATPersistent = 1 << 2
	NATProtoHash  = 1 << 3
	NATProtoRand  = 1 << 4
)

// NAT range presence bits (NX_NAT_RANGE_*).
const (
	natIPv4Min  = 1 << 0
	natIPv4Max  = 1 << 1
	natIPv6Min  = 1 << 2
	natIPv6Max  = 1 << 3
	natProtoMin = 1 << 4
	natProtoMax = 1 << 5
)

// NAT is the nat(...) action nested in ct (NXAST_NAT). Zero addresses and
// ports mean "not given".
type NAT struct {
	Flags              uint16
	IPMin, IPMax       netip.Addr
	ProtoMin, ProtoMax uint16
}

func (a *NAT) rangePresent() uint16 {
	var r uint16
	if a.IPMin.IsValid() {
		r |= map[bool]uint16{true: natIPv4Min, false: natIPv6Min}[a.IPMin.Is4()]
	}
	if a.IPMax.IsValid() {
		r |= map[bool]uint16{true: natIPv4Max, false: natIPv6Max}[a.IPMax.Is4()]
	}
	if a.ProtoMin != 0 {
		r |= natProtoMin
	}
	if a.ProtoMax != 0 {
		r |= natProtoMax
	}
	return r
}

func (a *NAT) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	b = put16(put16(zeros(nxHeader(b, nxNAT), 2), a.Flags), a.rangePresent())
	for _, ip := range []netip.Addr{a.IPMin, a.IPMax} {
		if ip.IsValid() {
			b = append(b, ip.AsSlice()...)
		}
	}
	if a.ProtoMin != 0 {
		b = put16(b, a.ProtoMin)
	}
	if a.ProtoMax != 0 {
		b = put16(b, a.ProtoMax)
	}
	return fixLen(pad8(b, start), start), nil
}

// natAddr brackets IPv6 addresses when a port follows, as OVS does.
func natAddr(ip netip.Addr, port bool) string {
	if ip.Is6() && port {
		return "[" + ip.String() + "]"
	}
	return ip.String()
}

func (a *NAT) String() string {
	if a.Flags&(NATSrc|NATDst) == 0 {
		return "nat"
	}
	var s strings.Builder
	s.WriteString("nat(")
	if a.Flags&NATSrc != 0 {
		s.WriteString("src")
	} else {
		s.WriteString("dst")
	}
	if a.IPMin.IsValid() {
		s.WriteString("=" + natAddr(a.IPMin, a.ProtoMin != 0))
		if a.IPMax.IsValid() && a.IPMax != a.IPMin {
			s.WriteString("-" + natAddr(a.IPMax, a.ProtoMin != 0))
		}
	}
	if a.ProtoMin != 0 {
		fmt.Fprintf(&s, ":%d", a.ProtoMin)
		if a.ProtoMax != 0 && a.ProtoMax != a.ProtoMin {
			fmt.Fprintf(&s, "-%d", a.ProtoMax)
		}
	}
	for _, f := range []struct {
		bit  uint16
		name string
	}{{NATPersistent, "persistent"}, {NATProtoHash, "hash"}, {NATProtoRand, "random"}} {
		if a.Flags&f.bit != 0 {
			s.WriteString("," + f.name)
		}
	}
	return s.String() + ")"
}

func decodeNAT(a []byte) (Action, error) {
	n := &NAT{Flags: be16(a[12:])}
	r, p := be16(a[14:]), a[16:]
	take := func(k int) ([]byte, error) {
		if len(p) < k {
			return nil, fmt.Errorf("nat range: %w", ErrShort)
		}
		v := p[:k]
		p = p[k:]
		return v, nil
	}
	for _, f := range []struct {
		bit uint16
		n   int
		dst *netip.Addr
	}{{natIPv4Min, 4, &n.IPMin}, {natIPv4Max, 4, &n.IPMax}, {natIPv6Min, 16, &n.IPMin}, {natIPv6Max, 16, &n.IPMax}} {
		if r&f.bit != 0 {
			v, err := take(f.n)
			if err != nil {
				return nil, err
			}
			*f.dst, _ = netip.AddrFromSlice(v)
		}
	}
	for _, f := range []struct {
		bit uint16
		dst *uint16
	}{{natProtoMin, &n.ProtoMin}, {natProtoMax, &n.ProtoMax}} {
		if r&f.bit != 0 {
			v, err := take(2)
			if err != nil {
				return nil, err
			}
			*f.dst = be16(v)
		}
	}
	return n, nil
}

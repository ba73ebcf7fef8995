package openflow

import (
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ParseFlow parses a flow in ovs-ofctl syntax ("table=8,priority=50,
// reg14=0x1,dl_src=00:00:00:00:00:01 actions=resubmit(,9)") into an ADD
// flow mod. It covers the matches and actions this package renders except
// learn; it exists for tests and tools, not for the datapath.
func ParseFlow(s string) (*FlowMod, error) {
	head, acts, ok := strings.Cut(s, "actions=")
	if !ok {
		return nil, fmt.Errorf("parse flow %q: no actions=", s)
	}
	fm := NewFlowMod(FlowAdd, 0, 0x8000)
	p := &matchParser{fm: fm}
	for _, item := range splitTop(head, true) {
		if err := p.item(item); err != nil {
			return nil, fmt.Errorf("parse flow %q: %w", s, err)
		}
	}
	fm.Match = sortPrereqs(p.match)
	in, err := parseInstructions(acts)
	if err != nil {
		return nil, fmt.Errorf("parse flow %q: %w", s, err)
	}
	fm.Instructions = in
	return fm, nil
}

// splitTop splits s at commas (and, if spaces, whitespace) outside
// parentheses.
func splitTop(s string, spaces bool) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (c == ',' || spaces && (c == ' ' || c == '\t')):
			if t := strings.TrimSpace(s[start:i]); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

type matchParser struct {
	fm    *FlowMod
	match Match
}

var protoShorthands = map[string][2]uint64{
	"ip": {0x0800, 0}, "ipv6": {0x86dd, 0}, "arp": {0x0806, 0}, "rarp": {0x8035, 0},
	"icmp": {0x0800, 1}, "tcp": {0x0800, 6}, "udp": {0x0800, 17}, "sctp": {0x0800, 132},
	"icmp6": {0x86dd, 58}, "tcp6": {0x86dd, 6}, "udp6": {0x86dd, 17}, "sctp6": {0x86dd, 132},
}

var flowFlagNames = map[string]uint16{"send_flow_rem": FlagSendFlowRem, "check_overlap": FlagCheckOverlap,
	"reset_counts": FlagResetCounts, "no_packet_counts": FlagNoPktCounts, "no_byte_counts": FlagNoBytCounts}

func (p *matchParser) item(item string) error {
	if sh, ok := protoShorthands[item]; ok {
		p.add(F("eth_type").Exact(sh[0]))
		if sh[1] != 0 {
			p.add(F("nw_proto").Exact(sh[1]))
		}
		return nil
	}
	if f, ok := flowFlagNames[item]; ok {
		p.fm.Flags |= f
		return nil
	}
	k, v, ok := strings.Cut(item, "=")
	if !ok {
		return fmt.Errorf("unknown match item %q", item)
	}
	if done, err := p.header(k, v); done || err != nil {
		return err
	}
	f, err := p.field(k)
	if err != nil {
		return err
	}
	o, err := parseValue(f, v)
	if err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	if k == "dl_vlan" {
		o = f.Exact(o.Uint() | 0x1000)
	}
	p.add(o)
	return nil
}

func (p *matchParser) add(o OXM) {
	p.match = slices.DeleteFunc(p.match, func(x OXM) bool { return x.Field == o.Field })
	p.match = append(p.match, o)
}

// header parses the flow-mod fields that are not matches.
func (p *matchParser) header(k, v string) (bool, error) {
	var dst16 *uint16
	switch k {
	case "table":
		n, err := strconv.ParseUint(v, 0, 8)
		p.fm.Table = uint8(n)
		return true, err
	case "cookie":
		c, m, _ := strings.Cut(v, "/")
		var err error
		if p.fm.Cookie, err = strconv.ParseUint(c, 0, 64); err == nil && m != "" {
			p.fm.CookieMask, err = parseUintMask(m, 64)
		}
		return true, err
	case "priority":
		dst16 = &p.fm.Priority
	case "idle_timeout":
		dst16 = &p.fm.IdleTimeout
	case "hard_timeout":
		dst16 = &p.fm.HardTimeout
	case "importance":
		dst16 = &p.fm.Importance
	default:
		return false, nil
	}
	n, err := strconv.ParseUint(v, 0, 16)
	*dst16 = uint16(n)
	return true, err
}

func parseUintMask(s string, bits int) (uint64, error) {
	if s == "-1" {
		return ^uint64(0) >> (64 - bits), nil
	}
	return strconv.ParseUint(s, 0, bits)
}

// field resolves a match name, including the OpenFlow 1.0 names whose
// meaning depends on the protocol (nw_src on ARP, tp_dst on UDP...).
func (p *matchParser) field(k string) (*Field, error) {
	eth, proto := uint64(0), uint64(0)
	for _, o := range p.match {
		switch o.Field.Name {
		case "eth_type":
			eth = o.Uint()
		case "nw_proto":
			proto = o.Uint()
		}
	}
	switch k {
	case "nw_src", "nw_dst":
		if eth == 0x0806 || eth == 0x8035 {
			return F(map[string]string{"nw_src": "arp_spa", "nw_dst": "arp_tpa"}[k]), nil
		}
	case "nw_proto":
		if eth == 0x0806 || eth == 0x8035 {
			return F("arp_op"), nil
		}
	case "tp_src", "tp_dst":
		l4 := map[uint64]string{6: "tcp", 17: "udp", 132: "sctp"}[proto]
		if l4 == "" {
			return nil, fmt.Errorf("%s needs tcp, udp or sctp", k)
		}
		return F(l4 + k[2:]), nil
	case "icmp_type", "icmp_code":
		if eth == 0x86dd {
			return F("icmpv6" + k[4:]), nil
		}
	case "in_port":
		return F("in_port_oxm"), nil
	case "dl_vlan", "vlan_tci":
		return F("vlan_vid"), nil
	}
	f := FieldByName(k)
	if f == nil {
		return nil, fmt.Errorf("unknown field %q", k)
	}
	return f, nil
}

// prereqRank orders fields so that prerequisites come first, as OVS's
// decoder checks them in order.
func prereqRank(f *Field) int {
	switch f.Name {
	case "eth_type":
		return 0
	case "nw_proto":
		return 1
	case "ct_state", "icmpv6_type", "icmpv6_code":
		return 2
	}
	return 3
}

func sortPrereqs(m Match) Match {
	slices.SortStableFunc(m, func(a, b OXM) int { return prereqRank(a.Field) - prereqRank(b.Field) })
	return m
}

// parseValue parses "v" or "v/mask" for f.
func parseValue(f *Field, s string) (OXM, error) {
	switch f.Kind {
	case KindCtState, KindTCPFlags, KindTunFlags:
		if !strings.HasPrefix(s, "0") {
			return parseFlags(f, s)
		}
	case KindMAC:
		return parseMasked(f, s, parseMAC)
	case KindIPv4, KindIPv6:
		return parseIP(f, s)
	case KindPort:
		if p, ok := portByName(s); ok {
			return f.Exact(uint64(p)), nil
		}
	}
	if f.Name == "ip_frag" {
		for k, n := range map[string][2]uint64{"no": {0, 3}, "yes": {1, 1}, "first": {1, 3}, "later": {3, 3}, "not_later": {0, 2}} {
			if s == k {
				return f.Masked(n[0], n[1]), nil
			}
		}
	}
	return parseMasked(f, s, func(v string) ([]byte, error) { return parseInt(v, f.width()) })
}

func parseMasked(f *Field, s string, one func(string) ([]byte, error)) (OXM, error) {
	v, m, masked := strings.Cut(s, "/")
	o := OXM{Field: f}
	var err error
	if o.Value, err = one(v); err != nil || !masked {
		return o, err
	}
	o.Mask, err = one(m)
	return o, err
}

// parseInt parses a decimal or 0x-hex number of up to n bytes.
func parseInt(s string, n int) ([]byte, error) {
	z, ok := new(big.Int).SetString(s, 0)
	if !ok || z.Sign() < 0 || z.BitLen() > 8*n {
		return nil, fmt.Errorf("bad %d-byte value %q", n, s)
	}
	return z.FillBytes(make([]byte, n)), nil
}

func parseMAC(s string) ([]byte, error) {
	p := strings.Split(s, ":")
	if len(p) != 6 {
		return nil, fmt.Errorf("bad MAC %q", s)
	}
	b := make([]byte, 6)
	for i, x := range p {
		v, err := strconv.ParseUint(x, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad MAC %q", s)
		}
		b[i] = byte(v)
	}
	return b, nil
}

func parseIP(f *Field, s string) (OXM, error) {
	if pfx, err := netip.ParsePrefix(s); err == nil {
		bits := pfx.Addr().BitLen()
		mask := new(big.Int).Lsh(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(pfx.Bits())), big.NewInt(1)), uint(bits-pfx.Bits()))
		return OXM{Field: f, Value: pfx.Addr().AsSlice(), Mask: mask.FillBytes(make([]byte, bits/8))}, nil
	}
	return parseMasked(f, s, func(v string) ([]byte, error) {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, err
		}
		return a.AsSlice(), nil
	})
}

func parseFlags(f *Field, s string) (OXM, error) {
	names := map[Kind][]string{KindCtState: ctStateNames, KindTCPFlags: tcpFlagNames, KindTunFlags: {"oam"}}[f.Kind]
	var v, m uint64
	if strings.ContainsAny(s, "+-") {
		for s != "" {
			sign := s[0]
			s = s[1:]
			i := strings.IndexAny(s, "+-")
			if i < 0 {
				i = len(s)
			}
			bit := slices.Index(names, s[:i])
			if bit < 0 || (sign != '+' && sign != '-') {
				return OXM{}, fmt.Errorf("bad flag in %q", s)
			}
			m |= 1 << bit
			if sign == '+' {
				v |= 1 << bit
			}
			s = s[i:]
		}
		return f.Masked(v, m), nil
	}
	for _, n := range strings.Split(s, "|") {
		bit := slices.Index(names, n)
		if bit < 0 {
			return OXM{}, fmt.Errorf("bad flag %q", n)
		}
		v |= 1 << bit
	}
	return f.Exact(v), nil
}

func portByName(s string) (uint32, bool) {
	for p, n := range portNames {
		if n == s {
			return p, true
		}
	}
	return 0, false
}

// parseSubfield parses NAME[], NAME[n] or NAME[a..b].
func parseSubfield(s string) (Subfield, error) {
	name, rng, ok := strings.Cut(s, "[")
	if !ok || !strings.HasSuffix(rng, "]") {
		return Subfield{}, fmt.Errorf("bad subfield %q", s)
	}
	f := fieldsByNXMName[name]
	if f == nil {
		if f = FieldByName(name); f == nil {
			return Subfield{}, fmt.Errorf("unknown field %q", name)
		}
	}
	rng = strings.TrimSuffix(rng, "]")
	if rng == "" {
		return f.All(), nil
	}
	a, b, isRange := strings.Cut(rng, "..")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return Subfield{}, fmt.Errorf("bad subfield %q", s)
	}
	hi := lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil || hi < lo {
			return Subfield{}, fmt.Errorf("bad subfield %q", s)
		}
	}
	return f.Sub(lo, hi-lo+1), nil
}

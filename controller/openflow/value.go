package openflow

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
)

// hexC prints b as C's "%#x" does: "0" for zero, else 0x without leading
// zeros.
func hexC(b []byte) string {
	s := strings.TrimLeft(fmt.Sprintf("%x", b), "0")
	if s == "" {
		return "0"
	}
	return "0x" + s
}

func hexU(v uint64) string { return hexC(uintBytes(v, 8)) }

func macString(b []byte) string {
	p := make([]string, len(b))
	for i, c := range b {
		p[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(p, ":")
}

// prefixLen returns the CIDR length of mask, or -1 if it is not a prefix.
func prefixLen(mask []byte) int {
	n := 0
	for i, c := range mask {
		if c == 0xff {
			n += 8
			continue
		}
		n += bits.LeadingZeros8(^c)
		if c<<bits.LeadingZeros8(^c) != 0 {
			return -1
		}
		for _, d := range mask[i+1:] {
			if d != 0 {
				return -1
			}
		}
		return n
	}
	return n
}

func ipString(b []byte) string {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return hexC(b)
	}
	return a.String()
}

// portNames are the reserved OpenFlow 1.5 port numbers.
var portNames = map[uint32]string{
	0xfffffff8: "IN_PORT", 0xfffffff9: "TABLE", 0xfffffffa: "NORMAL",
	0xfffffffb: "FLOOD", 0xfffffffc: "ALL", 0xfffffffd: "CONTROLLER",
	0xfffffffe: "LOCAL", 0xffffffff: "ANY",
}

// Reserved port numbers.
const (
	PortInPort     = 0xfffffff8
	PortTable      = 0xfffffff9
	PortNormal     = 0xfffffffa
	PortFlood      = 0xfffffffb
	PortAll        = 0xfffffffc
	PortController = 0xfffffffd
	PortLocal      = 0xfffffffe
	PortAny        = 0xffffffff
)

func portString(p uint32) string {
	if n, ok := portNames[p]; ok {
		return n
	}
	return fmt.Sprint(p)
}

// port16String prints a 16-bit OpenFlow 1.0 port number.
func port16String(p uint16) string {
	if p >= 0xfff8 {
		return portString(uint32(p) | 0xffff0000)
	}
	return fmt.Sprint(p)
}

var ctStateNames = []string{"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"}
var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"}

// flagsString prints "+a-b" for every bit in mask, lowest bit first.
func flagsString(v, mask uint64, names []string) string {
	var s strings.Builder
	for i, n := range names {
		if mask&(1<<i) == 0 {
			continue
		}
		if v&(1<<i) != 0 {
			s.WriteString("+" + n)
		} else {
			s.WriteString("-" + n)
		}
	}
	return s.String()
}

// setFlagsString prints the set bits as "a|b", as OVS prints an exact
// flags match.
func setFlagsString(v uint64, names []string) string {
	var p []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			p = append(p, n)
		}
	}
	if rest := v >> len(names); rest != 0 || len(p) == 0 {
		p = append(p, hexU(v&^(1<<len(names)-1)))
	}
	return strings.Join(p, "|")
}

// fragString names an ip_frag match as OVS does.
func fragString(v, m uint64) string {
	names := map[[2]uint64]string{{0, 1}: "no", {1, 1}: "yes", {0, 3}: "no", {1, 3}: "first",
		{3, 3}: "later", {0, 2}: "not_later", {2, 2}: "later"}
	if n, ok := names[[2]uint64{v, m}]; ok {
		return n
	}
	return hexU(v) + "/" + hexU(m)
}

// valueString prints a field value (and mask, if any) as mf_format does.
func valueString(o OXM) string {
	f, v, m := o.Field, o.Value, o.Mask
	if o.exact() {
		m = nil
	}
	switch f.Kind {
	case KindMAC:
		if m != nil {
			return macString(v) + "/" + macString(m)
		}
		return macString(v)
	case KindIPv4, KindIPv6:
		if m == nil {
			return ipString(v)
		}
		if n := prefixLen(m); n >= 0 {
			return fmt.Sprintf("%s/%d", ipString(v), n)
		}
		return ipString(v) + "/" + ipString(m)
	case KindCtState:
		if m == nil {
			return setFlagsString(bytesUint(v), ctStateNames)
		}
		return flagsString(bytesUint(v), bytesUint(m), ctStateNames)
	case KindTunFlags:
		mask := uint64(1)
		if m != nil {
			mask = bytesUint(m)
		}
		return flagsString(bytesUint(v), mask, []string{"oam"})
	case KindTCPFlags:
		if m == nil {
			return setFlagsString(bytesUint(v), tcpFlagNames)
		}
		return flagsString(bytesUint(v), bytesUint(m), tcpFlagNames)
	}
	if m != nil {
		return hexC(v) + "/" + hexC(m)
	}
	switch f.Kind {
	case KindDecimal:
		return fmt.Sprint(bytesUint(v))
	case KindPort:
		if len(v) == 2 {
			return port16String(uint16(bytesUint(v)))
		}
		return portString(uint32(bytesUint(v)))
	}
	return hexC(v)
}

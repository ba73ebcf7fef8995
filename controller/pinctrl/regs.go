package pinctrl

import (
	"fmt"
	"slices"

	"github.com/ovnd/ovnd/controller/openflow"
)

// regSpan is the 32-bit registers a register field covers: reg N is
// register N; xreg N is registers 2N (high half) and 2N+1; xxreg N is
// registers 4N (most significant) to 4N+3.
func regSpan(f *openflow.Field) (first, n int, ok bool) {
	var k int
	for _, s := range []struct {
		format string
		n      int
	}{{"xxreg%d", 4}, {"xreg%d", 2}, {"reg%d", 1}} {
		if c, err := fmt.Sscanf(f.Name, s.format, &k); err == nil && c == 1 && fmt.Sprintf(s.format, k) == f.Name {
			return k * s.n, s.n, true
		}
	}
	return 0, 0, false
}

// setBit writes one bit (sf must be one bit of a register field) into
// the packet-in metadata md and returns the new metadata. OVS sends the
// registers back as xregs, possibly masked; the bit goes into whichever
// entry covers its register, or into a new one.
func setBit(md openflow.Match, sf openflow.Subfield, v bool) (openflow.Match, error) {
	first, n, ok := regSpan(sf.Field)
	if !ok || sf.Ofs < 0 || sf.Ofs >= 32*n {
		return nil, fmt.Errorf("result field %s is not a register bit", sf)
	}
	reg, bit := first+n-1-sf.Ofs/32, sf.Ofs%32
	out := slices.Clone(md)
	for i, o := range out {
		if f, c, ok := regSpan(o.Field); ok && reg >= f && reg < f+c && len(o.Value) == 4*c {
			out[i] = withBit(o, (f+c-1-reg)*32+bit, v)
			return out, nil
		}
	}
	return append(out, withBit(openflow.Reg(reg).Exact(0), bit, v)), nil
}

// withBit returns o with bit (counted from the least significant) set to
// v, and matched when o is masked.
func withBit(o openflow.OXM, bit int, v bool) openflow.OXM {
	o.Value = slices.Clone(o.Value)
	i, m := len(o.Value)-1-bit/8, byte(1)<<(bit%8)
	if v {
		o.Value[i] |= m
	} else {
		o.Value[i] &^= m
	}
	if o.Mask != nil {
		o.Mask = slices.Clone(o.Mask)
		o.Mask[i] |= m
	}
	return o
}

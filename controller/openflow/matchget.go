package openflow

// Get returns the entry for the named field (by ovs-fields name or
// alias), if the match has one.
func (m Match) Get(name string) (OXM, bool) {
	f := FieldByName(name)
	for _, o := range m {
		if o.Field == f {
			return o, true
		}
	}
	return OXM{}, false
}

// Reg returns register n (0..15) and the mask of its matched bits, looking
// through xreg and xxreg entries too: OVS sends registers back as the
// halves of 64-bit xregs in OpenFlow 1.5 (in dumps and in packet-in2
// metadata).
func (m Match) Reg(n int) (value, mask uint32, ok bool) {
	p := &matchPrinter{}
	for _, o := range m {
		p.addReg(o)
	}
	if n < 0 || n >= len(p.regs) || p.regs[n].m == 0 {
		return 0, 0, false
	}
	return p.regs[n].v, p.regs[n].m, true
}

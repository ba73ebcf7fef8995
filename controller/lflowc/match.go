package lflowc

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// fieldMatch is one OpenFlow field's value and mask while a match is
// being built; matches on the same field (bits of one register from
// two logical fields) merge into it.
type fieldMatch struct {
	f    *openflow.Field
	v, m []byte
}

// ofMatch is an OpenFlow match under construction.
type ofMatch []fieldMatch

// matchArena hands out the ofMatches of one compile from shared
// chunks: they live only until the flows are rendered (openflow copies
// what it keeps), and allocating each on its own was a tenth of what
// compiling allocated. A nil arena allocates from the heap.
//
// The values and masks of fields are arena bytes too: openflow copies
// them into one slice per flow.
type matchArena struct {
	buf   []fieldMatch
	bytes []byte
}

const (
	arenaChunk = 1024
	bytesChunk = 8192
)

// bytesOf returns n bytes for the caller to fill (all of them: they
// may hold an earlier compile's values).
func (a *matchArena) bytesOf(n int) []byte {
	if a == nil || n > bytesChunk/8 {
		return make([]byte, n)
	}
	if len(a.bytes)+n > cap(a.bytes) {
		a.bytes = make([]byte, 0, bytesChunk)
	}
	i := len(a.bytes)
	a.bytes = a.bytes[:i+n]
	return a.bytes[i : i+n : i+n]
}

// uint returns v as n big-endian bytes.
func (a *matchArena) uint(v uint64, n int) []byte {
	b := a.bytesOf(n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// alloc returns an empty ofMatch with room for n fields; growing past n
// reallocates it, so neighbours are never overwritten.
func (a *matchArena) alloc(n int) ofMatch {
	if a == nil || n > arenaChunk/4 {
		return make(ofMatch, 0, n)
	}
	if len(a.buf)+n > cap(a.buf) {
		a.buf = make([]fieldMatch, 0, arenaChunk)
	}
	i := len(a.buf)
	a.buf = a.buf[:i+n]
	return a.buf[i : i : i+n]
}

// reset lets the arena reuse its chunk once nothing allocated from it
// is in use.
func (a *matchArena) reset() {
	if a != nil {
		clear(a.buf) // drop the values and masks they refer to
		a.buf = a.buf[:0]
		a.bytes = a.bytes[:0]
	}
}

// clone returns a copy of m the caller owns, with room for extra more
// fields.
func (a *matchArena) clone(m ofMatch, extra int) ofMatch {
	return append(a.alloc(len(m)+extra), m...)
}

// with returns m with f=v/mask added, or false when that contradicts
// what m already has. It may modify and append to m, which the caller
// must own (see clone); values and masks are never modified.
func (a *matchArena) with(m ofMatch, f *openflow.Field, v, mask []byte) (ofMatch, bool) {
	out := m
	for i, fm := range out {
		if fm.f != f {
			continue
		}
		nv, nm := a.bytesOf(len(v)), a.bytesOf(len(v))
		for j := range v {
			if (fm.v[j]^v[j])&fm.m[j]&mask[j] != 0 {
				return nil, false
			}
			nv[j], nm[j] = fm.v[j]|v[j], fm.m[j]|mask[j]
		}
		out[i] = fieldMatch{f, nv, nm}
		return out, true
	}
	return append(out, fieldMatch{f, v, mask}), true
}

// merge returns m and o combined, or false if they contradict; neither
// is modified.
func (a *matchArena) merge(m, o ofMatch) (ofMatch, bool) {
	return a.mergeInto(a.alloc(len(m)+len(o)), m, o)
}

// mergeInto is merge into dst's space, which it overwrites, for a match
// that is rendered before dst is used again: a conjunction clause of a
// set of 10,000 addresses filled some forty arena chunks on each
// datapath with matches dead as soon as they were rendered.
func (a *matchArena) mergeInto(dst, m, o ofMatch) (ofMatch, bool) {
	out := append(dst[:0], m...)
	for _, fm := range o {
		var ok bool
		if out, ok = a.with(out, fm.f, fm.v, fm.m); !ok {
			return nil, false
		}
	}
	return out, true
}

// openflow renders the match in prerequisite order, with exact matches
// unmasked. The values and masks are copied into one slice the flow
// owns.
func (m ofMatch) openflow() openflow.Match {
	n := 0
	for _, fm := range m {
		n += len(fm.v)
		if !isFullMask(fm.f, fm.m) {
			n += len(fm.m)
		}
	}
	buf := make([]byte, n)
	take := func(b []byte) []byte {
		k := copy(buf, b)
		out := buf[:k:k]
		buf = buf[k:]
		return out
	}
	var small [16]int
	rank := small[:0]
	for _, fm := range m {
		rank = append(rank, prereqRank(fm.f))
	}
	// A stable sort by rank: each rank in turn, fields in their order.
	out := make(openflow.Match, 0, len(m))
	for r := minRank; r <= maxRank; r++ {
		for i, fm := range m {
			if rank[i] != r {
				continue
			}
			o := openflow.OXM{Field: fm.f, Value: take(fm.v)}
			if !isFullMask(fm.f, fm.m) {
				o.Mask = take(fm.m)
			}
			out = append(out, o)
		}
	}
	return out
}

// fullMask is the mask of every significant bit of f.
func fullMask(f *openflow.Field, n int) []byte {
	if f.Name == "vlan_vid" {
		return []byte{0x1f, 0xff}
	}
	mask := make([]byte, n)
	bits := f.Bits
	if bits == 0 || bits > 8*n {
		bits = 8 * n
	}
	for i := 0; i < bits; i++ {
		mask[n-1-i/8] |= 1 << (i % 8)
	}
	return mask
}

// isFullMask reports whether mask covers every significant bit of f,
// without allocating.
func isFullMask(f *openflow.Field, mask []byte) bool {
	n := len(mask)
	if f.Name == "vlan_vid" {
		return n == 2 && mask[0] == 0x1f && mask[1] == 0xff
	}
	bits := f.Bits
	if bits == 0 || bits > 8*n {
		bits = 8 * n
	}
	for i := 0; i < n; i++ {
		want := byte(0xff)
		if lo := 8 * (n - 1 - i); bits <= lo {
			want = 0
		} else if bits < lo+8 {
			want = byte(1<<(bits-lo) - 1)
		}
		if mask[i] != want {
			return false
		}
	}
	return true
}

// prereqRank orders fields so that each comes after its prerequisites,
// as OVS checks them in order: from minRank to maxRank.
const minRank, maxRank = -1, 3

func prereqRank(f *openflow.Field) int {
	switch f.Name {
	case "metadata":
		return -1
	case "eth_type", "vlan_vid":
		return 0
	case "nw_proto", "vlan_pcp":
		return 1
	case "ct_state", "icmpv6_type", "icmpv6_code", "icmp_type", "icmp_code":
		return 2
	}
	return 3
}

// u128Bytes is the low n bytes of v, big-endian.
func u128Bytes(v lflow.U128, n int) []byte {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(v.Hi >> (8 * i))
		b[15-i] = byte(v.Lo >> (8 * i))
	}
	return slices.Clone(b[16-n:])
}

// u128 is u128Bytes in arena bytes.
func (a *matchArena) u128(v lflow.U128, n int) []byte {
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(v.Hi >> (8 * i))
		b[15-i] = byte(v.Lo >> (8 * i))
	}
	out := a.bytesOf(n)
	copy(out, b[16-n:])
	return out
}

// addField adds one normalised numeric match on a logical field to m.
// The wide registers are matched as the 32-bit registers they overlay,
// as OVS stores them; vlan.tci becomes OXM vlan_vid and vlan_pcp.
func (a *matchArena) addField(m ofMatch, lm lflow.Match) (ofMatch, bool, error) {
	switch of := lm.Field.OF; of {
	case "xxreg0", "xxreg1", "xreg4":
		return a.addRegisters(m, of, lm.Value, lm.Mask)
	case "vlan_tci":
		return a.addVLAN(m, lm.Value.Lo, lm.Mask.Lo)
	default:
		f := openflow.FieldByName(of)
		if f == nil || f.Width == 0 {
			return nil, false, fmt.Errorf("field %s has no OpenFlow match field", lm.Field.Name)
		}
		v, mask := a.u128(lm.Value, f.Width), a.u128(lm.Mask, f.Width)
		if !f.Maskable && !isFullMask(f, mask) {
			return nil, false, fmt.Errorf("field %s cannot be matched under a mask", lm.Field.Name)
		}
		out, ok := a.with(m, f, v, mask)
		return out, ok, nil
	}
}

// addRegisters matches bits of xxreg0/xxreg1 (reg0..reg7, the lowest
// numbered register most significant) or xreg4 (reg8, reg9).
func (a *matchArena) addRegisters(m ofMatch, of string, v, mask lflow.U128) (ofMatch, bool, error) {
	first, n := 0, 4
	switch of {
	case "xxreg1":
		first = 4
	case "xreg4":
		first, n = 8, 2
	}
	for k := 0; k < n; k++ {
		shift := (n - 1 - k) * 32
		rm := uint32(mask.Rsh(shift).Lo)
		if rm == 0 {
			continue
		}
		rv := uint32(v.Rsh(shift).Lo)
		var ok bool
		if m, ok = a.with(m, regFields[first+k], a.uint(uint64(rv), 4), a.uint(uint64(rm), 4)); !ok {
			return nil, false, nil
		}
	}
	return m, true, nil
}

// addVLAN splits a vlan.tci match: VID and the present bit go in OXM
// vlan_vid, the priority in vlan_pcp, which OVS only takes exactly.
func (a *matchArena) addVLAN(m ofMatch, v, mask uint64) (ofMatch, bool, error) {
	if vm := mask & 0x1fff; vm != 0 {
		o := openflow.F("vlan_vid").Masked(v&0x1fff, vm)
		var ok bool
		if m, ok = a.with(m, o.Field, o.Value, o.Mask); !ok {
			return nil, false, nil
		}
	}
	switch pm := mask >> 13 & 7; pm {
	case 0:
		return m, true, nil
	case 7:
		o := openflow.F("vlan_pcp").Exact(v >> 13 & 7)
		out, ok := a.with(m, o.Field, o.Value, []byte{7})
		return out, ok, nil
	}
	return nil, false, fmt.Errorf("vlan.pcp cannot be matched under a mask")
}

// resolve turns one conjunction of logical matches into an OpenFlow
// match for datapath dp. It returns false when the conjunction cannot
// match here: a port that does not exist on dp, an is_chassis_resident
// that does not hold.
func (c *compiler) resolve(dp uint32, conj lflow.Conj, base ofMatch) (ofMatch, bool, error) {
	m := c.arena.clone(base, len(conj))
	for _, lm := range conj {
		var ok bool
		var err error
		switch {
		case lm.Field == nil:
			ok = c.chassisResident(lm) // is_chassis_resident, the only match function
		case lm.Field.String:
			var key uint32
			if key, ok = c.matchPortKey(dp, lm.Str); ok {
				m, ok = c.arena.with(m, regFields[portReg(lm.Field.Name)], c.arena.uint(uint64(key), 4), regMask)
			}
		default:
			m, ok, err = c.arena.addField(m, lm)
		}
		if err != nil || !ok {
			return nil, false, err
		}
	}
	return m, true, nil
}

func portReg(field string) int {
	if field == "inport" {
		return oftable.RegInport
	}
	return oftable.RegOutport
}

func (c *compiler) chassisResident(lm lflow.Match) bool {
	if lm.Func != "is_chassis_resident" {
		return false
	}
	c.refs.ports.add(lm.Str)
	return c.env.Resident(lm.Str) != lm.Neg
}

// matchPortKey resolves a port a match compares inport or outport
// with. Like ovn-controller, it takes only local ports (Env.Local):
// a packet processed here never has another chassis's VIF as its
// logical input or output port, so those alternatives match nothing.
func (c *compiler) matchPortKey(dp uint32, name string) (uint32, bool) {
	if name != "none" && !c.env.Local(name) {
		if _, _, isPort := c.env.LookupPort(name); isPort {
			c.refs.ports.add(name)
			return 0, false
		}
	}
	return c.portKey(dp, name)
}

// portKey resolves a port name as ovn-controller does for inport and
// outport: "none" is 0, else a Port_Binding on this datapath, else a
// Multicast_Group of this datapath.
func (c *compiler) portKey(dp uint32, name string) (uint32, bool) {
	if name == "none" {
		return 0, true // the name of "no port" (outport == "none")
	}
	c.refs.ports.add(name)
	if pdp, key, ok := c.env.LookupPort(name); ok && pdp == dp {
		return key, true
	}
	c.refs.mcast.add(strconv.FormatUint(uint64(dp), 10) + "/" + name)
	return c.env.LookupMulticast(dp, name)
}

// clause is one dimension of a conjunctive match: its alternatives.
type clause []ofMatch

// flows turns the normalised match into flows for datapath dp: a term
// with two or more dimensions that each test one field becomes an
// OpenFlow conjunctive match (one flow per alternative of each
// dimension, plus the conj_id flow carrying the actions), as
// ovn-controller emits for sets; everything else is multiplied out.
func (c *compiler) flows(out []flowtable.Flow, dp uint32, terms []lflow.Term, acts []openflow.Action) ([]flowtable.Flow, error) {
	base0 := ofMatch{{metadataField, c.metadata(dp), metadataMask}}
	fs := &flowSet{table: c.table(c.lf.TableID), prio: uint16(c.lf.Priority), flows: out, start: len(out)}
	if c.scratch != nil {
		fs.spare = c.scratch.index
	}
	type conjTerm struct {
		base    ofMatch
		clauses []clause
	}
	var conjs []conjTerm
	for _, t := range terms {
		bases, clauses, err := c.expand(dp, t, base0)
		if err != nil {
			return nil, err
		}
		for _, b := range bases {
			if len(clauses) < 2 {
				fs.add(b, acts, c.cookie)
				continue
			}
			conjs = append(conjs, conjTerm{b, clauses})
		}
		if len(fs.flows)-fs.start+len(conjs) > maxFlows {
			return nil, lflow.ErrTooManyFlows
		}
	}
	if len(conjs) == 0 {
		return fs.flows, nil
	}
	if c.conj == nil {
		return nil, fmt.Errorf("match needs conjunction ids and none were given")
	}
	ids := c.conj.ids(c.lf.UUID, dp, len(conjs))
	total := len(conjs)
	for _, ct := range conjs {
		for _, cl := range ct.clauses {
			total += len(cl)
		}
	}
	fs.reserve(total)
	var tmp ofMatch // each clause flow's match until it is rendered
	for i, ct := range conjs {
		n := len(ct.clauses)
		for k, cl := range ct.clauses {
			// The clause's flows share one conjunction action (a set of
			// 10,000 addresses is 10,000 flows); addConj copies before
			// adding another.
			conjAct := []openflow.Action{&openflow.Conjunction{ID: ids[i], Clause: uint8(k), NClauses: uint8(n)}}
			for _, alt := range cl {
				m, ok := c.arena.mergeInto(tmp, ct.base, alt)
				if ok {
					fs.addConj(m, conjAct) // renders m
					tmp = m
				}
			}
		}
		cid := openflow.F("conj_id").Exact(uint64(ids[i]))
		m, _ := c.arena.with(c.arena.clone(ct.base, 1), cid.Field, cid.Value, regMask)
		fs.add(m, acts, c.cookie)
	}
	return fs.flows, nil
}

// expand resolves one term: it returns the fixed matches (several when
// dimensions had to be multiplied out) and the dimensions left for a
// conjunctive match (none, or at least two).
func (c *compiler) expand(dp uint32, t lflow.Term, base0 ofMatch) ([]ofMatch, []clause, error) {
	base, ok, err := c.resolve(dp, t.Conj, base0)
	if err != nil || !ok {
		return nil, nil, err
	}
	c.base[0] = base
	bases := c.base[:1:1] // read before the next expand
	var clauses []clause
	var names []string
	var multiply []clause
	for _, d := range t.Dims {
		cl, err := c.clause(dp, d)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case len(cl) == 0:
			return nil, nil, nil
		case len(cl) > 1 && singleField(d):
			name := d[0][0].Field.Name
			if i := slices.Index(names, name); i >= 0 {
				if clauses[i] = c.arena.intersect(clauses[i], cl); len(clauses[i]) == 0 {
					return nil, nil, nil
				}
				continue
			}
			clauses, names = append(clauses, cl), append(names, name)
		default:
			multiply = append(multiply, cl)
		}
	}
	if len(clauses) == 1 {
		multiply, clauses = append(multiply, clauses[0]), nil
	}
	sortClauses(clauses, names)
	for _, cl := range multiply {
		var next []ofMatch
		for _, b := range bases {
			for _, alt := range cl {
				if m, ok := c.arena.merge(b, alt); ok {
					next = append(next, m)
				}
			}
		}
		if bases = next; len(bases) > maxFlows {
			return nil, nil, lflow.ErrTooManyFlows
		}
	}
	return bases, clauses, nil
}

// clause resolves a dimension's alternatives, dropping those that
// cannot match here.
func (c *compiler) clause(dp uint32, d []lflow.Conj) (clause, error) {
	cl := make(clause, 0, len(d))
	for _, alt := range d {
		m, ok, err := c.resolve(dp, alt, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			cl = append(cl, m)
		}
	}
	return cl, nil
}

// singleField reports whether every alternative tests the same one
// field, what an OpenFlow conjunction clause can hold. Fields that are
// OpenFlow prerequisites of others (eth.type, ip.proto, the ICMPv6 type
// and code, vlan.tci) cannot: a clause flow on tp_dst without the
// eth_type and nw_proto of another clause is invalid. ovn-controller
// cross-multiplies them too (must_crossproduct).
func singleField(d []lflow.Conj) bool {
	for _, alt := range d {
		if len(alt) != 1 || alt[0].Field == nil || alt[0].Field != d[0][0].Field {
			return false
		}
	}
	switch d[0][0].Field.OF {
	case "eth_type", "nw_proto", "icmpv6_type", "icmpv6_code", "vlan_tci":
		return false
	}
	return true
}

// intersect combines two clauses on the same field (tcp.dst >= 1000 and
// tcp.dst <= 1010) into one, as ovn-controller crushes them.
func (ar *matchArena) intersect(a, b clause) clause {
	var out clause
	for _, x := range a {
		for _, y := range b {
			if m, ok := ar.merge(x, y); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

var (
	metadataField = openflow.F("metadata")
	metadataMask  = fullMask(metadataField, 8)
	regMask       = []byte{0xff, 0xff, 0xff, 0xff} // never modified
	regFields     [16]*openflow.Field              // reg0..reg15
)

func init() {
	for i := range regFields {
		regFields[i] = openflow.Reg(i)
	}
}

// sortClauses orders conjunction clauses by the name of the logical
// field each tests, the order ovn-controller numbers them in.
func sortClauses(cl []clause, names []string) {
	idx := make([]int, len(cl))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	sorted := make([]clause, len(cl))
	for i, j := range idx {
		sorted[i] = cl[j]
	}
	copy(cl, sorted)
}

package flowtable

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/openflow"
)

// MatchKey is a canonical form of m for comparing matches: the same for
// every way of writing one match (field order, value width, an all-ones
// mask or none, in_port as NXM or OXM field), as the switch would see
// them, and cheap to compute: rendering the match as text costs ten
// times as much.
func MatchKey(m openflow.Match) string {
	es := make([]keyEntry, 0, len(m))
	for _, o := range m {
		if o.Field == nil {
			continue
		}
		if regs, ok := splitRegisters(o); ok {
			es = append(es, regs...)
			continue
		}
		name := o.Field.Name
		if name == "in_port_oxm" {
			name = "in_port"
		}
		es = append(es, newKeyEntry(name, o.Value, o.Mask))
	}
	slices.SortFunc(es, func(a, b keyEntry) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.name)
		b.WriteByte('=')
		b.Write(e.value)
		if e.mask != nil {
			b.WriteByte('/')
			b.Write(e.mask)
		}
		b.WriteByte(0)
	}
	return b.String()
}

type keyEntry struct {
	name        string
	value, mask []byte
}

// newKeyEntry keeps only the value bits the mask selects, and no mask
// when it selects them all.
func newKeyEntry(name string, value, mask []byte) keyEntry {
	if mask != nil && bytes.Count(mask, []byte{0xff}) == len(mask) {
		mask = nil
	}
	if mask != nil && len(mask) == len(value) {
		v := make([]byte, len(value))
		for i := range v {
			v[i] = value[i] & mask[i]
		}
		value = v
	}
	return keyEntry{name, trimZeros(value), trimZeros(mask)}
}

// splitRegisters turns reg, xreg and xxreg entries into 32-bit registers:
// OVS sends pairs of registers back as one 64-bit xreg in OpenFlow 1.5.
func splitRegisters(o openflow.OXM) ([]keyEntry, bool) {
	name := o.Field.Name
	var n, k int
	var err error
	switch {
	case strings.HasPrefix(name, "xxreg"):
		n, err = strconv.Atoi(name[5:])
		n, k = n*4, 4
	case strings.HasPrefix(name, "xreg"):
		n, err = strconv.Atoi(name[4:])
		n, k = n*2, 2
	case strings.HasPrefix(name, "reg"):
		n, err = strconv.Atoi(name[3:])
		k = 1
	default:
		return nil, false
	}
	if err != nil || len(o.Value) < 4*k || o.Mask != nil && len(o.Mask) != len(o.Value) {
		return nil, false
	}
	var out []keyEntry
	for i := range k {
		v, m := o.Value[4*i:4*i+4], []byte(nil)
		if o.Mask != nil {
			m = o.Mask[4*i : 4*i+4]
			if bytes.Count(m, []byte{0}) == 4 {
				continue
			}
		}
		out = append(out, newKeyEntry("reg"+strconv.Itoa(n+i), v, m))
	}
	return out, true
}

// trimZeros drops leading zero bytes, so that values of different widths
// compare as numbers (keeping nil and empty apart from zero).
func trimZeros(v []byte) []byte {
	if v == nil {
		return nil
	}
	i := 0
	for i < len(v) && v[i] == 0 {
		i++
	}
	return v[i:]
}

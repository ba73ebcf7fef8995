package flowtable

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ovnd/ovnd/controller/openflow"
)

// MatchKey is a canonical form of m for comparing matches: the same for
// every way of writing one match (field order, value width, an all-ones
// mask or none, in_port as NXM or OXM field, registers as reg, xreg or
// xxreg), as the switch would see them. It is compact binary, not text:
// per field a one-byte field id (in an order that puts prerequisites
// first), a length byte, the value without leading zero bytes and, for a
// masked field, the mask trimmed alike. Fields of m that no key can hold
// (a mask as long as no value, a value wider than its field) make a key
// that never equals a valid one.
func MatchKey(m openflow.Match) string {
	b, err := appendMatchKey(nil, m)
	if err != nil {
		return "\xff" + err.Error()
	}
	return string(b)
}

// keyIDs numbers the fields a key can hold, and keyFields maps the
// numbers back. Prerequisites come first (eth_type and vlan_vid before
// nw_proto, nw_proto before ct_state and ICMPv6 type and code, those
// before the rest), so that a match rebuilt from a key in key order is
// one the switch accepts. Registers are keyed as reg0..reg15 (xreg and
// xxreg split into them), in_port as in_port_oxm.
var keyIDs, keyFields = numberKeyFields()

func numberKeyFields() (map[*openflow.Field]byte, []*openflow.Field) {
	ids := map[*openflow.Field]byte{}
	fields := []*openflow.Field{nil} // id 0 is no field
	add := func(f *openflow.Field) {
		if _, ok := ids[f]; ok || strings.HasPrefix(f.Name, "xreg") || strings.HasPrefix(f.Name, "xxreg") {
			return
		}
		if len(fields) > 0xfe {
			panic("flowtable: more fields than a match key numbers")
		}
		ids[f] = byte(len(fields))
		fields = append(fields, f)
	}
	for _, n := range []string{"eth_type", "vlan_vid", "nw_proto", "ct_state", "icmpv6_type", "icmpv6_code", "in_port_oxm"} {
		add(openflow.F(n))
	}
	ids[openflow.F("in_port")] = ids[openflow.F("in_port_oxm")]
	for _, f := range openflow.Fields() {
		add(f)
	}
	return ids, fields
}

var (
	fieldInPort = openflow.F("in_port")
	regFields   [16]*openflow.Field
)

func init() {
	for i := range regFields {
		regFields[i] = openflow.Reg(i)
	}
}

// keyEntry is one field of a match being keyed.
type keyEntry struct {
	id          byte
	value, mask []byte // mask nil when exact
	port16      bool   // value is an OpenFlow 1.0 port number (NXM in_port)
}

// appendMatchKey appends the key of m to b.
func appendMatchKey(b []byte, m openflow.Match) ([]byte, error) {
	var buf [12]keyEntry
	es := buf[:0]
	for _, o := range m {
		if o.Field == nil {
			return nil, errors.New("match field without a field")
		}
		if o.Mask != nil && len(o.Mask) != len(o.Value) {
			return nil, fmt.Errorf("match %s: mask of %d bytes for a value of %d", o.Field.Name, len(o.Mask), len(o.Value))
		}
		if n, k, ok := registerRange(o.Field); ok {
			if len(o.Value) != 4*k {
				return nil, fmt.Errorf("match %s: value of %d bytes", o.Field.Name, len(o.Value))
			}
			for i := range k {
				e := keyEntry{id: keyIDs[regFields[n+i]], value: o.Value[4*i : 4*i+4]}
				if o.Mask != nil {
					e.mask = o.Mask[4*i : 4*i+4]
				}
				es = append(es, e)
			}
			continue
		}
		id, ok := keyIDs[o.Field]
		if !ok {
			return nil, fmt.Errorf("match field %s unknown to the flow table", o.Field.Name)
		}
		es = append(es, keyEntry{id: id, value: o.Value, mask: o.Mask,
			port16: o.Field == fieldInPort && len(o.Value) == 2 && o.Mask == nil})
	}
	// Insertion sort: a match has a handful of fields.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].id < es[j-1].id; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	for i, e := range es {
		if i > 0 && e.id == es[i-1].id {
			return nil, fmt.Errorf("match field %s twice", keyFields[e.id].Name)
		}
		var err error
		if b, err = appendKeyEntry(b, e); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// registerRange reports the 32-bit registers (first and count) that f
// covers when f is reg, xreg or xxreg.
func registerRange(f *openflow.Field) (first, n int, ok bool) {
	name := f.Name
	var k int
	switch {
	case strings.HasPrefix(name, "xxreg"):
		name, k = name[5:], 4
	case strings.HasPrefix(name, "xreg"):
		name, k = name[4:], 2
	case strings.HasPrefix(name, "reg"):
		name, k = name[3:], 1
	default:
		return 0, 0, false
	}
	i := 0
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		i = i*10 + int(c-'0')
	}
	if name == "" || (i+1)*k > len(regFields) {
		return 0, 0, false
	}
	return i * k, k, true
}

// appendKeyEntry appends id, then the length of the value (the high bit
// set when a mask follows), the value without leading zero bytes, and
// the mask trimmed to the same length. A value is kept only where the
// mask selects it; an all-ones mask is no mask, an all-zeros mask no
// field.
func appendKeyEntry(b []byte, e keyEntry) ([]byte, error) {
	v, m := e.value, e.mask
	if e.port16 && v[0] == 0xff {
		// Reserved ports from OpenFlow 1.0's 0xff00 are 0xffffff00
		// and up in OpenFlow 1.1 and later.
		return append(b, e.id, 4, 0xff, 0xff, v[0], v[1]), nil
	}
	if m != nil && allOnes(m) {
		m = nil
	}
	if m == nil {
		v = v[leadingZeros(v):]
		if w := keyFields[e.id].Width; w != 0 && len(v) > w || len(v) > 0x7f {
			return nil, fmt.Errorf("match %s: value of %d bytes", keyFields[e.id].Name, len(e.value))
		}
		return append(append(b, e.id, byte(len(v))), v...), nil
	}
	off := leadingZeros(m)
	if off == len(m) {
		return b, nil // matches every value
	}
	n := len(m) - off
	if w := keyFields[e.id].Width; w != 0 && n > w || n > 0x7f {
		return nil, fmt.Errorf("match %s: mask of %d bytes", keyFields[e.id].Name, len(m))
	}
	b = append(b, e.id, byte(n)|0x80)
	for i := off; i < len(m); i++ {
		b = append(b, v[i]&m[i])
	}
	return append(b, m[off:]...), nil
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func leadingZeros(b []byte) int {
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	return i
}

// keyReader reads the fields of a match key, each with its value and
// mask (nil when exact) at the field's width: the variable-width
// tun_metadata fields take 4 bytes, as OVN maps them, or more when the
// value needs it.
type keyReader struct {
	key    string
	vb, mb [0x80]byte
}

// next reads the next field, nil at the end of the key. The value and
// mask are only valid until the next call.
func (r *keyReader) next() (f *openflow.Field, value, mask []byte, err error) {
	key := r.key
	if key == "" {
		return nil, nil, nil, nil
	}
	if len(key) < 2 || key[0] == 0 || int(key[0]) >= len(keyFields) {
		return nil, nil, nil, fmt.Errorf("bad match key %q", key)
	}
	f, n, masked := keyFields[key[0]], int(key[1]&0x7f), key[1]&0x80 != 0
	size := n
	if masked {
		size *= 2
	}
	if len(key) < 2+size {
		return nil, nil, nil, fmt.Errorf("bad match key %q", key)
	}
	w := max(f.Width, n)
	if f.Width == 0 {
		w = max(4, n)
	}
	value = r.vb[:w]
	clear(value[:w-n])
	copy(value[w-n:], key[2:2+n])
	if masked {
		mask = r.mb[:w]
		clear(mask[:w-n])
		copy(mask[w-n:], key[2+n:2+2*n])
	}
	r.key = key[2+size:]
	return f, value, mask, nil
}

// appendMatchWire appends the OXM fields of a match key, as a flow mod
// carries them (openflow.FlowMod.RawMatch).
func appendMatchWire(b []byte, key string) ([]byte, error) {
	r := keyReader{key: key}
	for {
		f, v, m, err := r.next()
		if f == nil {
			return b, err
		}
		if b, err = (openflow.OXM{Field: f, Value: v, Mask: m}).AppendBinary(b); err != nil {
			return nil, err
		}
	}
}

// decodeMatchKey is the match a key stands for, in key order.
func decodeMatchKey(key string) (openflow.Match, error) {
	var m openflow.Match
	r := keyReader{key: key}
	for {
		f, v, mask, err := r.next()
		if f == nil {
			return m, err
		}
		m = append(m, f.Bytes(v, mask))
	}
}

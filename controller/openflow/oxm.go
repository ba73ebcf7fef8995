package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// OXM is one match field entry, or the operand of a set_field action.
type OXM struct {
	Field *Field
	Value []byte
	Mask  []byte // nil for an exact match
}

// width is the byte width values of f take when built from a uint64; the
// variable-width tun_metadata fields take 4 bytes, as OVN maps them.
func (f *Field) width() int {
	if f.Width == 0 {
		return 4
	}
	return f.Width
}

// Exact is an OXM matching or setting f to v.
func (f *Field) Exact(v uint64) OXM { return OXM{Field: f, Value: uintBytes(v, f.width())} }

// Masked is an OXM matching or setting the bits of f in m to v.
func (f *Field) Masked(v, m uint64) OXM {
	return OXM{Field: f, Value: uintBytes(v, f.width()), Mask: uintBytes(m, f.width())}
}

// Bytes is an OXM with a raw value (MAC, IPv6, 128-bit fields); mask may be
// nil.
func (f *Field) Bytes(v, mask []byte) OXM { return OXM{Field: f, Value: clone(v), Mask: clone(mask)} }

// Addr is an OXM matching or setting an IPv4 or IPv6 field to a.
func (f *Field) Addr(a netip.Addr) OXM { return OXM{Field: f, Value: a.AsSlice()} }

// Prefix is an OXM matching an IPv4 or IPv6 field against a CIDR prefix.
func (f *Field) Prefix(p netip.Prefix) OXM {
	bits := p.Addr().BitLen()
	mask := make([]byte, bits/8)
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return OXM{Field: f, Value: p.Masked().Addr().AsSlice(), Mask: mask}
}

// MAC is an OXM matching or setting an Ethernet address field.
func (f *Field) MAC(m net.HardwareAddr) OXM { return OXM{Field: f, Value: clone(m)} }

func uintBytes(v uint64, n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	if n <= 8 {
		return append([]byte(nil), b[8-n:]...)
	}
	out := make([]byte, n)
	copy(out[n-8:], b[:])
	return out
}

// Uint is the value as an integer (its low 64 bits).
func (o OXM) Uint() uint64 { return bytesUint(o.Value) }

func bytesUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// exact reports whether o matches every bit of the field.
func (o OXM) exact() bool {
	return o.Mask == nil || bytes.Count(o.Mask, []byte{0xff}) == len(o.Mask)
}

func (o OXM) append(b []byte) ([]byte, error) {
	if o.Field == nil {
		return nil, fmt.Errorf("oxm without a field")
	}
	if o.Mask != nil && len(o.Mask) != len(o.Value) {
		return nil, fmt.Errorf("oxm %s: mask of %d bytes for value of %d", o.Field.Name, len(o.Mask), len(o.Value))
	}
	n := len(o.Value) + len(o.Mask)
	b = put32(b, o.Field.header(n, o.Mask != nil))
	if o.Field.Class == ClassExperimenter {
		b = put32(b, o.Field.Exp)
	}
	b = append(b, o.Value...)
	return append(b, o.Mask...), nil
}

// decodeOXM reads one OXM TLV and returns it with the remaining bytes.
func decodeOXM(b []byte) (OXM, []byte, error) { return decodeOXMIn(b, nil) }

// decodeOXMIn is decodeOXM copying the value and mask into arena, when
// not nil, rather than into arrays of their own.
func decodeOXMIn(b []byte, arena *[]byte) (OXM, []byte, error) {
	if len(b) < 4 {
		return OXM{}, nil, fmt.Errorf("oxm header: %w", ErrShort)
	}
	h := be32(b)
	n := int(h & 0xff)
	if 4+n > len(b) {
		return OXM{}, nil, fmt.Errorf("oxm 0x%08x payload %d: %w", h, n, ErrShort)
	}
	p, rest := b[4:4+n], b[4+n:]
	f, p, err := lookupHeader(h, p)
	if err != nil {
		return OXM{}, nil, err
	}
	if n := len(p); h&0x100 != 0 && n%2 != 0 {
		return OXM{}, nil, fmt.Errorf("oxm %s: masked payload of odd length %d", f.Name, n)
	}
	if w := len(p) >> (h >> 8 & 1); f.Width != 0 && w != f.Width {
		return OXM{}, nil, fmt.Errorf("oxm %s: value of %d bytes, want %d", f.Name, w, f.Width)
	}
	o := OXM{Field: f}
	if h&0x100 != 0 {
		o.Value, o.Mask = carve(arena, p[:len(p)/2]), carve(arena, p[len(p)/2:])
	} else {
		o.Value = carve(arena, p)
	}
	return o, rest, nil
}

// carve copies p to the end of arena and returns the copy, its capacity
// capped so that appending to it cannot reach the next one; with no
// arena it clones p.
func carve(arena *[]byte, p []byte) []byte {
	if arena == nil || len(p) == 0 {
		return clone(p)
	}
	start := len(*arena)
	*arena = append(*arena, p...)
	return (*arena)[start:len(*arena):len(*arena)]
}

// lookupHeader finds the field of an OXM/NXM header and strips the
// experimenter id from the payload p.
func lookupHeader(h uint32, p []byte) (*Field, []byte, error) {
	k := fieldKey{class: uint16(h >> 16), code: uint8(h>>9) & 0x7f}
	if k.class == ClassExperimenter {
		if len(p) < 4 {
			return nil, nil, fmt.Errorf("experimenter oxm: %w", ErrShort)
		}
		k.exp, p = be32(p), p[4:]
	}
	f := fieldsByKey[k]
	if f == nil {
		return nil, nil, fmt.Errorf("unknown oxm field class 0x%04x exp 0x%x field %d", k.class, k.exp, k.code)
	}
	return f, p, nil
}

// Match is an OpenFlow 1.5 OXM match (ofp_match of type OFPMT_OXM).
type Match []OXM

func (m Match) append(b []byte) ([]byte, error) {
	start := len(b)
	b = put32(b, 0x00010000) // OFPMT_OXM, length filled in below
	var err error
	if b, err = m.appendFields(b); err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return pad8(b, start), nil
}

func (m Match) appendFields(b []byte) ([]byte, error) {
	for _, o := range m {
		var err error
		if b, err = o.append(b); err != nil {
			return nil, fmt.Errorf("match: %w", err)
		}
	}
	return b, nil
}

// decodeMatch reads an ofp_match and returns it with the bytes after its
// padding.
func decodeMatch(b []byte) (Match, []byte, error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("match: %w", ErrShort)
	}
	if typ := be16(b); typ != 1 {
		return nil, nil, fmt.Errorf("match type %d is not OXM", typ)
	}
	n := int(be16(b[2:]))
	padded := (n + 7) / 8 * 8
	if n < 4 || padded > len(b) {
		return nil, nil, fmt.Errorf("match length %d: %w", n, ErrShort)
	}
	m, err := decodeFields(b[4:n])
	return m, b[padded:], err
}

// decodeFields decodes a list of OXMs into one Match whose values share
// one array.
func decodeFields(b []byte) (Match, error) {
	if len(b) == 0 {
		return nil, nil
	}
	m := make(Match, 0, countOXMs(b))
	arena := make([]byte, 0, len(b))
	for len(b) > 0 {
		o, rest, err := decodeOXMIn(b, &arena)
		if err != nil {
			return nil, fmt.Errorf("match: %w", err)
		}
		m, b = append(m, o), rest
	}
	return m, nil
}

// countOXMs counts the OXM headers in b, as far as their lengths hold.
func countOXMs(b []byte) int {
	n := 0
	for len(b) >= 4 && 4+int(b[3]) <= len(b) {
		b, n = b[4+int(b[3]):], n+1
	}
	return n
}

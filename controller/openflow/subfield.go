package openflow

import "fmt"

// Subfield is a bit range of a field, as in NXM_NX_REG13[0..15].
type Subfield struct {
	Field *Field
	Ofs   int
	NBits int
}

// All is the whole of f, as in NXM_NX_REG0[].
func (f *Field) All() Subfield { return Subfield{Field: f, NBits: f.nbits(f.nxmWidth())} }

// Sub is bits ofs..ofs+nbits-1 of f.
func (f *Field) Sub(ofs, nbits int) Subfield { return Subfield{Field: f, Ofs: ofs, NBits: nbits} }

// nxmWidth is the field width an NXM header names; tun_metadata fields
// are 124 bytes wide there.
func (f *Field) nxmWidth() int {
	if f.Width == 0 {
		return 124
	}
	return f.Width
}

func (s Subfield) String() string {
	if s.Field == nil {
		return "<unknown>"
	}
	switch {
	case s.Ofs == 0 && s.NBits == s.Field.nbits(s.Field.nxmWidth()):
		return s.Field.NXMName + "[]"
	case s.NBits == 1:
		return fmt.Sprintf("%s[%d]", s.Field.NXMName, s.Ofs)
	}
	return fmt.Sprintf("%s[%d..%d]", s.Field.NXMName, s.Ofs, s.Ofs+s.NBits-1)
}

// ofsNBits packs ofs and nbits as NXM actions do.
func (s Subfield) ofsNBits() uint16 { return uint16(s.Ofs<<6 | (s.NBits - 1)) }

// appendHeader appends the field's OXM header (and experimenter id), as
// OpenFlow 1.5 actions such as copy_field carry it.
func (s Subfield) appendHeader(b []byte) ([]byte, error) {
	if s.Field == nil {
		return nil, fmt.Errorf("subfield without a field")
	}
	b = put32(b, s.Field.header(s.Field.nxmWidth(), false))
	if s.Field.Class == ClassExperimenter {
		b = put32(b, s.Field.Exp)
	}
	return b, nil
}

// appendNXMHeader appends the field's NXM header where it has one, else
// its OXM header: Nicira actions (ct zone, output_reg, learn,
// check_pkt_larger) name fields the way OpenFlow 1.0 did, as OVS does.
func (s Subfield) appendNXMHeader(b []byte) ([]byte, error) {
	if s.Field == nil {
		return nil, fmt.Errorf("subfield without a field")
	}
	a, ok := nxmAliases[s.Field.Name]
	if !ok {
		return s.appendHeader(b)
	}
	return put32(b, uint32(a[0])<<16|uint32(a[1])<<9|uint32(s.Field.nxmWidth())), nil
}

// decodeFieldHeader reads an NXM/OXM header (4 or 8 bytes).
func decodeFieldHeader(b []byte) (*Field, []byte, error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("field header: %w", ErrShort)
	}
	h := be32(b)
	if h>>16 == ClassExperimenter {
		if len(b) < 8 {
			return nil, nil, fmt.Errorf("experimenter field header: %w", ErrShort)
		}
		f, _, err := lookupHeader(h, b[4:8])
		return f, b[8:], err
	}
	f, _, err := lookupHeader(h, nil)
	return f, b[4:], err
}

func subfieldFromOfsNBits(f *Field, v uint16) Subfield {
	return Subfield{Field: f, Ofs: int(v >> 6), NBits: int(v&0x3f) + 1}
}

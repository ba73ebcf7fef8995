package openflow

import "fmt"

// TLV table mod commands (NXTTMC_*).
const (
	TLVAdd    = 0
	TLVDelete = 1
	TLVClear  = 2
)

// TLVMap maps a Geneve option (class, type, length) to field
// tun_metadata<Index>. OVN maps class 0x0102 type 0x80 length 4 to
// tun_metadata0.
type TLVMap struct {
	OptionClass uint16
	OptionType  uint8
	OptionLen   uint8
	Index       uint16
}

func appendTLVMaps(b []byte, maps []TLVMap) []byte {
	for _, t := range maps {
		b = append(put16(b, t.OptionClass), t.OptionType, t.OptionLen)
		b = put16(put16(b, t.Index), 0)
	}
	return b
}

func decodeTLVMaps(b []byte) ([]TLVMap, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("tlv maps of %d bytes: %w", len(b), ErrShort)
	}
	var maps []TLVMap
	for ; len(b) >= 8; b = b[8:] {
		maps = append(maps, TLVMap{OptionClass: be16(b), OptionType: b[2], OptionLen: b[3], Index: be16(b[4:])})
	}
	return maps, nil
}

// TLVTableMod adds, deletes or clears tun_metadata mappings
// (NXT_TLV_TABLE_MOD).
type TLVTableMod struct {
	Command uint16
	Maps    []TLVMap
}

func (*TLVTableMod) Type() MsgType                         { return TypeExperimenter }
func (*TLVTableMod) subtype() uint32                       { return nxtTLVTableMod }
func (m *TLVTableMod) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }

func (m *TLVTableMod) appendNX(b []byte) ([]byte, error) {
	return appendTLVMaps(zeros(put16(b, m.Command), 6), m.Maps), nil
}

func decodeTLVTableMod(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("tlv table mod: %w", ErrShort)
	}
	maps, err := decodeTLVMaps(b[8:])
	return &TLVTableMod{Command: be16(b), Maps: maps}, err
}

// TLVTableRequest asks for the switch's tun_metadata mappings.
type TLVTableRequest struct{}

func (*TLVTableRequest) Type() MsgType                         { return TypeExperimenter }
func (*TLVTableRequest) subtype() uint32                       { return nxtTLVTableRequest }
func (m *TLVTableRequest) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }
func (*TLVTableRequest) appendNX(b []byte) ([]byte, error)     { return b, nil }

// TLVTableReply lists the switch's tun_metadata mappings.
type TLVTableReply struct {
	MaxOptionSpace uint32
	MaxFields      uint16
	Maps           []TLVMap
}

func (*TLVTableReply) Type() MsgType                         { return TypeExperimenter }
func (*TLVTableReply) subtype() uint32                       { return nxtTLVTableReply }
func (m *TLVTableReply) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }

func (m *TLVTableReply) appendNX(b []byte) ([]byte, error) {
	b = zeros(put16(put32(b, m.MaxOptionSpace), m.MaxFields), 10)
	return appendTLVMaps(b, m.Maps), nil
}

func decodeTLVTableReply(b []byte) (Message, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("tlv table reply: %w", ErrShort)
	}
	maps, err := decodeTLVMaps(b[16:])
	return &TLVTableReply{MaxOptionSpace: be32(b), MaxFields: be16(b[4:]), Maps: maps}, err
}

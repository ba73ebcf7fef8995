package openflow

import "fmt"

// Hello opens a connection. Versions lists the versions the sender speaks,
// carried in an OFPHET_VERSIONBITMAP element; empty means no element.
type Hello struct {
	Versions []uint8
}

func (*Hello) Type() MsgType { return TypeHello }

func (m *Hello) appendBody(b []byte) ([]byte, error) {
	if len(m.Versions) == 0 {
		return b, nil
	}
	var words []uint32
	for _, v := range m.Versions {
		for int(v/32) >= len(words) {
			words = append(words, 0)
		}
		words[v/32] |= 1 << (v % 32)
	}
	start := len(b)
	b = put16(b, 1) // OFPHET_VERSIONBITMAP
	b = put16(b, uint16(4+4*len(words)))
	for _, w := range words {
		b = put32(b, w)
	}
	return pad8(b, start), nil
}

func decodeHello(b []byte) (Message, error) {
	h := &Hello{}
	for len(b) >= 4 {
		typ, n := be16(b), int(be16(b[2:]))
		if n < 4 || n > len(b) {
			return nil, fmt.Errorf("hello element length %d: %w", n, ErrShort)
		}
		if typ == 1 {
			for i := 4; i+4 <= n; i += 4 {
				w := be32(b[i:])
				for bit := range 32 {
					if w&(1<<bit) != 0 {
						h.Versions = append(h.Versions, uint8((i-4)/4*32+bit))
					}
				}
			}
		}
		n = (n + 7) / 8 * 8
		if n > len(b) {
			break
		}
		b = b[n:]
	}
	return h, nil
}

// EchoRequest asks the peer to echo Data back.
type EchoRequest struct{ Data []byte }

func (*EchoRequest) Type() MsgType                         { return TypeEchoRequest }
func (m *EchoRequest) appendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }

// EchoReply answers an EchoRequest.
type EchoReply struct{ Data []byte }

func (*EchoReply) Type() MsgType                         { return TypeEchoReply }
func (m *EchoReply) appendBody(b []byte) ([]byte, error) { return append(b, m.Data...), nil }

// FeaturesRequest asks for the switch's datapath id and capabilities.
type FeaturesRequest struct{}

func (*FeaturesRequest) Type() MsgType                       { return TypeFeaturesRequest }
func (*FeaturesRequest) appendBody(b []byte) ([]byte, error) { return b, nil }

// FeaturesReply describes the switch.
type FeaturesReply struct {
	DatapathID   uint64
	NBuffers     uint32
	NTables      uint8
	AuxiliaryID  uint8
	Capabilities uint32
}

func (*FeaturesReply) Type() MsgType { return TypeFeaturesReply }

func (m *FeaturesReply) appendBody(b []byte) ([]byte, error) {
	b = put64(b, m.DatapathID)
	b = put32(b, m.NBuffers)
	b = append(b, m.NTables, m.AuxiliaryID, 0, 0)
	b = put32(b, m.Capabilities)
	return put32(b, 0), nil
}

func decodeFeaturesReply(b []byte) (Message, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("features reply: %w", ErrShort)
	}
	return &FeaturesReply{
		DatapathID:   be64(b),
		NBuffers:     be32(b[8:]),
		NTables:      b[12],
		AuxiliaryID:  b[13],
		Capabilities: be32(b[16:]),
	}, nil
}

// BarrierRequest asks the switch to finish every earlier message first.
type BarrierRequest struct{}

func (*BarrierRequest) Type() MsgType                       { return TypeBarrierRequest }
func (*BarrierRequest) appendBody(b []byte) ([]byte, error) { return b, nil }

// BarrierReply answers a BarrierRequest.
type BarrierReply struct{}

func (*BarrierReply) Type() MsgType                       { return TypeBarrierReply }
func (*BarrierReply) appendBody(b []byte) ([]byte, error) { return b, nil }

// Switch configuration flags (ofp_config_flags).
const (
	FragNormal = 0
	FragDrop   = 1
	FragReasm  = 2
)

// SwitchConfig is the body shared by SET_CONFIG and GET_CONFIG_REPLY.
type SwitchConfig struct {
	Flags       uint16
	MissSendLen uint16
}

func (c SwitchConfig) append(b []byte) []byte { return put16(put16(b, c.Flags), c.MissSendLen) }

func decodeSwitchConfig(b []byte) (SwitchConfig, error) {
	if len(b) < 4 {
		return SwitchConfig{}, fmt.Errorf("switch config: %w", ErrShort)
	}
	return SwitchConfig{Flags: be16(b), MissSendLen: be16(b[2:])}, nil
}

// SetConfig sets the switch configuration.
type SetConfig struct{ SwitchConfig }

func (*SetConfig) Type() MsgType                         { return TypeSetConfig }
func (m *SetConfig) appendBody(b []byte) ([]byte, error) { return m.append(b), nil }

func decodeSetConfig(b []byte) (Message, error) {
	c, err := decodeSwitchConfig(b)
	return &SetConfig{c}, err
}

// GetConfigRequest asks for the switch configuration.
type GetConfigRequest struct{}

func (*GetConfigRequest) Type() MsgType                       { return TypeGetConfigRequest }
func (*GetConfigRequest) appendBody(b []byte) ([]byte, error) { return b, nil }

// GetConfigReply carries the switch configuration.
type GetConfigReply struct{ SwitchConfig }

func (*GetConfigReply) Type() MsgType                         { return TypeGetConfigReply }
func (m *GetConfigReply) appendBody(b []byte) ([]byte, error) { return m.append(b), nil }

func decodeGetConfigReply(b []byte) (Message, error) {
	c, err := decodeSwitchConfig(b)
	return &GetConfigReply{c}, err
}

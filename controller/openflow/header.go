package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the only OpenFlow version this package speaks: 1.5 (0x06).
const Version = 0x06

// headerLen is the size of the fixed OpenFlow header.
const headerLen = 8

// MsgType is an OpenFlow 1.5 message type (ofp_type).
type MsgType uint8

// Message types used by this package.
const (
	TypeHello            MsgType = 0
	TypeError            MsgType = 1
	TypeEchoRequest      MsgType = 2
	TypeEchoReply        MsgType = 3
	TypeExperimenter     MsgType = 4
	TypeFeaturesRequest  MsgType = 5
	TypeFeaturesReply    MsgType = 6
	TypeGetConfigRequest MsgType = 7
	TypeGetConfigReply   MsgType = 8
	TypeSetConfig        MsgType = 9
	TypePacketIn         MsgType = 10
	TypeFlowRemoved      MsgType = 11
	TypePortStatus       MsgType = 12
	TypePacketOut        MsgType = 13
	TypeFlowMod          MsgType = 14
	TypeGroupMod         MsgType = 15
	TypeMultipartRequest MsgType = 18
	TypeMultipartReply   MsgType = 19
	TypeBarrierRequest   MsgType = 20
	TypeBarrierReply     MsgType = 21
	TypeMeterMod         MsgType = 29
	TypeBundleControl    MsgType = 33
	TypeBundleAdd        MsgType = 34
)

// ErrShort is returned (wrapped) when a buffer ends before the structure it
// should hold.
var ErrShort = errors.New("message too short")

// Message is one OpenFlow message body. Marshal frames it with a header.
type Message interface {
	// Type is the ofp_type in the header.
	Type() MsgType
	// appendBody appends the encoded body (everything after the header).
	appendBody(b []byte) ([]byte, error)
}

// Header is the fixed header of every OpenFlow message.
type Header struct {
	Version uint8
	Type    MsgType
	Length  uint16
	Xid     uint32
}

// ParseHeader reads the fixed header at the start of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < headerLen {
		return Header{}, fmt.Errorf("parse header: %w", ErrShort)
	}
	return Header{
		Version: b[0],
		Type:    MsgType(b[1]),
		Length:  binary.BigEndian.Uint16(b[2:]),
		Xid:     binary.BigEndian.Uint32(b[4:]),
	}, nil
}

// Marshal encodes m as a complete OpenFlow 1.5 message with the given xid.
func Marshal(xid uint32, m Message) ([]byte, error) {
	return appendMessage(make([]byte, 0, 64), xid, m)
}

// appendMessage appends m, encoded as Marshal does, to dst. The body is
// encoded into a slice that starts at the message's header, as
// appendBody expects.
func appendMessage(dst []byte, xid uint32, m Message) ([]byte, error) {
	start := len(dst)
	b := append(dst[start:], Version, byte(m.Type()), 0, 0)
	b = binary.BigEndian.AppendUint32(b, xid)
	b, err := m.appendBody(b)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", m, err)
	}
	if len(b) > 0xffff {
		return nil, fmt.Errorf("marshal %T: message of %d bytes exceeds 65535", m, len(b))
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	if start == 0 {
		return b, nil
	}
	// b still lies in dst's array unless appendBody grew it; append
	// copies it in place (a no-op move) or into dst.
	return append(dst, b...), nil
}

// Unmarshal decodes one complete message. Messages it does not know decode
// as *Unknown so a reader can skip them.
func Unmarshal(b []byte) (uint32, Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return 0, nil, err
	}
	if int(h.Length) > len(b) || h.Length < headerLen {
		return h.Xid, nil, fmt.Errorf("unmarshal: header length %d, have %d bytes: %w", h.Length, len(b), ErrShort)
	}
	body := b[headerLen:h.Length]
	dec, ok := decoders[h.Type]
	if !ok {
		return h.Xid, &Unknown{MsgType: h.Type, Body: clone(body)}, nil
	}
	m, err := dec(body)
	if err != nil {
		return h.Xid, nil, fmt.Errorf("unmarshal type %d: %w", h.Type, err)
	}
	return h.Xid, m, nil
}

var decoders map[MsgType]func([]byte) (Message, error)

func init() {
	decoders = map[MsgType]func([]byte) (Message, error){
		TypeHello:            decodeHello,
		TypeError:            decodeError,
		TypeEchoRequest:      func(b []byte) (Message, error) { return &EchoRequest{Data: clone(b)}, nil },
		TypeEchoReply:        func(b []byte) (Message, error) { return &EchoReply{Data: clone(b)}, nil },
		TypeExperimenter:     decodeExperimenter,
		TypeFeaturesRequest:  func([]byte) (Message, error) { return &FeaturesRequest{}, nil },
		TypeFeaturesReply:    decodeFeaturesReply,
		TypeGetConfigRequest: func([]byte) (Message, error) { return &GetConfigRequest{}, nil },
		TypeGetConfigReply:   decodeGetConfigReply,
		TypeSetConfig:        decodeSetConfig,
		TypeBarrierRequest:   func([]byte) (Message, error) { return &BarrierRequest{}, nil },
		TypeBarrierReply:     func([]byte) (Message, error) { return &BarrierReply{}, nil },
		TypeFlowMod:          decodeFlowMod,
		TypePortStatus:       decodePortStatus,
		TypeGroupMod:         decodeGroupMod,
		TypeMeterMod:         decodeMeterMod,
		TypePacketOut:        decodePacketOut,
		TypeBundleControl:    decodeBundleControl,
		TypeBundleAdd:        decodeBundleAdd,
		TypeMultipartRequest: decodeMultipartRequest,
		TypeMultipartReply:   decodeMultipartReply,
	}
}

// Unknown is a message this package does not decode.
type Unknown struct {
	MsgType MsgType
	Body    []byte
}

func (m *Unknown) Type() MsgType                       { return m.MsgType }
func (m *Unknown) appendBody(b []byte) ([]byte, error) { return append(b, m.Body...), nil }

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// pad8 appends zero bytes to b until len(b)-start is a multiple of 8.
func pad8(b []byte, start int) []byte {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func put16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func put32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func put64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func zeros(b []byte, n int) []byte {
	for range n {
		b = append(b, 0)
	}
	return b
}

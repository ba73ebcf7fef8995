package openflow

import "fmt"

// Nicira message subtypes (NXT_*).
const (
	nxtSetPacketInFormat = 16
	nxtSetControllerID   = 20
	nxtTLVTableMod       = 24
	nxtTLVTableRequest   = 25
	nxtTLVTableReply     = 26
	nxtResume            = 28
	nxtCTFlushZone       = 29
	nxtPacketIn2         = 30
)

// nxMessage is a Nicira extension message: an OFPT_EXPERIMENTER with
// experimenter 0x2320 and a 32-bit subtype.
type nxMessage interface {
	Message
	subtype() uint32
	appendNX(b []byte) ([]byte, error)
}

func appendNXMessage(b []byte, m nxMessage) ([]byte, error) {
	return m.appendNX(put32(put32(b, ExperimenterNicira), m.subtype()))
}

var nxMessageDecoders map[uint32]func([]byte) (Message, error)

func init() {
	nxMessageDecoders = map[uint32]func([]byte) (Message, error){
		nxtSetPacketInFormat: decodeSetPacketInFormat,
		nxtSetControllerID:   decodeSetControllerID,
		nxtTLVTableMod:       decodeTLVTableMod,
		nxtTLVTableRequest:   func([]byte) (Message, error) { return &TLVTableRequest{}, nil },
		nxtTLVTableReply:     decodeTLVTableReply,
		nxtResume:            decodeResume,
		nxtCTFlushZone:       decodeCTFlushZone,
		nxtPacketIn2:         decodePacketIn2,
	}
}

// Experimenter is an experimenter message this package does not decode.
type Experimenter struct {
	Experimenter uint32
	ExpType      uint32
	Data         []byte
}

func (*Experimenter) Type() MsgType { return TypeExperimenter }

func (m *Experimenter) appendBody(b []byte) ([]byte, error) {
	return append(put32(put32(b, m.Experimenter), m.ExpType), m.Data...), nil
}

func decodeExperimenter(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("experimenter: %w", ErrShort)
	}
	exp, typ := be32(b), be32(b[4:])
	if dec, ok := nxMessageDecoders[typ]; ok && exp == ExperimenterNicira {
		m, err := dec(b[8:])
		if err != nil {
			return nil, fmt.Errorf("nicira message %d: %w", typ, err)
		}
		return m, nil
	}
	return &Experimenter{Experimenter: exp, ExpType: typ, Data: clone(b[8:])}, nil
}

// Packet-in formats for SetPacketInFormat (NXPIF_*).
const (
	PacketInStandard = 0
	PacketInNXT      = 1
	PacketInNXT2     = 2
)

// SetPacketInFormat selects the packet-in format the switch sends
// (NXT_SET_PACKET_IN_FORMAT); OVN uses PacketInNXT2.
type SetPacketInFormat struct{ Format uint32 }

func (*SetPacketInFormat) Type() MsgType                         { return TypeExperimenter }
func (*SetPacketInFormat) subtype() uint32                       { return nxtSetPacketInFormat }
func (m *SetPacketInFormat) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }
func (m *SetPacketInFormat) appendNX(b []byte) ([]byte, error)   { return put32(b, m.Format), nil }

func decodeSetPacketInFormat(b []byte) (Message, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("set packet-in format: %w", ErrShort)
	}
	return &SetPacketInFormat{Format: be32(b)}, nil
}

// SetControllerID sets the id this connection's controller actions and
// packet-ins use (NXT_SET_CONTROLLER_ID).
type SetControllerID struct{ ID uint16 }

func (*SetControllerID) Type() MsgType                         { return TypeExperimenter }
func (*SetControllerID) subtype() uint32                       { return nxtSetControllerID }
func (m *SetControllerID) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }
func (m *SetControllerID) appendNX(b []byte) ([]byte, error)   { return put16(zeros(b, 6), m.ID), nil }

func decodeSetControllerID(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("set controller id: %w", ErrShort)
	}
	return &SetControllerID{ID: be16(b[6:])}, nil
}

// CTFlushZone flushes every connection-tracking entry in a zone
// (NXT_CT_FLUSH_ZONE), as ovn-controller does when a port goes away.
type CTFlushZone struct{ Zone uint16 }

func (*CTFlushZone) Type() MsgType                         { return TypeExperimenter }
func (*CTFlushZone) subtype() uint32                       { return nxtCTFlushZone }
func (m *CTFlushZone) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }
func (m *CTFlushZone) appendNX(b []byte) ([]byte, error)   { return put16(zeros(b, 6), m.Zone), nil }

func decodeCTFlushZone(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("ct flush zone: %w", ErrShort)
	}
	return &CTFlushZone{Zone: be16(b[6:])}, nil
}

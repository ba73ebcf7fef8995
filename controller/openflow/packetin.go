package openflow

import "fmt"

// Packet-in2 properties (NXPINT_*).
const (
	pinPacket       = 0
	pinFullLen      = 1
	pinBufferID     = 2
	pinTableID      = 3
	pinCookie       = 4
	pinReason       = 5
	pinMetadata     = 6
	pinUserdata     = 7
	pinContinuation = 8
)

// PacketIn2 is OVS's extensible packet-in (NXT_PACKET_IN2), which OVN uses
// for controller(userdata=..., pause). Metadata holds the pipeline fields
// (registers, metadata, in_port, ct state...) as OXMs. Continuation is
// opaque (the nested NXCPT_* properties): a paused pipeline resumes by
// sending it back in a Resume.
type PacketIn2 struct {
	Packet       []byte
	FullLen      uint32 // 0 when the whole packet is included
	BufferID     uint32 // 0 or NoBuffer when not buffered
	TableID      uint8
	Cookie       uint64
	Reason       uint8
	Metadata     Match
	Userdata     []byte
	Continuation []byte
}

func (*PacketIn2) Type() MsgType                         { return TypeExperimenter }
func (*PacketIn2) subtype() uint32                       { return nxtPacketIn2 }
func (m *PacketIn2) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }

func (m *PacketIn2) appendNX(b []byte) ([]byte, error) {
	b = appendProp(b, pinPacket, m.Packet)
	if m.FullLen != 0 {
		b = appendProp(b, pinFullLen, put32(nil, m.FullLen))
	}
	if m.BufferID != 0 && m.BufferID != NoBuffer {
		b = appendProp(b, pinBufferID, put32(nil, m.BufferID))
	}
	b = appendProp(b, pinTableID, []byte{m.TableID})
	b = appendProp64(b, pinCookie, m.Cookie)
	b = appendProp(b, pinReason, []byte{m.Reason})
	return m.appendTail(b)
}

// appendTail appends the metadata, userdata and continuation properties
// shared with Resume.
func (m *PacketIn2) appendTail(b []byte) ([]byte, error) {
	if len(m.Metadata) > 0 {
		md, err := m.Metadata.appendFields(nil)
		if err != nil {
			return nil, err
		}
		b = appendProp(b, pinMetadata, md)
	}
	if m.Userdata != nil {
		b = appendProp(b, pinUserdata, m.Userdata)
	}
	if m.Continuation != nil {
		// Nested properties start 8 bytes in (ofpprop_put_nested).
		b = appendProp(b, pinContinuation, append(make([]byte, 4), m.Continuation...))
	}
	return b, nil
}

func decodePacketIn2(b []byte) (Message, error) {
	m := &PacketIn2{}
	return m, m.decodeProps(b)
}

func (m *PacketIn2) decodeProps(b []byte) error {
	return walkProps(b, func(typ uint16, v []byte) error {
		var need int
		switch typ {
		case pinFullLen, pinBufferID:
			need = 4
		case pinTableID, pinReason:
			need = 1
		case pinCookie:
			need = 12
		}
		if len(v) < need {
			return fmt.Errorf("packet-in2 property %d: %w", typ, ErrShort)
		}
		var err error
		switch typ {
		case pinPacket:
			m.Packet = clone(v)
		case pinFullLen:
			m.FullLen = be32(v)
		case pinBufferID:
			m.BufferID = be32(v)
		case pinTableID:
			m.TableID = v[0]
		case pinCookie:
			m.Cookie = be64(v[4:])
		case pinReason:
			m.Reason = v[0]
		case pinMetadata:
			m.Metadata, err = decodeFields(v)
		case pinUserdata:
			m.Userdata = nonNil(v)
		case pinContinuation:
			if len(v) < 4 {
				return fmt.Errorf("continuation: %w", ErrShort)
			}
			m.Continuation = nonNil(v[4:])
		}
		return err
	})
}

func nonNil(v []byte) []byte { return append([]byte{}, v...) }

// Resume continues a pipeline paused by controller(pause) (NXT_RESUME):
// send back the packet, metadata and continuation of the PacketIn2,
// possibly with a changed packet.
type Resume struct {
	Packet       []byte
	Metadata     Match
	Continuation []byte
}

// ResumeFrom builds the Resume for a paused packet-in.
func ResumeFrom(p *PacketIn2) *Resume {
	return &Resume{Packet: p.Packet, Metadata: p.Metadata, Continuation: p.Continuation}
}

func (*Resume) Type() MsgType                         { return TypeExperimenter }
func (*Resume) subtype() uint32                       { return nxtResume }
func (m *Resume) appendBody(b []byte) ([]byte, error) { return appendNXMessage(b, m) }

func (m *Resume) appendNX(b []byte) ([]byte, error) {
	b = appendProp(b, pinPacket, m.Packet)
	p := PacketIn2{Metadata: m.Metadata, Continuation: m.Continuation}
	return p.appendTail(b)
}

func decodeResume(b []byte) (Message, error) {
	var p PacketIn2
	if err := p.decodeProps(b); err != nil {
		return nil, err
	}
	return &Resume{Packet: p.Packet, Metadata: p.Metadata, Continuation: p.Continuation}, nil
}

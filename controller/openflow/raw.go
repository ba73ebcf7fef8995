package openflow

import "fmt"

// Encodings for callers that keep flows in wire form (the controller's
// flow table stores each flow's match and instructions as bytes, not as
// Match and Action values) and build flow mods from those bytes.

// Fields returns every field of the field table, in table order. The
// slice is the caller's; the fields are shared and must not be changed.
func Fields() []*Field {
	out := make([]*Field, len(fieldDefs))
	for i := range fieldDefs {
		out[i] = &fieldDefs[i]
	}
	return out
}

// AppendBinary appends the OXM TLV of o (header, experimenter id when
// the field has one, value, mask) to b.
func (o OXM) AppendBinary(b []byte) ([]byte, error) { return o.append(b) }

// AppendBinary appends the encoded instructions to b, as they follow
// the match in a flow mod.
func (in Instructions) AppendBinary(b []byte) ([]byte, error) { return in.append(b) }

// DecodeInstructions decodes instructions encoded as AppendBinary (or a
// switch) encodes them.
func DecodeInstructions(b []byte) (Instructions, error) { return decodeInstructions(b) }

// resolved returns m with RawMatch and RawInstructions decoded into Match
// and Instructions, for rendering; what does not decode renders empty.
func (m *FlowMod) resolved() *FlowMod {
	if m.RawMatch == nil && m.RawInstructions == nil {
		return m
	}
	r := *m
	if m.RawMatch != nil {
		r.Match, _ = decodeFields(m.RawMatch)
		r.RawMatch = nil
	}
	if m.RawInstructions != nil {
		r.Instructions, _ = decodeInstructions(m.RawInstructions)
		r.RawInstructions = nil
	}
	return &r
}

// appendMatch appends the ofp_match of m: RawMatch when set, Match
// otherwise.
func (m *FlowMod) appendMatch(b []byte) ([]byte, error) {
	if m.RawMatch == nil {
		return m.Match.append(b)
	}
	start := len(b)
	if 4+len(m.RawMatch) > 0xffff {
		return nil, fmt.Errorf("match: %d bytes of fields", len(m.RawMatch))
	}
	b = put16(put16(b, 1), uint16(4+len(m.RawMatch))) // OFPMT_OXM
	return pad8(append(b, m.RawMatch...), start), nil
}

// appendInstructions appends RawInstructions when set, the encoded
// Instructions otherwise.
func (m *FlowMod) appendInstructions(b []byte) ([]byte, error) {
	if m.RawInstructions == nil {
		return m.Instructions.append(b)
	}
	return append(b, m.RawInstructions...), nil
}

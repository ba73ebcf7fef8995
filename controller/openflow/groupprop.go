package openflow

import "fmt"

// Netronome's experimenter id and the group property that chooses how a
// select group picks its bucket (NTRT_SELECTION_METHOD), which OVS
// implements: "dp_hash" or "hash" over Fields.
const (
	experimenterNTR       = 0x0000154d
	ntrSelectionMethod    = 1
	groupPropExperimenter = 0xffff
	selectionNameLen      = 16
)

// Selection is a select group's selection method: Method "dp_hash" or
// "hash" (over Fields), Param its parameter.
type Selection struct {
	Method string
	Param  uint64
	Fields []*Field
}

// appendGroupProps appends the group properties of m after its
// buckets.
func (m *GroupMod) appendGroupProps(b []byte) ([]byte, error) {
	if m.Selection == nil {
		return b, nil
	}
	if len(m.Selection.Method) >= selectionNameLen {
		return nil, fmt.Errorf("selection method %q too long", m.Selection.Method)
	}
	start := len(b)
	b = put32(put32(put32(put16(put16(b, groupPropExperimenter), 0), experimenterNTR), ntrSelectionMethod), 0)
	name := make([]byte, selectionNameLen)
	copy(name, m.Selection.Method)
	b = append(b, name...)
	b = put32(put32(b, uint32(m.Selection.Param>>32)), uint32(m.Selection.Param))
	// Fields go as OXM entries whose value is all ones (OVS's field
	// array: "fields(ip_src)" is ip_src=255.255.255.255).
	for _, f := range m.Selection.Fields {
		if f.Width == 0 {
			return nil, fmt.Errorf("selection field %s has no fixed width", f.Name)
		}
		b = put32(b, f.header(f.Width, false))
		for range f.Width {
			b = append(b, 0xff)
		}
	}
	n := len(b) - start
	b[start+2], b[start+3] = byte(n>>8), byte(n)
	return pad8(b, start), nil
}

// selectionString renders the selection method as ovs-ofctl does.
func (s *Selection) String() string {
	if s == nil {
		return ""
	}
	out := ",selection_method=" + s.Method
	if s.Param != 0 {
		out += fmt.Sprintf(",selection_method_param=%d", s.Param)
	}
	if len(s.Fields) > 0 {
		out += ",fields("
		for i, f := range s.Fields {
			if i > 0 {
				out += ","
			}
			out += f.Name
		}
		out += ")"
	}
	return out
}

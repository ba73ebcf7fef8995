package openflow

import (
	"fmt"
	"strings"
)

// MultipartGroupDesc is the multipart type of group descriptions.
const MultipartGroupDesc = 7

// GroupDescRequest asks for the description of group GroupID (GroupAll
// for every group).
type GroupDescRequest struct {
	Flags   uint16
	GroupID uint32
}

func (*GroupDescRequest) Type() MsgType { return TypeMultipartRequest }

func (m *GroupDescRequest) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, MultipartGroupDesc), m.Flags), 0)
	return put32(put32(b, m.GroupID), 0), nil
}

func decodeGroupDescRequest(flags uint16, b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("group desc request: %w", ErrShort)
	}
	return &GroupDescRequest{Flags: flags, GroupID: be32(b)}, nil
}

// GroupDesc is one installed group.
type GroupDesc struct {
	GroupType uint8
	GroupID   uint32
	Buckets   []Bucket
}

// GroupDescReply is one part of the reply to a GroupDescRequest.
type GroupDescReply struct {
	Flags  uint16
	Groups []GroupDesc
}

func (*GroupDescReply) Type() MsgType { return TypeMultipartReply }

func (m *GroupDescReply) appendBody(b []byte) ([]byte, error) {
	b = put32(put16(put16(b, MultipartGroupDesc), m.Flags), 0)
	for _, g := range m.Groups {
		start := len(b)
		b = put32(append(put16(b, 0), g.GroupType, 0), g.GroupID)
		lenAt := len(b)
		b = zeros(put16(b, 0), 6)
		for _, k := range g.Buckets {
			var err error
			if b, err = k.append(b); err != nil {
				return nil, fmt.Errorf("group %d: %w", g.GroupID, err)
			}
		}
		n, bn := len(b)-start, len(b)-lenAt-8
		b[start], b[start+1] = byte(n>>8), byte(n)
		b[lenAt], b[lenAt+1] = byte(bn>>8), byte(bn)
	}
	return b, nil
}

func decodeGroupDescReply(flags uint16, b []byte) (Message, error) {
	m := &GroupDescReply{Flags: flags}
	for len(b) > 0 {
		if len(b) < 16 {
			return nil, fmt.Errorf("group desc: %w", ErrShort)
		}
		n, bn := int(be16(b)), int(be16(b[8:]))
		if n < 16+bn || n > len(b) {
			return nil, fmt.Errorf("group desc length %d: %w", n, ErrShort)
		}
		g := GroupDesc{GroupType: b[2], GroupID: be32(b[4:])}
		for p := b[16 : 16+bn]; len(p) > 0; {
			k, rest, err := decodeBucket(p)
			if err != nil {
				return nil, fmt.Errorf("group desc: %w", err)
			}
			g.Buckets, p = append(g.Buckets, k), rest
		}
		m.Groups, b = append(m.Groups, g), b[n:]
	}
	return m, nil
}

// String renders g as `ovs-ofctl dump-groups` prints it.
func (g GroupDesc) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "group_id=%d", g.GroupID)
	if int(g.GroupType) < len(groupTypeNames) {
		s.WriteString(",type=" + groupTypeNames[g.GroupType])
	}
	for _, k := range g.Buckets {
		s.WriteString(",bucket=" + k.String())
	}
	return s.String()
}

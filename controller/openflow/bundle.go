package openflow

import (
	"fmt"
	"strings"
)

// Bundle control types (OFPBCT_*).
const (
	BundleOpenRequest    = 0
	BundleOpenReply      = 1
	BundleCloseRequest   = 2
	BundleCloseReply     = 3
	BundleCommitRequest  = 4
	BundleCommitReply    = 5
	BundleDiscardRequest = 6
	BundleDiscardReply   = 7
)

// Bundle flags (OFPBF_*).
const (
	BundleAtomic  = 1 << 0
	BundleOrdered = 1 << 1
)

var bundleTypeNames = []string{"OPEN_REQUEST", "OPEN_REPLY", "CLOSE_REQUEST", "CLOSE_REPLY",
	"COMMIT_REQUEST", "COMMIT_REPLY", "DISCARD_REQUEST", "DISCARD_REPLY"}

// BundleControl opens, closes, commits or discards a bundle
// (OFPT_BUNDLE_CONTROL); the switch answers with the matching *_REPLY.
type BundleControl struct {
	BundleID uint32
	CtlType  uint16
	Flags    uint16
}

func (*BundleControl) Type() MsgType { return TypeBundleControl }

func (m *BundleControl) appendBody(b []byte) ([]byte, error) {
	return put16(put16(put32(b, m.BundleID), m.CtlType), m.Flags), nil
}

func decodeBundleControl(b []byte) (Message, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("bundle control: %w", ErrShort)
	}
	return &BundleControl{BundleID: be32(b), CtlType: be16(b[4:]), Flags: be16(b[6:])}, nil
}

// String renders m as ofp-print's second line.
func (m *BundleControl) String() string {
	t := fmt.Sprint(m.CtlType)
	if int(m.CtlType) < len(bundleTypeNames) {
		t = bundleTypeNames[m.CtlType]
	}
	return fmt.Sprintf("bundle_id=%#x type=%s flags=%s", m.BundleID, t, bundleFlagsString(m.Flags))
}

func bundleFlagsString(f uint16) string {
	var p []string
	if f&BundleAtomic != 0 {
		p = append(p, "atomic")
	}
	if f&BundleOrdered != 0 {
		p = append(p, "ordered")
	}
	if len(p) == 0 {
		return "0"
	}
	return strings.Join(p, " ")
}

// BundleAdd adds a message to an open bundle (OFPT_BUNDLE_ADD_MESSAGE).
// The inner message carries the same xid as the BundleAdd itself, as the
// specification requires.
type BundleAdd struct {
	BundleID uint32
	Flags    uint16
	Message  Message
}

func (*BundleAdd) Type() MsgType { return TypeBundleAdd }

func (m *BundleAdd) appendBody(b []byte) ([]byte, error) {
	xid := be32(b[4:]) // the outer header's xid, already written
	b = put16(put16(put32(b, m.BundleID), 0), m.Flags)
	b, err := appendMessage(b, xid, m.Message)
	if err != nil {
		return nil, fmt.Errorf("bundle add: %w", err)
	}
	return b, nil
}

func decodeBundleAdd(b []byte) (Message, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("bundle add: %w", ErrShort)
	}
	m := &BundleAdd{BundleID: be32(b), Flags: be16(b[6:])}
	_, inner, err := Unmarshal(b[8:])
	if err != nil {
		return nil, fmt.Errorf("bundle add: %w", err)
	}
	m.Message = inner
	return m, nil
}

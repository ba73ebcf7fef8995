package openflow

import (
	"fmt"
	"strings"
)

// Group mod commands (OFPGC15_*).
const (
	GroupAdd          = 0
	GroupModify       = 1
	GroupDelete       = 2
	GroupInsertBucket = 3
	GroupRemoveBucket = 5
)

// Group types (OFPGT_*).
const (
	GroupTypeAll          = 0
	GroupTypeSelect       = 1
	GroupTypeIndirect     = 2
	GroupTypeFastFailover = 3
)

// GroupAll is the group id meaning every group (deletes).
const GroupAll = 0xfffffffc

// BucketAll is the command_bucket_id meaning every bucket.
const BucketAll = 0xffffffff

var (
	groupCommandNames = map[uint16]string{0: "ADD", 1: "MOD", 2: "DEL", 3: "INSERT_BUCKET", 5: "REMOVE_BUCKET"}
	groupTypeNames    = []string{"all", "select", "indirect", "ff"}
)

// GroupMod adds, modifies or deletes a group (OpenFlow 1.5 OFPT_GROUP_MOD).
type GroupMod struct {
	Command   uint16
	GroupType uint8
	GroupID   uint32
	// CommandBucketID is BucketAll except for bucket insert/remove.
	CommandBucketID uint32
	Buckets         []Bucket
	Selection       *Selection // select groups: how to pick a bucket (nil: the switch's default)
}

// Bucket is one bucket of a group. Weight matters to select groups;
// WatchPort and WatchGroup (0 for none) to fast-failover groups.
type Bucket struct {
	ID         uint32
	Weight     uint16
	WatchPort  uint32
	WatchGroup uint32
	Actions    []Action
}

// Bucket properties (OFPGBPT15_*).
const (
	bucketWeight     = 0
	bucketWatchPort  = 1
	bucketWatchGroup = 2
)

func (*GroupMod) Type() MsgType { return TypeGroupMod }

func (m *GroupMod) appendBody(b []byte) ([]byte, error) {
	b = put32(append(put16(b, m.Command), m.GroupType, 0), m.GroupID)
	lenAt := len(b)
	b = put32(put32(b, 0), m.CommandBucketID)
	start := len(b)
	for _, k := range m.Buckets {
		var err error
		if b, err = k.append(b); err != nil {
			return nil, fmt.Errorf("bucket %d: %w", k.ID, err)
		}
	}
	b[lenAt], b[lenAt+1] = byte((len(b)-start)>>8), byte(len(b)-start)
	return m.appendGroupProps(b)
}

func (k Bucket) append(b []byte) ([]byte, error) {
	start := len(b)
	b = put32(put32(b, 0), k.ID)
	b, err := appendActions(b, k.Actions)
	if err != nil {
		return nil, err
	}
	actLen := len(b) - start - 8
	if k.Weight != 0 {
		b = appendProp(b, bucketWeight, []byte{byte(k.Weight >> 8), byte(k.Weight), 0, 0})
	}
	if k.WatchPort != 0 {
		b = appendProp(b, bucketWatchPort, put32(nil, k.WatchPort))
	}
	if k.WatchGroup != 0 {
		b = appendProp(b, bucketWatchGroup, put32(nil, k.WatchGroup))
	}
	b[start], b[start+1] = byte((len(b)-start)>>8), byte(len(b)-start)
	b[start+2], b[start+3] = byte(actLen>>8), byte(actLen)
	return b, nil
}

func decodeGroupMod(b []byte) (Message, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("group mod: %w", ErrShort)
	}
	m := &GroupMod{Command: be16(b), GroupType: b[2], GroupID: be32(b[4:]), CommandBucketID: be32(b[12:])}
	n := int(be16(b[8:]))
	if 16+n > len(b) {
		return nil, fmt.Errorf("group mod buckets: %w", ErrShort)
	}
	for p := b[16 : 16+n]; len(p) > 0; {
		k, rest, err := decodeBucket(p)
		if err != nil {
			return nil, fmt.Errorf("group mod: %w", err)
		}
		m.Buckets, p = append(m.Buckets, k), rest
	}
	return m, nil
}

func decodeBucket(b []byte) (Bucket, []byte, error) {
	if len(b) < 8 {
		return Bucket{}, nil, fmt.Errorf("bucket: %w", ErrShort)
	}
	n, an := int(be16(b)), int(be16(b[2:]))
	if n < 8+an || n > len(b) {
		return Bucket{}, nil, fmt.Errorf("bucket length %d: %w", n, ErrShort)
	}
	k := Bucket{ID: be32(b[4:])}
	var err error
	if k.Actions, err = decodeActions(b[8 : 8+an]); err != nil {
		return Bucket{}, nil, err
	}
	err = walkProps(b[8+an:n], func(typ uint16, v []byte) error {
		if len(v) < 2 || (typ != bucketWeight && len(v) < 4) {
			return fmt.Errorf("bucket property %d: %w", typ, ErrShort)
		}
		switch typ {
		case bucketWeight:
			k.Weight = be16(v)
		case bucketWatchPort:
			k.WatchPort = be32(v)
		case bucketWatchGroup:
			k.WatchGroup = be32(v)
		}
		return nil
	})
	return k, b[n:], err
}

// String renders m as the second line of `ovs-ofctl ofp-print` output.
func (m *GroupMod) String() string {
	var s strings.Builder
	name, ok := groupCommandNames[m.Command]
	if !ok {
		name = fmt.Sprintf("cmd:%d", m.Command)
	}
	fmt.Fprintf(&s, "%s group_id=%d", name, m.GroupID)
	if int(m.GroupType) < len(groupTypeNames) {
		s.WriteString(",type=" + groupTypeNames[m.GroupType])
	}
	s.WriteString(m.Selection.String())
	for _, k := range m.Buckets {
		s.WriteString(",bucket=" + k.String())
	}
	return s.String()
}

func (k Bucket) String() string {
	s := fmt.Sprintf("bucket_id:%d", k.ID)
	if k.Weight != 0 {
		s += fmt.Sprintf(",weight:%d", k.Weight)
	}
	if k.WatchPort != 0 {
		s += ",watch_port:" + portString(k.WatchPort)
	}
	if k.WatchGroup != 0 {
		s += fmt.Sprintf(",watch_group:%d", k.WatchGroup)
	}
	return s + ",actions=" + Instructions{Apply: k.Actions}.String()
}

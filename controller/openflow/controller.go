package openflow

import (
	"fmt"
	"strings"
)

// Packet-in reasons (OpenFlow 1.5 ofp_packet_in_reason).
const (
	ReasonNoMatch    = 0
	ReasonAction     = 1
	ReasonInvalidTTL = 2
	ReasonActionSet  = 3
	ReasonGroup      = 4
	ReasonPacketOut  = 5
)

var reasonNames = []string{"no_match", "action", "invalid_ttl", "action_set", "group", "packet_out"}

func reasonString(r uint8) string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprint(r)
}

// Controller sends the packet to the controller with OVS extras:
// userdata, pause (for a continuation) and a controller id. MaxLen 0xffff
// sends the whole packet. It is encoded as NXAST_CONTROLLER2 when it has
// userdata, pause or a meter, else as the shorter NXAST_CONTROLLER.
type Controller struct {
	MaxLen   uint16
	ID       uint16
	Reason   uint8
	Userdata []byte
	Pause    bool
	MeterID  uint32 // 0 for none
}

// Controller2 properties (NXAC2PT_*).
const (
	c2MaxLen   = 0
	c2ID       = 1
	c2Reason   = 2
	c2Userdata = 3
	c2Pause    = 4
	c2Meter    = 5
)

func (a *Controller) appendAction(b []byte) ([]byte, error) {
	start := len(b)
	if a.Userdata == nil && !a.Pause && a.MeterID == 0 {
		b = put16(put16(nxHeader(b, nxController), a.MaxLen), a.ID)
		return fixLen(append(b, a.Reason, 0), start), nil
	}
	b = zeros(nxHeader(b, nxController2), 6)
	if a.MaxLen != 0xffff {
		b = appendProp(b, c2MaxLen, put16(nil, a.MaxLen))
	}
	if a.ID != 0 {
		b = appendProp(b, c2ID, put16(nil, a.ID))
	}
	if a.Reason != ReasonAction {
		b = appendProp(b, c2Reason, []byte{a.Reason})
	}
	if a.Userdata != nil {
		b = appendProp(b, c2Userdata, a.Userdata)
	}
	if a.Pause {
		b = appendProp(b, c2Pause, nil)
	}
	if a.MeterID != 0 {
		b = appendProp(b, c2Meter, put32(nil, a.MeterID))
	}
	return fixLen(b, start), nil
}

func (a *Controller) String() string {
	if a.Reason == ReasonAction && a.ID == 0 && a.Userdata == nil && !a.Pause && a.MeterID == 0 {
		return fmt.Sprintf("CONTROLLER:%d", a.MaxLen)
	}
	var p []string
	if a.Reason != ReasonAction {
		p = append(p, "reason="+reasonString(a.Reason))
	}
	if a.MaxLen != 0xffff {
		p = append(p, fmt.Sprintf("max_len=%d", a.MaxLen))
	}
	if a.ID != 0 {
		p = append(p, fmt.Sprintf("id=%d", a.ID))
	}
	if a.Userdata != nil {
		p = append(p, "userdata="+dotHex(a.Userdata))
	}
	if a.Pause {
		p = append(p, "pause")
	}
	if a.MeterID != 0 {
		p = append(p, fmt.Sprintf("meter_id=%d", a.MeterID))
	}
	return "controller(" + strings.Join(p, ",") + ")"
}

func decodeController(a []byte) (Action, error) {
	return &Controller{MaxLen: be16(a[10:]), ID: be16(a[12:]), Reason: a[14]}, nil
}

func decodeController2(a []byte) (Action, error) {
	c := &Controller{MaxLen: 0xffff, Reason: ReasonAction}
	err := walkProps(a[16:], func(typ uint16, v []byte) error {
		if need := map[uint16]int{c2MaxLen: 2, c2ID: 2, c2Reason: 1, c2Meter: 4}[typ]; len(v) < need {
			return fmt.Errorf("controller2 property %d: %w", typ, ErrShort)
		}
		switch typ {
		case c2MaxLen:
			c.MaxLen = be16(v)
		case c2ID:
			c.ID = be16(v)
		case c2Reason:
			c.Reason = v[0]
		case c2Userdata:
			c.Userdata = clone(v)
			if c.Userdata == nil {
				c.Userdata = []byte{}
			}
		case c2Pause:
			c.Pause = true
		case c2Meter:
			c.MeterID = be32(v)
		}
		return nil
	})
	return c, err
}

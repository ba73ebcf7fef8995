package openflow

import (
	"bytes"
	"fmt"
	"net"
)

// Port status reasons (OFPPR_*).
const (
	PortAdd    = 0
	PortDelete = 1
	PortModify = 2
)

// Port describes a switch port (OpenFlow 1.5 ofp_port, without its
// properties).
type Port struct {
	No     uint32
	HWAddr net.HardwareAddr
	Name   string
	Config uint32
	State  uint32
}

// PortStatus tells that a port was added, deleted or changed
// (OFPT_PORT_STATUS); it arrives on Conn.Async.
type PortStatus struct {
	Reason uint8
	Port   Port
}

func (*PortStatus) Type() MsgType { return TypePortStatus }

func (m *PortStatus) appendBody(b []byte) ([]byte, error) {
	b = zeros(append(b, m.Reason), 7)
	p := m.Port
	if len(p.HWAddr) != 6 || len(p.Name) > 15 {
		return nil, fmt.Errorf("port %d: bad address or name", p.No)
	}
	b = put16(put16(put32(b, p.No), 40), 0)
	b = append(zeros(append(b, p.HWAddr...), 2), p.Name...)
	b = zeros(b, 16-len(p.Name))
	return put32(put32(b, p.Config), p.State), nil
}

func decodePortStatus(b []byte) (Message, error) {
	if len(b) < 48 {
		return nil, fmt.Errorf("port status: %w", ErrShort)
	}
	p := b[8:]
	name, _, _ := bytes.Cut(p[16:32], []byte{0})
	return &PortStatus{Reason: b[0], Port: Port{No: be32(p), HWAddr: net.HardwareAddr(clone(p[8:14])),
		Name: string(name), Config: be32(p[32:]), State: be32(p[36:])}}, nil
}

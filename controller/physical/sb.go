package physical

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// PortFromBinding fills the Port fields that come from the Port_Binding
// row itself: name, key, type, bound chassis (for an l3gateway port
// options:l3gateway-chassis), peer, distributed port, parent and tag,
// MAC and port security. chassisName maps a Chassis row UUID to its name.
// The caller adds what the chassis knows: Datapath (the datapath's tunnel
// key), OFPort and Zone.
func PortFromBinding(pb *sbdb.PortBinding, chassisName func(uuid string) string) Port {
	p := Port{UUID: pb.UUID, Name: pb.LogicalPort, Key: uint32(max(pb.TunnelKey, 0)), Type: pb.Type,
		Peer: pb.Options["peer"], DistributedPort: pb.Options["distributed-port"],
		MAC: pb.MAC, PortSecurity: pb.PortSecurity}
	if pb.Chassis != nil && chassisName != nil {
		p.Chassis = chassisName(*pb.Chassis)
	}
	if pb.Type == TypeL3Gateway {
		p.Chassis = pb.Options["l3gateway-chassis"]
	}
	if pb.ParentPort != nil {
		p.Parent = *pb.ParentPort
	}
	if pb.Tag != nil && *pb.Tag > 0 && *pb.Tag < 4096 {
		p.Tag = uint16(*pb.Tag)
	}
	return p
}

// MACBindingFromSB converts a MAC_Binding row; an address that does not
// parse is an error.
func MACBindingFromSB(mb *sbdb.MACBinding) (MACBinding, error) {
	return macBinding(mb.UUID, mb.LogicalPort, mb.IP, mb.MAC, false, false)
}

// StaticMACBindingFromSB converts a Static_MAC_Binding row.
func StaticMACBindingFromSB(mb *sbdb.StaticMACBinding) (MACBinding, error) {
	return macBinding(mb.UUID, mb.LogicalPort, mb.IP, mb.MAC, true, mb.OverrideDynamicMAC)
}

func macBinding(uuid, port, ip, mac string, static, override bool) (MACBinding, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return MACBinding{}, fmt.Errorf("mac binding %s of %s: ip %q: %w", uuid, port, ip, err)
	}
	hw, err := net.ParseMAC(strings.TrimSpace(mac))
	if err != nil || len(hw) != 6 {
		return MACBinding{}, fmt.Errorf("mac binding %s of %s: bad Ethernet address %q", uuid, port, mac)
	}
	return MACBinding{UUID: uuid, Port: port, IP: a.Unmap(), MAC: hw, Static: static, Override: override}, nil
}

// FDBFromSB converts an FDB row.
func FDBFromSB(e *sbdb.FDB) (FDB, error) {
	hw, err := net.ParseMAC(strings.TrimSpace(e.MAC))
	if err != nil || len(hw) != 6 {
		return FDB{}, fmt.Errorf("fdb %s: bad Ethernet address %q", e.UUID, e.MAC)
	}
	if e.DpKey <= 0 || e.PortKey <= 0 {
		return FDB{}, fmt.Errorf("fdb %s: dp_key %d port_key %d", e.UUID, e.DpKey, e.PortKey)
	}
	return FDB{UUID: e.UUID, Datapath: uint32(e.DpKey), Port: uint32(e.PortKey), MAC: hw}, nil
}

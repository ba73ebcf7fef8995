// Package physical computes the OpenFlow flows of br-int that do not come
// from logical flows, as OVN 23.03's ovn-controller (physical.c, and the
// neighbour and FDB parts of lflow.c) installs them: ingress from VIFs,
// localnet patch ports and tunnels (table 0), the large-packet tables
// (37, 38), remote output over Geneve or VXLAN tunnels (39), local output
// and multicast fan-out (40), the loopback check (41), the in_port save
// (64), egress to VIFs, localnet and logical patch ports (65), MAC
// bindings (66, 67), learned FDB entries (71, 72) and the port-security
// tables behind check_in_port_sec() and check_out_port_sec() (73-75).
//
// It is pure: Flows (or a Builder, for one owner at a time) maps an Input
// that the controller loop builds from the SB replica and the chassis
// state to flows keyed by owner, ready for flowtable.Desired.Set. A
// Builder is updated in place with a Delta (Apply), which names only the
// owners that read what changed, so that a port added to a chassis of
// 10,000 ports costs that port and the few owners around it.
package physical

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
)

// Input is what the physical flows of one chassis depend on. Every port
// and multicast group of the datapaths local to this chassis belongs in
// it; ports of other datapaths are ignored.
type Input struct {
	// Chassis is this chassis' name (Chassis.name, the system-id).
	Chassis string
	// Datapaths are the local datapaths (those with a port bound here
	// or reachable through logical patch ports), by tunnel key.
	Datapaths []Datapath
	// Ports are the Port_Binding rows of the local datapaths.
	Ports []Port
	// MulticastGroups are the Multicast_Group rows of the local datapaths.
	MulticastGroups []MulticastGroup
	// Tunnels are the tunnel ports on br-int, one per remote chassis.
	Tunnels []Tunnel
	// MACBindings are the MAC_Binding and Static_MAC_Binding rows of the
	// local datapaths' ports.
	MACBindings []MACBinding
	// FDBs are the FDB rows of the local datapaths.
	FDBs []FDB
	// Peers are the peers of local patch ports that sit on datapaths
	// that are not local (the switch behind a distributed gateway port,
	// on a chassis that is not its gateway). They get no flows of their
	// own; the patch flows towards them enter their datapath without
	// zones, as ovn-controller writes them.
	Peers []Port
}

// Datapath is a local datapath.
type Datapath struct {
	Key      uint32 // Datapath_Binding.tunnel_key: metadata
	DNATZone uint16 // conntrack zone for DNAT (reg11), 0 if none allocated
	SNATZone uint16 // conntrack zone for SNAT (reg12), 0 if none allocated
}

// Port types (Port_Binding.type) with physical flows of their own.
const (
	TypeVIF       = ""
	TypeLocalport = "localport"
	TypeLocalnet  = "localnet"
	TypePatch     = "patch"
	// TypeL3Gateway is a patch port of a gateway router pinned to one
	// chassis: a patch port there, a remote port elsewhere.
	TypeL3Gateway = "l3gateway"
	// TypeChassisRedirect is the gateway side of a distributed router
	// port: output to it reaches the chassis it is bound to.
	TypeChassisRedirect = "chassisredirect"
	// TypeExternal is a port whose host sits on the provider network
	// (SR-IOV, bare metal), served by the chassis it is bound to through
	// the localnet port.
	TypeExternal = "external"
	// TypeVirtual is a virtual IP's port, bound to the chassis of the
	// virtual parent that claimed it: other chassis tunnel to it.
	TypeVirtual = "virtual"
)

// Port is one Port_Binding of a local datapath.
type Port struct {
	// UUID is the Port_Binding row's UUID; its first 32 bits are the
	// cookie of the port's flows, as with ovn-controller.
	UUID string
	// Name is logical_port.
	Name string
	// Datapath is the tunnel key of the port's datapath.
	Datapath uint32
	// Key is the port's tunnel_key.
	Key uint32
	// Type is Port_Binding.type ("" for a VIF).
	Type string
	// Chassis is the name of the chassis the port is bound to, "" if
	// unbound; for an l3gateway port, options:l3gateway-chassis.
	Chassis string
	// OFPort is the port's OpenFlow port on br-int when it is here: the
	// VIF's interface (bound to this chassis or a localport), the patch
	// port to the provider bridge of a localnet port. 0 otherwise. A
	// nested container uses its parent's.
	OFPort uint32
	// Zone is the port's conntrack zone (reg13), 0 if none allocated.
	Zone uint16
	// Tag is Port_Binding.tag: the VLAN of a localnet port, or of a
	// nested container on its parent's interface; 0 for none.
	Tag uint16
	// Parent is a nested container's parent_port: the VIF whose
	// interface (OFPort) carries the container's traffic tagged with Tag.
	Parent string
	// Peer is the logical_port name of a patch or l3gateway port's
	// peer (options:peer).
	Peer string
	// DistributedPort is the logical_port name of a chassisredirect
	// port's distributed port (options:distributed-port).
	DistributedPort string
	// MAC is Port_Binding.mac: each entry an Ethernet address and the
	// port's IP addresses. Used for external ports.
	MAC []string
	// PortSecurity is Port_Binding.port_security: each entry an Ethernet
	// address followed by the IPv4 and IPv6 addresses (with optional
	// prefixes) the port may use.
	PortSecurity []string
}

// MulticastGroup is one Multicast_Group row.
type MulticastGroup struct {
	UUID     string   // row UUID, for the cookie
	Datapath uint32   // datapath tunnel key
	Key      uint32   // tunnel_key, 0x8000 and up
	Members  []string // logical_port names of the member Port_Bindings
}

// Tunnel encapsulations.
const (
	Geneve = "geneve"
	VXLAN  = "vxlan"
)

// Tunnel is the tunnel port on br-int towards another chassis.
type Tunnel struct {
	Chassis string // the remote chassis' name
	Type    string // Geneve or VXLAN
	OFPort  uint32
}

// Owner keys: the physical package's owners in flowtable.Desired.
const (
	ownerStatic = "physical/static"
	prefixPort  = "physical/port/"
	prefixMC    = "physical/mc/"
	prefixTun   = "physical/tunnel/"
)

// StaticOwner owns the flows that depend on nothing (table defaults).
func StaticOwner() string { return ownerStatic }

// PortOwner owns the flows of the Port_Binding with this UUID.
func PortOwner(uuid string) string { return prefixPort + uuid }

// MulticastOwner owns the flows of the Multicast_Group with this UUID.
func MulticastOwner(uuid string) string { return prefixMC + uuid }

// TunnelOwner owns the ingress flow of the tunnel to this chassis.
func TunnelOwner(chassis string) string { return prefixTun + chassis }

// IsOwner reports whether owner is one of this package's owner keys, so
// that a caller can remove the owners a new Input no longer has.
func IsOwner(owner string) bool { return strings.HasPrefix(owner, "physical/") }

// Flows computes every physical flow of in, by owner. Owners with no flows
// are left out.
func Flows(in Input) (map[string][]flowtable.Flow, error) {
	b, err := NewBuilder(in)
	if err != nil {
		return nil, err
	}
	return b.All(), nil
}

// cookie is the first 32 bits of a row UUID, as ovn-controller uses.
func cookie(uuid string) uint64 {
	if len(uuid) < 8 {
		return 0
	}
	v, err := strconv.ParseUint(uuid[:8], 16, 32)
	if err != nil {
		return 0
	}
	return v
}

// sortFlows orders flows as Desired.Flows does, for stable output.
func sortFlows(fs []flowtable.Flow) []flowtable.Flow {
	slices.SortStableFunc(fs, func(a, b flowtable.Flow) int {
		return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(b.Priority, a.Priority))
	})
	return fs
}

package chassis

import (
	"fmt"
	"slices"
)

// ChassisIDKey is the Port external_ids key ovn-controller marks its
// tunnel ports with: "<chassis name>@<remote ip>".
const ChassisIDKey = "ovn-chassis-id"

// Tunnel is the tunnel port on br-int to one remote chassis.
type Tunnel struct {
	Chassis  string // remote chassis name
	Port     string // port and interface name, "ovn-<chassis[:6]>-<n>"
	Type     string // "geneve" or "vxlan"
	RemoteIP string
	Options  map[string]string // Interface options as written
	OFPort   int32             // 0 until ovs-vswitchd assigned one
}

// tunnelPortName returns ovn-controller's name for a new tunnel port to
// chassis: "ovn-" + the first six characters of the chassis name + "-" +
// the lowest hex index not in taken. It fails only when 65536 names with
// that prefix are taken.
func tunnelPortName(chassis string, taken map[string]bool) (string, error) {
	prefix := chassis
	if len(prefix) > 6 {
		prefix = prefix[:6]
	}
	for i := 0; i <= 0xffff; i++ {
		name := fmt.Sprintf("ovn-%s-%x", prefix, i)
		if !taken[name] {
			return name, nil
		}
	}
	return "", fmt.Errorf("no free tunnel port name for chassis %q", chassis)
}

// encapPreference orders encapsulations as ovn-controller prefers them
// when a peer offers several: geneve, then vxlan.
var encapPreference = []string{EncapGeneve, EncapVXLAN}

// preferredEncap picks the encapsulation to reach a peer: the most
// preferred type that the peer offers and this chassis is configured for.
// ok is false when there is none.
func preferredEncap(local []string, remote []string) (string, bool) {
	for _, t := range encapPreference {
		if slices.Contains(local, t) && slices.Contains(remote, t) {
			return t, true
		}
	}
	return "", false
}

// zonesOverlap reports whether two chassis may have tunnels between
// them: when they share a transport zone, or both have none (they are
// both in the default zone).
func zonesOverlap(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	for _, z := range a {
		if slices.Contains(b, z) {
			return true
		}
	}
	return false
}

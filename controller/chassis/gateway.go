package chassis

import (
	"sort"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// Port_Binding types bound to a chassis without a local interface.
const (
	typeL3Gateway       = "l3gateway"       // a gateway router's port, pinned by options:l3gateway-chassis
	typeChassisRedirect = "chassisredirect" // a distributed gateway port's gateway side, by HA group
	typeExternal        = "external"        // a port served from a gateway chassis, by HA group
)

// haView holds the HA tables.
type haView struct {
	groups  map[string]*sbdb.HAChassisGroup // by uuid
	members map[string]*sbdb.HAChassis      // by uuid
}

// haActive reports whether chassis chUUID is the active member of HA
// group groupUUID. A group of one has its member active, as with
// ovn-controller. ovnd runs no BFD, so in a larger group the member with
// the highest priority (then the lowest chassis UUID) is taken to be
// active: the choice ovn-controller makes when every member is up, with
// no failover when the active member dies.
func (h *haView) haActive(groupUUID *string, chUUID string) bool {
	if groupUUID == nil {
		return false
	}
	g := h.groups[*groupUUID]
	if g == nil {
		return false
	}
	var ms []*sbdb.HAChassis
	for _, u := range g.HaChassis {
		if m := h.members[u]; m != nil && m.Chassis != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return false
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Priority != ms[j].Priority {
			return ms[i].Priority > ms[j].Priority
		}
		return *ms[i].Chassis < *ms[j].Chassis
	})
	return *ms[0].Chassis == chUUID
}

// haContains reports whether chassis chUUID is a member of HA group
// groupUUID, active or not.
func (h *haView) haContains(groupUUID *string, chUUID string) bool {
	if groupUUID == nil || h.groups[*groupUUID] == nil {
		return false
	}
	for _, u := range h.groups[*groupUUID].HaChassis {
		if m := h.members[u]; m != nil && m.Chassis != nil && *m.Chassis == chUUID {
			return true
		}
	}
	return false
}

// bindsHere reports whether pb, a port with no interface of its own, is
// bound to this chassis: an l3gateway port pinned here, a
// chassisredirect or external port whose HA group has this chassis
// active.
func bindsHere(sb *sbView, pb *sbdb.PortBinding, chUUID string, cfg Config) bool {
	switch pb.Type {
	case typeL3Gateway:
		return pb.Options["l3gateway-chassis"] == cfg.SystemID
	case typeChassisRedirect, typeExternal:
		return sb.ha.haActive(pb.HaChassisGroup, chUUID)
	}
	return false
}

// boundTypes are the Port_Binding types this package claims and
// releases; other types (virtual, vtep, ...) are left to whoever binds
// them.
var boundTypes = map[string]bool{
	typeVIF: true, typeL3Gateway: true, typeChassisRedirect: true, typeExternal: true,
}

package chassis

import (
	"slices"
	"sort"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// Interface external_ids keys of the binding contract.
const (
	IfaceIDKey        = "iface-id"         // set by the CMS: the logical port
	OVNInstalledKey   = "ovn-installed"    // set by the controller: flows are in
	OVNInstalledTSKey = "ovn-installed-ts" // when ovn-installed was set, ms
)

// Port_Binding types.
const (
	typeVIF       = ""
	typeLocalport = "localport"
	typeLocalnet  = "localnet"
	typePatch     = "patch"
)

// LocalPort is a logical port with an interface on this chassis.
type LocalPort struct {
	Name          string // logical port
	Type          string // "" (a VIF, bound here) or "localport"
	Interface     string // OVS interface name (the parent's, for a container port)
	InterfaceUUID string
	OFPort        int32
	Datapath      string // Datapath_Binding UUID
	DatapathKey   int64  // the datapath's tunnel key
	PortKey       int64  // the port's tunnel key
	Parent        string // parent logical port of a container port
	Tag           int    // VLAN tag of a container port
	Zone          int    // conntrack zone
	MAC           []string
	Installed     bool // the loop said its flows are in (MarkInstalled), or a previous run did (ovn-installed)
}

// binding is the binding decision for one round.
type binding struct {
	local    map[string]*LocalPort        // logical port -> local port
	gateway  map[string]*sbdb.PortBinding // bound here without an interface: l3gateway, chassisredirect, external
	ifaceOf  map[string]*vswitch.Interface
	up       map[string]bool     // local ports whose Port_Binding.up is true
	ifaceIDs []string            // every iface-id on br-int with an OpenFlow port, bound or not
	claim    []*sbdb.PortBinding // bound here now, held elsewhere before
	release  []*sbdb.PortBinding // held here, no longer local
	datapath map[string]bool     // local datapaths (by uuid)
}

// localIfaces returns the interfaces on bridge br that name a logical
// port in external_ids:iface-id and have an OpenFlow port, by logical
// port. When two interfaces name the same port, the first by name wins.
func localIfaces(ovs *ovsView, br string) map[string]*vswitch.Interface {
	out := map[string]*vswitch.Interface{}
	for _, p := range ovs.bridgePorts(br) {
		ifaces := ovs.portIfaces(p)
		sort.Slice(ifaces, func(i, j int) bool { return ifaces[i].Name < ifaces[j].Name })
		for _, f := range ifaces {
			id := f.ExternalIDs[IfaceIDKey]
			if id == "" || f.Ofport == nil || *f.Ofport <= 0 {
				continue
			}
			if prev, ok := out[id]; !ok || f.Name < prev.Name {
				out[id] = f
			}
		}
	}
	return out
}

// requestedHere reports whether pb may be bound to this chassis: it has
// no requested chassis, or requests this one (by row, name or hostname).
func requestedHere(pb *sbdb.PortBinding, chUUID string, cfg Config) bool {
	if pb.RequestedChassis != nil {
		return *pb.RequestedChassis == chUUID
	}
	req := splitList(pb.Options["requested-chassis"])
	if len(req) == 0 {
		return true
	}
	return req[0] == cfg.SystemID || req[0] == cfg.Hostname
}

// computeBinding decides which Port_Bindings are local, which to claim
// and which to release.
func computeBinding(ovs *ovsView, sb *sbView, cfg Config, chUUID string) *binding {
	b := &binding{local: map[string]*LocalPort{}, ifaceOf: map[string]*vswitch.Interface{}, datapath: map[string]bool{},
		up:      map[string]bool{},
		gateway: map[string]*sbdb.PortBinding{}}
	ifaces := localIfaces(ovs, cfg.Bridge)
	b.ifaceIDs = sortedKeys(ifaces)
	for id, f := range ifaces {
		pb := sb.pbs[id]
		if pb == nil {
			continue
		}
		switch {
		case pb.Type == typeLocalport:
			b.add(sb, pb, f, "")
		case pb.Type == typeVIF && pb.ParentPort == nil && requestedHere(pb, chUUID, cfg):
			b.add(sb, pb, f, "")
		}
	}
	b.addContainers(sb, ifaces, chUUID, cfg)
	for _, pb := range sb.idx.nonVIF {
		if sb.pbs[pb.LogicalPort] == pb && bindsHere(sb, pb, chUUID, cfg) {
			b.gateway[pb.LogicalPort] = pb
		}
	}
	// Claims are among the ports bound here (local VIFs, gateways),
	// releases among those held here: not every binding needs a look.
	claimable := func(pb *sbdb.PortBinding) {
		if pb != nil && (pb.Chassis == nil || *pb.Chassis != chUUID) {
			b.claim = append(b.claim, pb)
		}
	}
	for name, lp := range b.local {
		if lp.Type == typeVIF {
			claimable(sb.pbs[name])
		}
	}
	for _, pb := range b.gateway {
		if lp := b.local[pb.LogicalPort]; lp == nil || lp.Type != typeVIF { // not counted above
			claimable(pb)
		}
	}
	for _, pb := range sb.idx.byChassis[chUUID] {
		if sb.pbs[pb.LogicalPort] != pb {
			continue // a row its name does not stand for
		}
		lp := b.local[pb.LogicalPort]
		bound := lp != nil && lp.Type == typeVIF || b.gateway[pb.LogicalPort] != nil
		if !bound && boundTypes[pb.Type] {
			b.release = append(b.release, pb)
		}
	}
	sort.Slice(b.claim, func(i, j int) bool { return b.claim[i].LogicalPort < b.claim[j].LogicalPort })
	sort.Slice(b.release, func(i, j int) bool { return b.release[i].LogicalPort < b.release[j].LogicalPort })
	b.expandDatapaths(sb, chUUID)
	return b
}

// addContainers binds the container ports (parent_port set) whose parent
// is bound here; they share the parent's interface, told apart by tag.
func (b *binding) addContainers(sb *sbView, ifaces map[string]*vswitch.Interface, chUUID string, cfg Config) {
	for _, pb := range sb.idx.containers {
		if sb.pbs[pb.LogicalPort] != pb || !requestedHere(pb, chUUID, cfg) {
			continue
		}
		parent := b.local[*pb.ParentPort]
		if parent == nil || parent.Type != typeVIF {
			continue
		}
		lp := b.add(sb, pb, ifaces[parent.Name], parent.Name)
		if pb.Tag != nil {
			lp.Tag = *pb.Tag
		}
	}
}

// add records pb as local on interface f.
func (b *binding) add(sb *sbView, pb *sbdb.PortBinding, f *vswitch.Interface, parent string) *LocalPort {
	lp := &LocalPort{Name: pb.LogicalPort, Type: pb.Type, Interface: f.Name, InterfaceUUID: f.UUID,
		Datapath: pb.Datapath, PortKey: int64(pb.TunnelKey), Parent: parent, MAC: slices.Clone(pb.MAC)}
	if f.Ofport != nil {
		lp.OFPort = int32(*f.Ofport)
	}
	if dp := sb.dps[pb.Datapath]; dp != nil {
		lp.DatapathKey = int64(dp.TunnelKey)
	}
	b.local[pb.LogicalPort] = lp
	b.ifaceOf[pb.LogicalPort] = f
	b.up[pb.LogicalPort] = pb.Up != nil && *pb.Up
	return lp
}

// expandDatapaths computes the local datapaths as ovn-controller does:
// those of the ports bound here, and every datapath reachable from them
// through patch ports (a switch's routers, their other switches, ...),
// except across a distributed gateway port whose gateway chassis this
// is not (see crossPatch); the datapaths of gateway ports bound here are
// local too.
func (b *binding) expandDatapaths(sb *sbView, chUUID string) {
	var queue []string
	for _, lp := range b.local {
		if lp.Type == typeVIF && !b.datapath[lp.Datapath] {
			b.datapath[lp.Datapath] = true
			queue = append(queue, lp.Datapath)
		}
	}
	for _, pb := range b.gateway {
		if !b.datapath[pb.Datapath] {
			b.datapath[pb.Datapath] = true
			queue = append(queue, pb.Datapath)
		}
	}
	for len(queue) > 0 {
		dp := queue[0]
		queue = queue[1:]
		for _, pb := range sb.pbsByDP[dp] {
			if pb.Type != typePatch {
				continue
			}
			peer := sb.pbs[pb.Options["peer"]]
			if peer == nil || b.datapath[peer.Datapath] || !crossPatch(sb, pb, chUUID) {
				continue
			}
			b.datapath[peer.Datapath] = true
			queue = append(queue, peer.Datapath)
		}
	}
}

// crossPatch reports whether the walk over local datapaths goes from
// patch port pb to its peer, as ovn-controller 23.03 decides it. Only
// pb's own side counts: a plain patch port (a switch's port towards its
// router included) always leads on. A distributed gateway port (options
// chassis-redirect-port names its chassisredirect port) leads from the
// router to the outside only if that port does not always redirect
// (the router then routes to that network here, e.g. for distributed
// NAT) or if this chassis is in its HA group. So a chassis with VIFs
// only behind the router does not compile the outside switch's
// pipeline, which only the gateway chassis needs, while a chassis with
// a VIF outside still reaches the router and the inside.
func crossPatch(sb *sbView, pb *sbdb.PortBinding, chUUID string) bool {
	crName := pb.Options["chassis-redirect-port"]
	if crName == "" {
		return true
	}
	cr := sb.pbs[crName]
	if cr == nil {
		return false // named, but not there (yet): as ovn-controller
	}
	if cr.Options["always-redirect"] != "true" {
		return true
	}
	return sb.ha.haContains(cr.HaChassisGroup, chUUID)
}

// localnetPorts returns the localnet Port_Bindings on local datapaths,
// sorted by name.
func (b *binding) localnetPorts(sb *sbView) []*sbdb.PortBinding {
	var out []*sbdb.PortBinding
	for dp := range b.datapath {
		for _, pb := range sb.pbsByDP[dp] {
			if pb.Type == typeLocalnet {
				out = append(out, pb)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalPort < out[j].LogicalPort })
	return out
}

// claimOps adds the Port_Binding writes: claims set chassis (and clear a
// stale up and encap), releases clear chassis and set up=false, as
// ovn-controller does. up is only written where the column is in use
// (ovn-northd initialises it to false when it creates the row).
func claimOps(t *txn, b *binding, chUUID string) {
	for _, pb := range b.claim {
		row := &sbdb.PortBinding{UUID: pb.UUID, Chassis: &chUUID}
		fields := []any{&row.Chassis}
		if pb.Up != nil && *pb.Up {
			f := false
			row.Up = &f
			fields = append(fields, &row.Up)
		}
		if pb.Encap != nil {
			fields = append(fields, &row.Encap)
		}
		t.update(row, fields...)
	}
	for _, pb := range b.release {
		row := &sbdb.PortBinding{UUID: pb.UUID}
		fields := []any{&row.Chassis}
		if pb.Up != nil && *pb.Up {
			f := false
			row.Up = &f
			fields = append(fields, &row.Up)
		}
		t.update(row, fields...)
	}
}

// hasInstalled reports whether f carries ovn-installed.
func hasInstalled(f *vswitch.Interface) bool {
	return f != nil && strings.EqualFold(f.ExternalIDs[OVNInstalledKey], "true")
}

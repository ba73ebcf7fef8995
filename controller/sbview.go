package controller

import (
	"context"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/controller/cacherows"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbView is one consistent reading of the southbound replica, indexed the
// way the flow producers ask: by port name, by (datapath, group name), by
// set name. It also serves as the logical-flow compiler's environment.
type sbView struct {
	chassis string // this chassis's name, for is_chassis_resident

	global      *sbdb.SBGlobal
	chassisRows map[string]*sbdb.Chassis // by UUID
	dpKey       map[string]uint32        // Datapath_Binding UUID -> tunnel key
	dpGroups    map[string][]uint32      // Logical_DP_Group UUID -> tunnel keys
	routers     map[uint32]bool          // tunnel keys of logical router datapaths
	portUUID    map[string]*sbdb.PortBinding
	ports       map[string]*sbdb.PortBinding
	mcast       map[mcKey]*sbdb.MulticastGroup
	addrSets    map[string][]string
	portGroups  map[string][]string
	flows       []*sbdb.LogicalFlow
	macBindings []*sbdb.MACBinding
	staticMACs  []*sbdb.StaticMACBinding
	fdbs        []*sbdb.FDB
	lbs         []*sbdb.LoadBalancer
}

type mcKey struct {
	dp   uint32
	name string
}

// readSB indexes the SB cache of c. chassis names this chassis. The rows
// are the cache's own: read, never modify them.
func readSB(_ context.Context, c client.Client, chassis string) (*sbView, error) {
	v := &sbView{chassis: chassis, chassisRows: map[string]*sbdb.Chassis{}, dpKey: map[string]uint32{}, dpGroups: map[string][]uint32{}, routers: map[uint32]bool{},
		portUUID: map[string]*sbdb.PortBinding{}, ports: map[string]*sbdb.PortBinding{},
		mcast: map[mcKey]*sbdb.MulticastGroup{}, addrSets: map[string][]string{}, portGroups: map[string][]string{}}
	globals, err := cacherows.Rows[sbdb.SBGlobal](c, sbdb.SBGlobalTable)
	if err != nil {
		return nil, err
	}
	if len(globals) > 0 {
		v.global = globals[0]
	}
	chassisRows, err := cacherows.Rows[sbdb.Chassis](c, sbdb.ChassisTable)
	if err != nil {
		return nil, err
	}
	for _, ch := range chassisRows {
		v.chassisRows[ch.UUID] = ch
	}
	dps, err := cacherows.Rows[sbdb.DatapathBinding](c, sbdb.DatapathBindingTable)
	if err != nil {
		return nil, err
	}
	for _, dp := range dps {
		v.dpKey[dp.UUID] = uint32(dp.TunnelKey)
		if _, ok := dp.ExternalIDs["logical-router"]; ok {
			v.routers[uint32(dp.TunnelKey)] = true
		}
	}
	groups, err := cacherows.Rows[sbdb.LogicalDPGroup](c, sbdb.LogicalDPGroupTable)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		keys := make([]uint32, 0, len(g.Datapaths))
		for _, d := range g.Datapaths {
			if k, ok := v.dpKey[d]; ok {
				keys = append(keys, k)
			}
		}
		v.dpGroups[g.UUID] = keys
	}
	pbs, err := cacherows.Rows[sbdb.PortBinding](c, sbdb.PortBindingTable)
	if err != nil {
		return nil, err
	}
	for _, pb := range pbs {
		v.ports[pb.LogicalPort] = pb
		v.portUUID[pb.UUID] = pb
	}
	mcs, err := cacherows.Rows[sbdb.MulticastGroup](c, sbdb.MulticastGroupTable)
	if err != nil {
		return nil, err
	}
	for _, mc := range mcs {
		if k, ok := v.dpKey[mc.Datapath]; ok {
			v.mcast[mcKey{k, mc.Name}] = mc
		}
	}
	sets, err := cacherows.Rows[sbdb.AddressSet](c, sbdb.AddressSetTable)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		v.addrSets[s.Name] = s.Addresses
	}
	pgs, err := cacherows.Rows[sbdb.PortGroup](c, sbdb.PortGroupTable)
	if err != nil {
		return nil, err
	}
	for _, pg := range pgs {
		v.portGroups[pg.Name] = pg.Ports
	}
	if v.flows, err = cacherows.Rows[sbdb.LogicalFlow](c, sbdb.LogicalFlowTable); err != nil {
		return nil, err
	}
	if v.macBindings, err = cacherows.Rows[sbdb.MACBinding](c, sbdb.MACBindingTable); err != nil {
		return nil, err
	}
	if v.staticMACs, err = cacherows.Rows[sbdb.StaticMACBinding](c, sbdb.StaticMACBindingTable); err != nil {
		return nil, err
	}
	if v.fdbs, err = cacherows.Rows[sbdb.FDB](c, sbdb.FDBTable); err != nil {
		return nil, err
	}
	if v.lbs, err = cacherows.Rows[sbdb.LoadBalancer](c, sbdb.LoadBalancerTable); err != nil {
		return nil, err
	}
	return v, nil
}

// chassisName returns the name of the Chassis row with UUID id, or "".
func (v *sbView) chassisName(id *string) string {
	if id == nil {
		return ""
	}
	if ch, ok := v.chassisRows[*id]; ok {
		return ch.Name
	}
	return ""
}

// chassisNameOf returns the name of the Chassis row with UUID id, or "".
func (v *sbView) chassisNameOf(id string) string { return v.chassisName(&id) }

// flowDatapaths returns the tunnel keys of the datapaths lf applies to.
func (v *sbView) flowDatapaths(lf *sbdb.LogicalFlow) []uint32 {
	if lf.LogicalDatapath != nil {
		if k, ok := v.dpKey[*lf.LogicalDatapath]; ok {
			return []uint32{k}
		}
		return nil
	}
	if lf.LogicalDpGroup != nil {
		return v.dpGroups[*lf.LogicalDpGroup]
	}
	return nil
}

// LookupPort resolves a logical port name to its datapath and port keys.
func (v *sbView) LookupPort(name string) (dp, port uint32, ok bool) {
	pb, ok := v.ports[name]
	if !ok {
		return 0, 0, false
	}
	dp, ok = v.dpKey[pb.Datapath]
	return dp, uint32(pb.TunnelKey), ok
}

// LookupMulticast resolves a multicast group on datapath dp.
func (v *sbView) LookupMulticast(dp uint32, name string) (uint32, bool) {
	mc, ok := v.mcast[mcKey{dp, name}]
	if !ok {
		return 0, false
	}
	return uint32(mc.TunnelKey), true
}

// Resident reports whether port is bound to this chassis.
func (v *sbView) Resident(port string) bool {
	pb, ok := v.ports[port]
	return ok && v.chassisName(pb.Chassis) == v.chassis
}

// lbDatapaths returns the tunnel keys of the datapaths lb applies to.
func (v *sbView) lbDatapaths(lb *sbdb.LoadBalancer) []uint32 {
	var keys []uint32
	for _, d := range lb.Datapaths {
		if k, ok := v.dpKey[d]; ok {
			keys = append(keys, k)
		}
	}
	if lb.DatapathGroup != nil {
		keys = append(keys, v.dpGroups[*lb.DatapathGroup]...)
	}
	return keys
}

// remotePeers returns the peers of the patch (and l3gateway) ports
// among ports that sit on datapaths not in local (by Datapath_Binding
// UUID), for physical.Input.Peers.
func (v *sbView) remotePeers(ports []physical.Port, local map[string]uint32) []physical.Port {
	var out []physical.Port
	for _, p := range ports {
		if p.Type != physical.TypePatch && p.Type != physical.TypeL3Gateway || p.Peer == "" {
			continue
		}
		pb, ok := v.ports[p.Peer]
		if !ok {
			continue
		}
		if _, isLocal := local[pb.Datapath]; isLocal {
			continue
		}
		dp, ok := v.dpKey[pb.Datapath]
		if !ok {
			continue
		}
		peer := physical.PortFromBinding(pb, v.chassisNameOf)
		peer.Datapath = dp
		out = append(out, peer)
	}
	return out
}

// alwaysRelated reports whether port is of a type ovn-controller's
// binding adds to its related ports wherever it is bound: a router's
// patch ports (and a switch's side of them), localports and vtep ports.
// Their inport/outport lflows are compiled on every chassis that has
// their datapath.
func (v *sbView) alwaysRelated(port string) bool {
	pb, ok := v.ports[port]
	if !ok {
		return false
	}
	switch pb.Type {
	case "patch", "localport", "vtep":
		return true
	}
	return false
}

// AddressSet returns the addresses of an SB Address_Set.
func (v *sbView) AddressSet(name string) ([]string, bool) {
	s, ok := v.addrSets[name]
	return s, ok
}

// PortGroup returns the ports of an SB Port_Group.
func (v *sbView) PortGroup(name string) ([]string, bool) {
	s, ok := v.portGroups[name]
	return s, ok
}

// Router reports whether datapath dp is a logical router.
func (v *sbView) Router(dp uint32) bool { return v.routers[dp] }

// portByUUID returns the Port_Binding with UUID id, or nil.
func (v *sbView) portByUUID(id string) *sbdb.PortBinding { return v.portUUID[id] }

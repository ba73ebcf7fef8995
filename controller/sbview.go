package controller

import (
	"context"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbView is one consistent reading of the southbound replica, indexed the
// way the flow producers ask: by port name, by (datapath, group name), by
// set name. It also serves as the logical-flow compiler's environment.
type sbView struct {
	chassis string // this chassis's name, for is_chassis_resident

	global      *sbdb.SBGlobal
	chassisRows map[string]*sbdb.Chassis // by UUID
	encaps      map[string]*sbdb.Encap   // by UUID
	dpKey       map[string]uint32        // Datapath_Binding UUID -> tunnel key
	dpGroups    map[string][]uint32      // Logical_DP_Group UUID -> tunnel keys
	routers     map[uint32]bool          // tunnel keys of logical router datapaths
	portUUID    map[string]*sbdb.PortBinding
	ports       map[string]*sbdb.PortBinding
	mcast       map[mcKey]*sbdb.MulticastGroup
	addrSets    map[string][]string
	portGroups  map[string][]string
	flows       []*sbdb.LogicalFlow
}

type mcKey struct {
	dp   uint32
	name string
}

// readSB indexes the SB cache of c. chassis names this chassis.
func readSB(ctx context.Context, c client.Client, chassis string) (*sbView, error) {
	v := &sbView{chassis: chassis, chassisRows: map[string]*sbdb.Chassis{}, encaps: map[string]*sbdb.Encap{},
		dpKey: map[string]uint32{}, dpGroups: map[string][]uint32{}, routers: map[uint32]bool{}, portUUID: map[string]*sbdb.PortBinding{}, ports: map[string]*sbdb.PortBinding{},
		mcast: map[mcKey]*sbdb.MulticastGroup{}, addrSets: map[string][]string{}, portGroups: map[string][]string{}}
	var globals []sbdb.SBGlobal
	if err := c.List(ctx, &globals); err != nil {
		return nil, fmt.Errorf("list SB_Global: %w", err)
	}
	if len(globals) > 0 {
		v.global = &globals[0]
	}
	var chassisRows []sbdb.Chassis
	if err := c.List(ctx, &chassisRows); err != nil {
		return nil, fmt.Errorf("list Chassis: %w", err)
	}
	for i := range chassisRows {
		v.chassisRows[chassisRows[i].UUID] = &chassisRows[i]
	}
	var encaps []sbdb.Encap
	if err := c.List(ctx, &encaps); err != nil {
		return nil, fmt.Errorf("list Encap: %w", err)
	}
	for i := range encaps {
		v.encaps[encaps[i].UUID] = &encaps[i]
	}
	var dps []sbdb.DatapathBinding
	if err := c.List(ctx, &dps); err != nil {
		return nil, fmt.Errorf("list Datapath_Binding: %w", err)
	}
	for _, dp := range dps {
		v.dpKey[dp.UUID] = uint32(dp.TunnelKey)
		if _, ok := dp.ExternalIDs["logical-router"]; ok {
			v.routers[uint32(dp.TunnelKey)] = true
		}
	}
	var groups []sbdb.LogicalDPGroup
	if err := c.List(ctx, &groups); err != nil {
		return nil, fmt.Errorf("list Logical_DP_Group: %w", err)
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
	var pbs []sbdb.PortBinding
	if err := c.List(ctx, &pbs); err != nil {
		return nil, fmt.Errorf("list Port_Binding: %w", err)
	}
	for i := range pbs {
		v.ports[pbs[i].LogicalPort] = &pbs[i]
		v.portUUID[pbs[i].UUID] = &pbs[i]
	}
	var mcs []sbdb.MulticastGroup
	if err := c.List(ctx, &mcs); err != nil {
		return nil, fmt.Errorf("list Multicast_Group: %w", err)
	}
	for i := range mcs {
		if k, ok := v.dpKey[mcs[i].Datapath]; ok {
			v.mcast[mcKey{k, mcs[i].Name}] = &mcs[i]
		}
	}
	var sets []sbdb.AddressSet
	if err := c.List(ctx, &sets); err != nil {
		return nil, fmt.Errorf("list Address_Set: %w", err)
	}
	for _, s := range sets {
		v.addrSets[s.Name] = s.Addresses
	}
	var pgs []sbdb.PortGroup
	if err := c.List(ctx, &pgs); err != nil {
		return nil, fmt.Errorf("list Port_Group: %w", err)
	}
	for _, pg := range pgs {
		v.portGroups[pg.Name] = pg.Ports
	}
	var flows []sbdb.LogicalFlow
	if err := c.List(ctx, &flows); err != nil {
		return nil, fmt.Errorf("list Logical_Flow: %w", err)
	}
	v.flows = make([]*sbdb.LogicalFlow, len(flows))
	for i := range flows {
		v.flows[i] = &flows[i]
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

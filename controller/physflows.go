package controller

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/lbhairpin"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// physicalFlows brings the physical flows in line with the view and the
// chassis state when either changed in what they read: it builds the
// whole Input (cheap next to the flows) and recomputes only the owners
// whose inputs differ from the last build's (physical.Builder.Changes).
func (l *loop) physicalFlows(v *sbView, st *chassis.State) error {
	sig := physicalSig(st)
	if !l.physDirty && sig == l.physSig {
		return nil
	}
	in := l.physicalInput(v, st)
	b, err := physical.NewBuilder(in)
	if err != nil {
		return fmt.Errorf("physical flows: %w", err)
	}
	set, removed := b.Changes(l.phys)
	for _, owner := range set {
		if flows := b.Owner(owner); len(flows) > 0 {
			l.desired.Set(owner, flows)
		} else {
			l.desired.Remove(owner)
		}
	}
	for _, owner := range removed {
		l.desired.Remove(owner)
	}
	if len(set)+len(removed) > 0 {
		l.installDue = true
	}
	l.phys, l.physSig, l.physDirty = b, sig, false
	return nil
}

// physicalSig renders what the physical flows read of the chassis state.
func physicalSig(st *chassis.State) string {
	var parts []string
	for id, dp := range st.LocalDatapaths {
		parts = append(parts, "d"+id+"/"+strconv.FormatInt(dp.Key, 10)+"/"+strconv.Itoa(dp.DNATZone)+"/"+strconv.Itoa(dp.SNATZone))
	}
	for name, p := range st.LocalPorts {
		parts = append(parts, "p"+name+"/"+strconv.Itoa(int(p.OFPort))+"/"+strconv.Itoa(p.Zone))
	}
	for name, g := range st.Gateways {
		parts = append(parts, "g"+name+"/"+strconv.Itoa(g.Zone))
	}
	for name, ln := range st.Localnet {
		parts = append(parts, "l"+name+"/"+strconv.Itoa(int(ln.OFPort))+"/"+strconv.Itoa(ln.Zone)+"/"+strconv.Itoa(ln.Tag))
	}
	for name, t := range st.Tunnels {
		parts = append(parts, "t"+name+"/"+t.Chassis+"/"+t.Type+"/"+strconv.Itoa(int(t.OFPort)))
	}
	slices.Sort(parts)
	return st.Chassis + "\n" + strings.Join(parts, "\n")
}

// physicalInput builds physical.Input from the view and the chassis
// state.
func (l *loop) physicalInput(v *sbView, st *chassis.State) physical.Input {
	in := physical.Input{Chassis: st.Chassis}
	localUUID := map[string]uint32{}
	for id, dp := range st.LocalDatapaths {
		localUUID[id] = uint32(dp.Key)
		in.Datapaths = append(in.Datapaths, physical.Datapath{Key: uint32(dp.Key),
			DNATZone: uint16(dp.DNATZone), SNATZone: uint16(dp.SNATZone)})
	}
	// The ports go in by name: sorting the bindings' pointers costs a
	// fraction of sorting the built ports (large structs) afterwards.
	pbs := make([]*sbdb.PortBinding, 0, len(v.ports))
	for _, pb := range v.ports {
		if _, ok := localUUID[pb.Datapath]; ok {
			pbs = append(pbs, pb)
		}
	}
	slices.SortFunc(pbs, func(a, b *sbdb.PortBinding) int { return strings.Compare(a.LogicalPort, b.LogicalPort) })
	in.Ports = make([]physical.Port, 0, len(pbs))
	for _, pb := range pbs {
		dp := localUUID[pb.Datapath]
		p := physical.PortFromBinding(pb, v.chassisNameOf)
		p.Datapath = dp
		if lp, ok := st.LocalPorts[pb.LogicalPort]; ok && lp.OFPort > 0 {
			p.OFPort = uint32(lp.OFPort)
			p.Zone = uint16(lp.Zone)
		}
		if gw, ok := st.Gateways[pb.LogicalPort]; ok {
			p.Zone = uint16(gw.Zone)
		}
		if ln, ok := st.Localnet[pb.LogicalPort]; ok {
			p.OFPort = uint32(max(ln.OFPort, 0))
			p.Zone = uint16(ln.Zone)
			p.Tag = uint16(ln.Tag)
		}
		in.Ports = append(in.Ports, p)
	}
	in.Peers = v.remotePeers(in.Ports, localUUID)
	for _, mb := range v.macBindings {
		if _, ok := localUUID[mb.Datapath]; ok {
			if b, err := physical.MACBindingFromSB(mb); err == nil {
				in.MACBindings = append(in.MACBindings, b)
			}
		}
	}
	for _, mb := range v.staticMACs {
		if _, ok := localUUID[mb.Datapath]; ok {
			if b, err := physical.StaticMACBindingFromSB(mb); err == nil {
				in.MACBindings = append(in.MACBindings, b)
			}
		}
	}
	localKey := localKeys(st)
	for _, f := range v.fdbs {
		if localKey[uint32(f.DpKey)] {
			if e, err := physical.FDBFromSB(f); err == nil {
				in.FDBs = append(in.FDBs, e)
			}
		}
	}
	for _, mc := range v.mcast {
		dp, ok := localUUID[mc.Datapath]
		if !ok {
			continue
		}
		g := physical.MulticastGroup{UUID: mc.UUID, Datapath: dp, Key: uint32(mc.TunnelKey)}
		for _, id := range mc.Ports {
			if pb := v.portByUUID(id); pb != nil {
				g.Members = append(g.Members, pb.LogicalPort)
			}
		}
		in.MulticastGroups = append(in.MulticastGroups, g)
	}
	for _, t := range st.Tunnels {
		if t.OFPort > 0 {
			in.Tunnels = append(in.Tunnels, physical.Tunnel{Chassis: t.Chassis, Type: t.Type, OFPort: uint32(t.OFPort)})
		}
	}
	slices.SortFunc(in.MulticastGroups, func(a, b physical.MulticastGroup) int { return strings.Compare(a.UUID, b.UUID) })
	slices.SortFunc(in.Tunnels, func(a, b physical.Tunnel) int { return strings.Compare(a.Chassis, b.Chassis) })
	slices.SortFunc(in.MACBindings, func(a, b physical.MACBinding) int { return strings.Compare(a.UUID, b.UUID) })
	slices.SortFunc(in.FDBs, func(a, b physical.FDB) int { return strings.Compare(a.UUID, b.UUID) })
	return in
}

// lbHairpinFlows replaces the load-balancer hairpin flows (tables 68 to
// 70) with those of the SB Load_Balancers that apply to a local
// datapath, as ovn-controller builds them from that table.
func (l *loop) lbHairpinFlows(v *sbView, st *chassis.State) {
	local := localKeys(st)
	cfg := lbhairpin.Config{UseCTMark: true}
	if v.global != nil && v.global.Options["lb_hairpin_use_ct_mark"] == "false" {
		cfg.UseCTMark = false
	}
	if !l.lbDirty && maps.Equal(local, l.lbLocal) && cfg == l.lbConfig {
		return
	}
	l.lbDirty, l.lbLocal, l.lbConfig = false, local, cfg
	l.installDue = true
	var lbs []lbhairpin.LB
	for _, lb := range v.lbs {
		if !slices.ContainsFunc(v.lbDatapaths(lb), func(k uint32) bool { return local[k] }) {
			continue
		}
		in := lbhairpin.LB{UUID: lb.UUID, VIPs: lb.Vips, Options: lb.Options}
		if lb.Protocol != nil {
			in.Protocol = string(*lb.Protocol)
		}
		lbs = append(lbs, in)
	}
	byOwner, err := lbhairpin.Flows(lbs, cfg)
	if err != nil && err.Error() != l.lbError {
		l.c.log.Warn("load balancer hairpin flows", "err", err)
	}
	l.lbError = ""
	if err != nil {
		l.lbError = err.Error()
	}
	for owner, flows := range byOwner {
		l.desired.Set(owner, flows)
		l.lbOwners[owner] = true
	}
	for owner := range l.lbOwners {
		if _, ok := byOwner[owner]; !ok {
			l.desired.Remove(owner)
			delete(l.lbOwners, owner)
		}
	}
}

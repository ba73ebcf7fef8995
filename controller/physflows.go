package controller

import (
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/lbhairpin"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// physicalFlows brings the physical flows in line with the view and the
// chassis state when either changed in what they read. Usually it hands
// the Builder only what changed (physState.delta: the Port_Binding,
// Multicast_Group, MAC_Binding and FDB rows the SB changed, the ports
// whose chassis state changed, the tunnels) and recomputes the owners
// physical.Builder.Apply names; after a Full change, a new chassis name,
// a change of the local datapaths or of a Datapath_Binding, or an error,
// it builds the whole Input and recomputes the owners whose inputs
// differ from the last build's (physical.Builder.Changes).
func (l *loop) physicalFlows(v *sbView, st *chassis.State) error {
	sig := physicalSig(st)
	if !l.physDirty && sig == l.physSig {
		return nil
	}
	ps := &l.physIn
	if l.phys != nil && !ps.full && ps.chassis == st.Chassis {
		if d, ok := ps.delta(v, st); ok {
			set, removed, err := l.phys.Apply(d)
			if err == nil {
				l.setPhysical(l.phys, set, removed)
				l.physSig, l.physDirty, ps.rows = sig, false, changeSet{}
				return nil
			}
			// The whole Input gives the same error, or recovers.
		}
	}
	in := ps.reset(v, st)
	b, err := physical.NewBuilder(in)
	if err != nil {
		ps.full = true
		return fmt.Errorf("physical flows: %w", err)
	}
	set, removed := b.Changes(l.phys)
	l.setPhysical(b, set, removed)
	l.phys, l.physSig, l.physDirty = b, sig, false
	return nil
}

// setPhysical puts the flows of the owners b names into desired.
func (l *loop) setPhysical(b *physical.Builder, set, removed []string) {
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
}

// physicalSig renders what the physical flows read of the chassis state,
// for an equality test in every round: the chassis name, then the count
// and two 64-bit sums of hashes of its entries (over 500 local
// datapaths in a large topology), which need neither a sort nor a large
// string. Signatures are only compared within one process.
func physicalSig(st *chassis.State) string {
	var n, s1, s2 uint64
	var buf []byte
	add := func(kind byte, name string, nums ...int64) {
		buf = append(buf[:0], kind)
		buf = append(buf, name...)
		for _, x := range nums {
			buf = append(buf, 0)
			buf = strconv.AppendInt(buf, x, 10)
		}
		n++
		s1 += maphash.Bytes(sigSeeds[0], buf)
		s2 += maphash.Bytes(sigSeeds[1], buf)
	}
	for id, dp := range st.LocalDatapaths {
		add('d', id, dp.Key, int64(dp.DNATZone), int64(dp.SNATZone))
	}
	for name, p := range st.LocalPorts {
		add('p', name, int64(p.OFPort), int64(p.Zone))
	}
	for name, g := range st.Gateways {
		add('g', name, int64(g.Zone))
	}
	for name, ln := range st.Localnet {
		add('l', name, int64(ln.OFPort), int64(ln.Zone), int64(ln.Tag))
	}
	for name, t := range st.Tunnels {
		add('t', name+"\x00"+t.Chassis+"\x00"+t.Type, int64(t.OFPort))
	}
	return st.Chassis + "\n" + strconv.FormatUint(n, 10) + "/" + strconv.FormatUint(s1, 16) + "/" + strconv.FormatUint(s2, 16)
}

// sigSeeds seed physicalSig's two hashes.
var sigSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// physState is the Input the loop last gave the physical flows' Builder
// (loop.phys), row by row, and the SB rows changed since: enough to hand
// the Builder only a Delta. Its caches are valid only while full is
// false.
type physState struct {
	full     bool      // the next build must be of the whole Input
	rows     changeSet // SB rows changed since the last build, of physRowTables
	chassis  string
	dps      map[string]physical.Datapath       // local datapaths by Datapath_Binding UUID
	keys     map[uint32]bool                    // their tunnel keys, computed on demand
	extras   map[string]portExtra               // what the chassis state adds to ports, by logical port
	ports    map[string]physical.Port           // by Port_Binding UUID
	peerRefs map[string]map[string]struct{}     // peer name -> UUIDs of the local patch ports naming it
	peers    map[string]physical.Port           // by name
	peerIDs  map[string]string                  // peer Port_Binding UUID -> name
	mcs      map[string]physical.MulticastGroup // by UUID
	mcPorts  map[string][]string                // group UUID -> its Port_Binding UUIDs
	mcByPB   map[string]map[string]struct{}     // Port_Binding UUID -> groups listing it
	tunnels  map[string]physical.Tunnel         // by chassis
	macs     map[string]physical.MACBinding     // MAC_Binding and Static_MAC_Binding by UUID
	fdbs     map[string]physical.FDB            // by UUID
}

// physRowTables are the SB tables whose rows the physical Input is built
// from row by row.
var physRowTables = []string{sbdb.PortBindingTable, sbdb.MulticastGroupTable, sbdb.MACBindingTable,
	sbdb.StaticMACBindingTable, sbdb.FDBTable, sbdb.ChassisTable}

// note records the rows of cs the next build must look at again; a
// change it cannot follow row by row (Full, a Datapath_Binding) makes
// the next build a full one.
func (ps *physState) note(cs changeSet) {
	if cs.Full || cs.has(sbdb.DatapathBindingTable) {
		ps.full = true
		return
	}
	for _, t := range physRowTables {
		for id := range cs.Tables[t] {
			ps.rows.add(t, id)
		}
	}
}

// portExtra is what the chassis state adds to a port: a VIF's OpenFlow
// port and zone, a gateway port's zone, a localnet port's patch port,
// zone and VLAN.
type portExtra struct {
	ofport                     uint32
	zone, tag                  uint16
	setOFPort, setZone, setTag bool
}

func portExtras(st *chassis.State) map[string]portExtra {
	out := map[string]portExtra{}
	for name, lp := range st.LocalPorts {
		if lp.OFPort > 0 {
			out[name] = portExtra{ofport: uint32(lp.OFPort), zone: uint16(lp.Zone), setOFPort: true, setZone: true}
		}
	}
	for name, gw := range st.Gateways {
		e := out[name]
		e.zone, e.setZone = uint16(gw.Zone), true
		out[name] = e
	}
	for name, ln := range st.Localnet {
		out[name] = portExtra{ofport: uint32(max(ln.OFPort, 0)), zone: uint16(ln.Zone), tag: uint16(ln.Tag),
			setOFPort: true, setZone: true, setTag: true}
	}
	return out
}

func localDatapaths(st *chassis.State) map[string]physical.Datapath {
	out := make(map[string]physical.Datapath, len(st.LocalDatapaths))
	for id, dp := range st.LocalDatapaths {
		out[id] = physical.Datapath{Key: uint32(dp.Key), DNATZone: uint16(dp.DNATZone), SNATZone: uint16(dp.SNATZone)}
	}
	return out
}

// tunnelsByChassis are the tunnels with an OpenFlow port, one per
// chassis (of two, the one whose port name sorts first).
func tunnelsByChassis(st *chassis.State) map[string]physical.Tunnel {
	out := map[string]physical.Tunnel{}
	names := slices.Sorted(maps.Keys(st.Tunnels))
	for _, name := range slices.Backward(names) {
		if t := st.Tunnels[name]; t.OFPort > 0 {
			out[t.Chassis] = physical.Tunnel{Chassis: t.Chassis, Type: t.Type, OFPort: uint32(t.OFPort)}
		}
	}
	return out
}

// reset builds the whole Input from the view and the chassis state and
// caches it row by row.
func (ps *physState) reset(v *sbView, st *chassis.State) physical.Input {
	*ps = physState{chassis: st.Chassis, dps: localDatapaths(st), extras: portExtras(st),
		ports: map[string]physical.Port{}, peerRefs: map[string]map[string]struct{}{}, peers: map[string]physical.Port{},
		peerIDs: map[string]string{}, mcs: map[string]physical.MulticastGroup{}, mcPorts: map[string][]string{},
		mcByPB: map[string]map[string]struct{}{}, tunnels: tunnelsByChassis(st), macs: map[string]physical.MACBinding{},
		fdbs: map[string]physical.FDB{}}
	in := physical.Input{Chassis: st.Chassis}
	for _, dp := range ps.dps {
		in.Datapaths = append(in.Datapaths, dp)
	}
	for id, pb := range v.portUUID {
		if p, ok := ps.port(v, pb); ok {
			ps.setPort(id, p)
		}
	}
	for name := range ps.peerRefs {
		if p, ok := ps.peer(v, name); ok {
			ps.peers[name], ps.peerIDs[p.UUID] = p, name
		}
	}
	for id, mc := range v.mcUUID {
		if g, ok := ps.group(v, mc); ok {
			ps.setGroup(id, g, mc.Ports)
		}
	}
	for id := range v.macBindings {
		ps.setMAC(v, id)
	}
	for id := range v.staticMACs {
		ps.setMAC(v, id)
	}
	for id := range v.fdbs {
		ps.setFDB(v, id)
	}
	in.Ports = slices.Collect(maps.Values(ps.ports))
	in.Peers = slices.Collect(maps.Values(ps.peers))
	in.MulticastGroups = slices.Collect(maps.Values(ps.mcs))
	in.Tunnels = slices.Collect(maps.Values(ps.tunnels))
	in.MACBindings = slices.Collect(maps.Values(ps.macs))
	in.FDBs = slices.Collect(maps.Values(ps.fdbs))
	// Sorted, so that an input NewBuilder rejects gets the same error
	// every time.
	slices.SortFunc(in.Datapaths, func(a, b physical.Datapath) int { return int(a.Key) - int(b.Key) })
	slices.SortFunc(in.Ports, func(a, b physical.Port) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(in.Peers, func(a, b physical.Port) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(in.MulticastGroups, func(a, b physical.MulticastGroup) int { return strings.Compare(a.UUID, b.UUID) })
	slices.SortFunc(in.Tunnels, func(a, b physical.Tunnel) int { return strings.Compare(a.Chassis, b.Chassis) })
	return in
}

// delta is what changed since the last build, as a Delta for the
// Builder, with the caches brought up to date; false if the next build
// must be a full one (the local datapaths or their zones changed, or
// something note could not follow).
func (ps *physState) delta(v *sbView, st *chassis.State) (physical.Delta, bool) {
	var d physical.Delta
	if ps.full || !maps.Equal(ps.dps, localDatapaths(st)) {
		return d, false
	}
	extras := portExtras(st)
	cand := ps.changedBindings(v, extras)
	ps.extras = extras
	mcs, peers := ps.applyPorts(v, cand, &d)
	for id := range ps.rows.Tables[sbdb.MulticastGroupTable] {
		mcs[id] = struct{}{}
	}
	ps.applyGroups(v, mcs, &d)
	ps.applyPeers(v, peers, &d)
	ps.applyTunnels(tunnelsByChassis(st), &d)
	for _, t := range []string{sbdb.MACBindingTable, sbdb.StaticMACBindingTable} {
		for id := range ps.rows.Tables[t] {
			if ps.setMAC(v, id) {
				if mb, ok := ps.macs[id]; ok {
					d.MACBindings = append(d.MACBindings, mb)
				} else {
					d.DelMACBindings = append(d.DelMACBindings, id)
				}
			}
		}
	}
	for id := range ps.rows.Tables[sbdb.FDBTable] {
		if ps.setFDB(v, id) {
			if e, ok := ps.fdbs[id]; ok {
				d.FDBs = append(d.FDBs, e)
			} else {
				d.DelFDBs = append(d.DelFDBs, id)
			}
		}
	}
	return d, true
}

// changedBindings are the Port_Bindings to look at again: those the SB
// changed, those bound to a Chassis row that changed (its name is the
// ports' chassis), those whose chassis state (extras) changed, and the
// bindings now standing for the names of all these.
func (ps *physState) changedBindings(v *sbView, extras map[string]portExtra) map[string]struct{} {
	cand := map[string]struct{}{}
	for id := range ps.rows.Tables[sbdb.PortBindingTable] {
		cand[id] = struct{}{}
	}
	if chs := ps.rows.Tables[sbdb.ChassisTable]; len(chs) > 0 {
		for id, pb := range v.portUUID {
			if pb.Chassis != nil {
				if _, ok := chs[*pb.Chassis]; ok {
					cand[id] = struct{}{}
				}
			}
		}
	}
	names := map[string]struct{}{}
	for name, e := range extras {
		if old, ok := ps.extras[name]; !ok || old != e {
			names[name] = struct{}{}
		}
	}
	for name := range ps.extras {
		if _, ok := extras[name]; !ok {
			names[name] = struct{}{}
		}
	}
	for id := range cand {
		if p, ok := ps.ports[id]; ok {
			names[p.Name] = struct{}{}
		}
		if pb := v.portUUID[id]; pb != nil {
			names[pb.LogicalPort] = struct{}{}
		}
	}
	for name := range names {
		if pb := v.ports[name]; pb != nil {
			cand[pb.UUID] = struct{}{}
		}
	}
	return cand
}

// applyPorts brings the cached ports of the bindings cand in line with
// the view, adding what changed to d; it returns the groups whose
// members' names may have changed and the names that may have become,
// or stopped being, the peers the Input needs.
func (ps *physState) applyPorts(v *sbView, cand map[string]struct{}, d *physical.Delta) (mcs, peers map[string]struct{}) {
	mcs, peers = map[string]struct{}{}, map[string]struct{}{}
	for id := range cand {
		old, had := ps.ports[id]
		pb := v.portUUID[id]
		p, ok := ps.port(v, pb)
		if pb != nil {
			peers[pb.LogicalPort] = struct{}{}
		}
		if name, ok := ps.peerIDs[id]; ok {
			peers[name] = struct{}{}
		}
		if had {
			peers[old.Name] = struct{}{}
			if isPatch(old) {
				peers[old.Peer] = struct{}{}
			}
		}
		switch {
		case !ok && had:
			ps.dropPort(id)
			d.DelPorts = append(d.DelPorts, id)
		case ok && (!had || !reflect.DeepEqual(old, p)):
			ps.setPort(id, p)
			d.Ports = append(d.Ports, p)
			if isPatch(p) {
				peers[p.Peer] = struct{}{}
			}
		}
		// A group lists bindings by UUID and the Input by name: a
		// binding that came, went or was renamed changes its members.
		for mc := range ps.mcByPB[id] {
			mcs[mc] = struct{}{}
		}
	}
	return mcs, peers
}

// applyGroups brings the cached groups ids in line with the view.
func (ps *physState) applyGroups(v *sbView, ids map[string]struct{}, d *physical.Delta) {
	for id := range ids {
		old, had := ps.mcs[id]
		mc := v.mcUUID[id]
		g, ok := ps.group(v, mc)
		switch {
		case !ok && had:
			ps.setGroup(id, physical.MulticastGroup{}, nil)
			d.DelMulticastGroups = append(d.DelMulticastGroups, id)
		case ok && (!had || !reflect.DeepEqual(old, g)):
			d.MulticastGroups = append(d.MulticastGroups, g)
			fallthrough
		case ok:
			ps.setGroup(id, g, mc.Ports) // its member bindings may differ
		}
	}
}

// applyPeers brings the cached peers names in line with the view.
func (ps *physState) applyPeers(v *sbView, names map[string]struct{}, d *physical.Delta) {
	for name := range names {
		old, had := ps.peers[name]
		p, ok := ps.peer(v, name)
		if had {
			delete(ps.peerIDs, old.UUID)
		}
		switch {
		case !ok && had:
			delete(ps.peers, name)
			d.DelPeers = append(d.DelPeers, name)
		case ok && (!had || !reflect.DeepEqual(old, p)):
			d.Peers = append(d.Peers, p)
			fallthrough
		case ok:
			ps.peers[name], ps.peerIDs[p.UUID] = p, name
		}
	}
}

// applyTunnels replaces the cached tunnels with now.
func (ps *physState) applyTunnels(now map[string]physical.Tunnel, d *physical.Delta) {
	for c, t := range now {
		if old, ok := ps.tunnels[c]; !ok || old != t {
			d.Tunnels = append(d.Tunnels, t)
		}
	}
	for c := range ps.tunnels {
		if _, ok := now[c]; !ok {
			d.DelTunnels = append(d.DelTunnels, c)
		}
	}
	ps.tunnels = now
}

// port is the physical Port of binding pb; false if pb does not belong
// in the Input (gone, not the binding its name stands for, not on a
// local datapath).
func (ps *physState) port(v *sbView, pb *sbdb.PortBinding) (physical.Port, bool) {
	if pb == nil || v.ports[pb.LogicalPort] != pb {
		return physical.Port{}, false
	}
	dp, ok := ps.dps[pb.Datapath]
	if !ok {
		return physical.Port{}, false
	}
	p := physical.PortFromBinding(pb, v.chassisNameOf)
	p.Datapath = dp.Key
	if e, ok := ps.extras[pb.LogicalPort]; ok {
		if e.setOFPort {
			p.OFPort = e.ofport
		}
		if e.setZone {
			p.Zone = e.zone
		}
		if e.setTag {
			p.Tag = e.tag
		}
	}
	return p, true
}

// setPort caches p as the port of binding id, with the peer it names.
func (ps *physState) setPort(id string, p physical.Port) {
	ps.dropPort(id)
	ps.ports[id] = p
	if isPatch(p) {
		addTo(ps.peerRefs, p.Peer, id)
	}
}

func (ps *physState) dropPort(id string) {
	if old, ok := ps.ports[id]; ok {
		if isPatch(old) {
			removeFrom(ps.peerRefs, old.Peer, id)
		}
		delete(ps.ports, id)
	}
}

// isPatch reports whether p's peer belongs in Input.Peers when it is
// not local.
func isPatch(p physical.Port) bool {
	return (p.Type == physical.TypePatch || p.Type == physical.TypeL3Gateway) && p.Peer != ""
}

// peer is the peer named name of a local patch port, when it sits on a
// datapath that is not local.
func (ps *physState) peer(v *sbView, name string) (physical.Port, bool) {
	if len(ps.peerRefs[name]) == 0 {
		return physical.Port{}, false
	}
	pb, ok := v.ports[name]
	if !ok {
		return physical.Port{}, false
	}
	if _, local := ps.dps[pb.Datapath]; local {
		return physical.Port{}, false
	}
	dp, ok := v.dpKey[pb.Datapath]
	if !ok {
		return physical.Port{}, false
	}
	p := physical.PortFromBinding(pb, v.chassisNameOf)
	p.Datapath = dp
	return p, true
}

// group is the physical MulticastGroup of mc; false if mc is gone or not
// on a local datapath.
func (ps *physState) group(v *sbView, mc *sbdb.MulticastGroup) (physical.MulticastGroup, bool) {
	if mc == nil {
		return physical.MulticastGroup{}, false
	}
	dp, ok := ps.dps[mc.Datapath]
	if !ok {
		return physical.MulticastGroup{}, false
	}
	g := physical.MulticastGroup{UUID: mc.UUID, Datapath: dp.Key, Key: uint32(mc.TunnelKey)}
	for _, id := range mc.Ports {
		if pb := v.portByUUID(id); pb != nil {
			g.Members = append(g.Members, pb.LogicalPort)
		}
	}
	return g, true
}

// setGroup caches g as group id with its member bindings, or forgets the
// group when pbs is nil.
func (ps *physState) setGroup(id string, g physical.MulticastGroup, pbs []string) {
	for _, pb := range ps.mcPorts[id] {
		removeFrom(ps.mcByPB, pb, id)
	}
	delete(ps.mcs, id)
	delete(ps.mcPorts, id)
	if g.UUID == "" {
		return
	}
	ps.mcs[id], ps.mcPorts[id] = g, pbs
	for _, pb := range pbs {
		addTo(ps.mcByPB, pb, id)
	}
}

// setMAC caches MAC_Binding or Static_MAC_Binding id as the view has it;
// it reports whether that changed the cache.
func (ps *physState) setMAC(v *sbView, id string) bool {
	var mb physical.MACBinding
	var err error
	ok := false
	if row := v.macBindings[id]; row != nil {
		_, ok = ps.dps[row.Datapath]
		mb, err = physical.MACBindingFromSB(row)
	} else if row := v.staticMACs[id]; row != nil {
		_, ok = ps.dps[row.Datapath]
		mb, err = physical.StaticMACBindingFromSB(row)
	}
	return setCached(ps.macs, id, mb, ok && err == nil)
}

// setFDB caches FDB row id as the view has it; it reports whether that
// changed the cache.
func (ps *physState) setFDB(v *sbView, id string) bool {
	var e physical.FDB
	ok := false
	if row := v.fdbs[id]; row != nil {
		var err error
		e, err = physical.FDBFromSB(row)
		ok = err == nil && ps.localKey(uint32(row.DpKey))
	}
	return setCached(ps.fdbs, id, e, ok)
}

func (ps *physState) localKey(k uint32) bool {
	if ps.keys == nil {
		ps.keys = map[uint32]bool{}
		for _, dp := range ps.dps {
			ps.keys[dp.Key] = true
		}
	}
	return ps.keys[k]
}

// setCached stores v as m[id] when ok, deletes m[id] otherwise; it
// reports whether m changed.
func setCached[T any](m map[string]T, id string, v T, ok bool) bool {
	old, had := m[id]
	if !ok {
		delete(m, id)
		return had
	}
	m[id] = v
	return !had || !reflect.DeepEqual(old, v)
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

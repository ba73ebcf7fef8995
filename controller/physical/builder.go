package physical

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
)

// Builder holds an Input indexed so that the flows of one owner can be
// computed alone (Owner), and so that a Delta updates it in place (Apply)
// naming only the owners whose flows may have changed: when a port
// changes, that is the port's owner, the multicast groups it is a member
// of, the ports that name it as peer, parent or distributed port and, for
// a localnet port, the other ports of its datapath.
type Builder struct {
	chassis   string
	dps       map[uint32]Datapath
	local     map[string]*Port // Input.Ports by name
	byUUID    map[string]*Port // Input.Ports by UUID
	peers     map[string]*Port // Input.Peers by name
	mcs       map[string]*MulticastGroup
	macs      map[string]*MACBinding
	fdbs      map[string]*FDB
	tunnels   map[string]Tunnel   // by chassis
	localnets map[uint32]*Port    // the localnet port on this chassis, by datapath
	externals map[uint32][]*Port  // external ports bound here, by datapath, by name
	warnings  map[string][]string // port-security entries that do not parse, by port UUID
	fps       map[string]string   // fingerprints by owner, once computed
	idx       index               // who reads what, for Apply
	touched   uuids               // owners Apply must look at again; nil outside Apply
	broken    bool                // a failed Apply left the Builder half updated
}

// uuids is a set of row UUIDs or names.
type uuids = map[string]struct{}

// index records, for Apply, which owners read which part of the input.
type index struct {
	portsOnDP  map[uint32]uuids // datapath -> port UUIDs
	peersOnDP  map[uint32]uuids // datapath -> peer names
	refs       map[string]uuids // port name -> UUIDs of the ports whose Peer, Parent or DistributedPort it is
	onChassis  map[string]uuids // chassis -> UUIDs of the ports bound to it
	lnOnDP     map[uint32]uuids // datapath -> UUIDs of its localnet ports
	extOnDP    map[uint32]uuids // datapath -> UUIDs of its external ports bound here
	mcByMember map[string]uuids // port name -> multicast groups naming it
	mcByDP     map[uint32]uuids // datapath -> its multicast groups
	macByPort  map[string]uuids // port name -> MAC bindings of it
	fdbByDP    map[uint32]uuids // datapath -> its FDB entries
}

func newIndex() index {
	return index{portsOnDP: map[uint32]uuids{}, peersOnDP: map[uint32]uuids{}, refs: map[string]uuids{},
		onChassis: map[string]uuids{}, lnOnDP: map[uint32]uuids{}, extOnDP: map[uint32]uuids{},
		mcByMember: map[string]uuids{}, mcByDP: map[uint32]uuids{}, macByPort: map[string]uuids{},
		fdbByDP: map[uint32]uuids{}}
}

func link[K comparable](m map[K]uuids, k K, id string) {
	s := m[k]
	if s == nil {
		s = uuids{}
		m[k] = s
	}
	s[id] = struct{}{}
}

func unlink[K comparable](m map[K]uuids, k K, id string) {
	if s := m[k]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// NewBuilder indexes in. It reports inputs that cannot be right: a port of
// an unknown datapath, two ports with one name, a tunnel or multicast
// group key out of range. The builder keeps its own copy of in.
func NewBuilder(in Input) (*Builder, error) {
	b := &Builder{chassis: in.Chassis, dps: map[uint32]Datapath{}, local: map[string]*Port{}, byUUID: map[string]*Port{},
		peers: map[string]*Port{}, mcs: map[string]*MulticastGroup{}, macs: map[string]*MACBinding{},
		fdbs: map[string]*FDB{}, tunnels: map[string]Tunnel{}, localnets: map[uint32]*Port{},
		externals: map[uint32][]*Port{}, warnings: map[string][]string{}, idx: newIndex()}
	d := Delta{Datapaths: in.Datapaths, Ports: in.Ports, Peers: in.Peers, MulticastGroups: in.MulticastGroups,
		Tunnels: in.Tunnels, MACBindings: in.MACBindings, FDBs: in.FDBs}
	if err := b.update(d); err != nil {
		return nil, err
	}
	return b, nil
}

// port returns the port named name: one of the Input's ports, else one
// of its peers.
func (b *Builder) port(name string) *Port {
	if p := b.local[name]; p != nil {
		return p
	}
	return b.peers[name]
}

// Warnings are the problems in the input that cost flows without making
// the input unusable, such as a port_security entry that does not parse
// (its flows are left out, as ovn-controller does), for the caller to log.
func (b *Builder) Warnings() []string {
	names := make([]string, 0, len(b.warnings))
	for id := range b.warnings {
		names = append(names, id)
	}
	slices.SortFunc(names, func(x, y string) int { return strings.Compare(b.byUUID[x].Name, b.byUUID[y].Name) })
	var out []string
	for _, id := range names {
		out = append(out, b.warnings[id]...)
	}
	return out
}

// All computes the flows of every owner.
func (b *Builder) All() map[string][]flowtable.Flow {
	out := map[string][]flowtable.Flow{ownerStatic: staticFlows()}
	put := func(owner string, flows []flowtable.Flow) {
		if len(flows) > 0 {
			out[owner] = flows
		}
	}
	for id, p := range b.byUUID {
		put(PortOwner(id), b.portFlows(p))
	}
	for id, mc := range b.mcs {
		put(MulticastOwner(id), b.multicastFlows(mc))
	}
	for c, t := range b.tunnels {
		put(TunnelOwner(c), tunnelFlows(t))
	}
	for id, mb := range b.macs {
		put(MACBindingOwner(id), b.macBindingFlows(mb))
	}
	for id, e := range b.fdbs {
		put(FDBOwner(id), b.fdbFlows(e))
	}
	return out
}

// Owner computes the flows of one owner; nil if it has none (or the
// owner is unknown, e.g. a port that left).
func (b *Builder) Owner(owner string) []flowtable.Flow {
	switch {
	case owner == ownerStatic:
		return staticFlows()
	case strings.HasPrefix(owner, prefixPort):
		if p := b.byUUID[strings.TrimPrefix(owner, prefixPort)]; p != nil {
			return b.portFlows(p)
		}
	case strings.HasPrefix(owner, prefixMC):
		if mc := b.mcs[strings.TrimPrefix(owner, prefixMC)]; mc != nil {
			return b.multicastFlows(mc)
		}
	case strings.HasPrefix(owner, prefixMAC):
		if mb := b.macs[strings.TrimPrefix(owner, prefixMAC)]; mb != nil {
			return b.macBindingFlows(mb)
		}
	case strings.HasPrefix(owner, prefixFDB):
		if e := b.fdbs[strings.TrimPrefix(owner, prefixFDB)]; e != nil {
			return b.fdbFlows(e)
		}
	case strings.HasPrefix(owner, prefixTun):
		if t, ok := b.tunnels[strings.TrimPrefix(owner, prefixTun)]; ok {
			return tunnelFlows(t)
		}
	}
	return nil
}

// update removes the old version of every row d names, then adds the
// new versions, so that rows may trade names within one Delta.
func (b *Builder) update(d Delta) error {
	b.removeOld(d)
	for _, dp := range d.Datapaths {
		if dp.Key == 0 || dp.Key >= 1<<24 {
			return fmt.Errorf("datapath tunnel key %d out of range 1..2^24-1", dp.Key)
		}
		b.dps[dp.Key] = dp
		b.touchDatapath(dp.Key)
	}
	for _, p := range d.Ports {
		if err := b.insertPort(p); err != nil {
			return err
		}
	}
	for _, p := range d.Peers {
		if err := b.insertPeer(p); err != nil {
			return err
		}
	}
	for _, mc := range d.MulticastGroups {
		if err := b.insertMulticast(mc); err != nil {
			return err
		}
	}
	for _, mb := range d.MACBindings {
		b.insertMACBinding(mb)
	}
	for _, e := range d.FDBs {
		b.insertFDB(e)
	}
	for _, t := range d.Tunnels {
		if err := b.insertTunnel(t); err != nil {
			return err
		}
	}
	return b.checkDatapaths(d.DelDatapaths)
}

// removeOld takes out of the Builder every row d removes or replaces.
func (b *Builder) removeOld(d Delta) {
	for _, p := range d.Ports {
		b.removePort(p.UUID)
	}
	for _, id := range d.DelPorts {
		b.removePort(id)
	}
	for _, p := range d.Peers {
		b.removePeer(p.Name)
	}
	for _, name := range d.DelPeers {
		b.removePeer(name)
	}
	for _, mc := range d.MulticastGroups {
		b.removeMulticast(mc.UUID)
	}
	for _, id := range d.DelMulticastGroups {
		b.removeMulticast(id)
	}
	for _, mb := range d.MACBindings {
		b.removeMACBinding(mb.UUID)
	}
	for _, id := range d.DelMACBindings {
		b.removeMACBinding(id)
	}
	for _, e := range d.FDBs {
		b.removeFDB(e.UUID)
	}
	for _, id := range d.DelFDBs {
		b.removeFDB(id)
	}
	for _, t := range d.Tunnels {
		b.removeTunnel(t.Chassis)
	}
	for _, c := range d.DelTunnels {
		b.removeTunnel(c)
	}
	for _, dp := range d.Datapaths {
		b.removeDatapath(dp.Key)
	}
	for _, k := range d.DelDatapaths {
		b.removeDatapath(k)
	}
}

// checkDatapaths reports a port left on a datapath that was removed.
func (b *Builder) checkDatapaths(removed []uint32) error {
	for _, k := range removed {
		if _, ok := b.dps[k]; ok {
			continue
		}
		var names []string
		for id := range b.idx.portsOnDP[k] {
			names = append(names, b.byUUID[id].Name)
		}
		if len(names) > 0 {
			return fmt.Errorf("port %s: datapath %d is not local", slices.Min(names), k)
		}
	}
	return nil
}

func (b *Builder) removeDatapath(k uint32) {
	if _, ok := b.dps[k]; ok {
		b.touchDatapath(k)
		delete(b.dps, k)
	}
}

// insertPort adds a copy of in.
func (b *Builder) insertPort(in Port) error {
	if _, ok := b.dps[in.Datapath]; !ok {
		return fmt.Errorf("port %s: datapath %d is not local", in.Name, in.Datapath)
	}
	if in.Key == 0 || in.Key >= multicastKeyMin {
		return fmt.Errorf("port %s: tunnel key %d out of range 1..32767", in.Name, in.Key)
	}
	if _, dup := b.local[in.Name]; dup {
		return fmt.Errorf("port %s: two Port_Bindings with one name", in.Name)
	}
	if _, dup := b.byUUID[in.UUID]; dup {
		return fmt.Errorf("port %s: two Port_Bindings with UUID %s", in.Name, in.UUID)
	}
	p := &in
	p.PortSecurity, p.MAC = slices.Clone(p.PortSecurity), slices.Clone(p.MAC)
	b.local[p.Name], b.byUUID[p.UUID] = p, p
	if _, errs := portSecEntries(p); len(errs) > 0 {
		for _, err := range errs {
			b.warnings[p.UUID] = append(b.warnings[p.UUID], err.Error())
		}
	}
	b.indexPort(p, true)
	b.touchPort(p)
	return nil
}

// removePort takes out the port with this UUID, if there is one.
func (b *Builder) removePort(id string) {
	p := b.byUUID[id]
	if p == nil {
		return
	}
	b.touchPort(p)
	delete(b.local, p.Name)
	delete(b.byUUID, p.UUID)
	delete(b.warnings, p.UUID)
	b.indexPort(p, false)
}

// indexPort links p into the reverse indexes, or unlinks it.
func (b *Builder) indexPort(p *Port, add bool) {
	op := link[uint32]
	opName := link[string]
	if !add {
		op, opName = unlink[uint32], unlink[string]
	}
	op(b.idx.portsOnDP, p.Datapath, p.UUID)
	for _, ref := range []string{p.Peer, p.Parent, p.DistributedPort} {
		if ref != "" {
			opName(b.idx.refs, ref, p.UUID)
		}
	}
	if p.Chassis != "" {
		opName(b.idx.onChassis, p.Chassis, p.UUID)
	}
	if p.Type == TypeLocalnet {
		op(b.idx.lnOnDP, p.Datapath, p.UUID)
		b.settleLocalnet(p.Datapath)
	}
	if p.Type == TypeExternal && p.Chassis == b.chassis {
		op(b.idx.extOnDP, p.Datapath, p.UUID)
		b.settleExternals(p.Datapath)
	}
}

// settleLocalnet picks datapath dp's localnet port on this chassis: of
// those with an OpenFlow port, the first by name.
func (b *Builder) settleLocalnet(dp uint32) {
	var best *Port
	for id := range b.idx.lnOnDP[dp] {
		if p := b.byUUID[id]; p.OFPort != 0 && (best == nil || p.Name < best.Name) {
			best = p
		}
	}
	if best == nil {
		delete(b.localnets, dp)
		return
	}
	b.localnets[dp] = best
}

// settleExternals lists datapath dp's external ports bound here, by name.
func (b *Builder) settleExternals(dp uint32) {
	var ps []*Port
	for id := range b.idx.extOnDP[dp] {
		ps = append(ps, b.byUUID[id])
	}
	if len(ps) == 0 {
		delete(b.externals, dp)
		return
	}
	slices.SortFunc(ps, func(x, y *Port) int { return strings.Compare(x.Name, y.Name) })
	b.externals[dp] = ps
}

// insertPeer adds a copy of in as a peer: it serves only under a name no
// port of the Input has.
func (b *Builder) insertPeer(in Port) error {
	if in.Key == 0 || in.Key >= multicastKeyMin {
		return fmt.Errorf("peer port %s: tunnel key %d out of range 1..32767", in.Name, in.Key)
	}
	if _, dup := b.peers[in.Name]; dup {
		return nil // the first of two copies serves
	}
	p := &in
	p.PortSecurity, p.MAC = slices.Clone(p.PortSecurity), slices.Clone(p.MAC)
	b.peers[p.Name] = p
	link(b.idx.peersOnDP, p.Datapath, p.Name)
	b.touchName(p.Name)
	return nil
}

func (b *Builder) removePeer(name string) {
	p := b.peers[name]
	if p == nil {
		return
	}
	b.touchName(name)
	delete(b.peers, name)
	unlink(b.idx.peersOnDP, p.Datapath, name)
}

func (b *Builder) insertMulticast(in MulticastGroup) error {
	if in.Key < multicastKeyMin || in.Key > 0xffff {
		return fmt.Errorf("multicast group %s: tunnel key %#x out of range 0x8000..0xffff", in.UUID, in.Key)
	}
	mc := &in
	mc.Members = slices.Clone(mc.Members)
	b.mcs[mc.UUID] = mc
	for _, name := range mc.Members {
		link(b.idx.mcByMember, name, mc.UUID)
	}
	link(b.idx.mcByDP, mc.Datapath, mc.UUID)
	b.touch(MulticastOwner(mc.UUID))
	return nil
}

func (b *Builder) removeMulticast(id string) {
	mc := b.mcs[id]
	if mc == nil {
		return
	}
	b.touch(MulticastOwner(id))
	delete(b.mcs, id)
	for _, name := range mc.Members {
		unlink(b.idx.mcByMember, name, id)
	}
	unlink(b.idx.mcByDP, mc.Datapath, id)
}

func (b *Builder) insertMACBinding(in MACBinding) {
	mb := &in
	b.macs[mb.UUID] = mb
	link(b.idx.macByPort, mb.Port, mb.UUID)
	b.touch(MACBindingOwner(mb.UUID))
}

func (b *Builder) removeMACBinding(id string) {
	if mb := b.macs[id]; mb != nil {
		b.touch(MACBindingOwner(id))
		delete(b.macs, id)
		unlink(b.idx.macByPort, mb.Port, id)
	}
}

func (b *Builder) insertFDB(in FDB) {
	e := &in
	b.fdbs[e.UUID] = e
	link(b.idx.fdbByDP, e.Datapath, e.UUID)
	b.touch(FDBOwner(e.UUID))
}

func (b *Builder) removeFDB(id string) {
	if e := b.fdbs[id]; e != nil {
		b.touch(FDBOwner(id))
		delete(b.fdbs, id)
		unlink(b.idx.fdbByDP, e.Datapath, id)
	}
}

func (b *Builder) insertTunnel(t Tunnel) error {
	if t.Type != Geneve && t.Type != VXLAN {
		return fmt.Errorf("tunnel to %s: type %q, want geneve or vxlan", t.Chassis, t.Type)
	}
	if t.OFPort == 0 {
		return fmt.Errorf("tunnel to %s: no ofport", t.Chassis)
	}
	b.tunnels[t.Chassis] = t
	b.touchChassis(t.Chassis)
	return nil
}

func (b *Builder) removeTunnel(chassis string) {
	if _, ok := b.tunnels[chassis]; ok {
		b.touchChassis(chassis)
		delete(b.tunnels, chassis)
	}
}

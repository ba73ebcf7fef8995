package physical

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Delta is a change to a Builder's Input: rows added or replaced (by
// UUID; datapaths by key, tunnels by chassis, peers by name) and rows
// removed.
type Delta struct {
	Datapaths       []Datapath
	Ports           []Port
	Peers           []Port
	MulticastGroups []MulticastGroup
	Tunnels         []Tunnel
	MACBindings     []MACBinding
	FDBs            []FDB

	DelDatapaths       []uint32 // tunnel keys
	DelPorts           []string // Port UUIDs
	DelPeers           []string // peer names
	DelMulticastGroups []string // UUIDs
	DelTunnels         []string // chassis names
	DelMACBindings     []string // UUIDs
	DelFDBs            []string // UUIDs
}

// Apply updates b in place with d and returns, as Changes does, the
// owners whose flows may differ from before: set must be recomputed
// (b.Owner) and set again, removed have no flows any more. It looks only
// at the owners that read what d changed, so its cost follows the size
// of d, not of the Input. On an error (the same NewBuilder would report
// for the updated Input) b is unusable except as the old side of
// Changes: its fingerprints are still those of before d.
func (b *Builder) Apply(d Delta) (set, removed []string, err error) {
	if b.broken {
		return nil, nil, fmt.Errorf("physical builder: a previous update failed")
	}
	fps := b.fingerprints()
	b.touched = uuids{}
	defer func() { b.touched = nil }()
	if err := b.update(d); err != nil {
		b.broken = true
		return nil, nil, err
	}
	for o := range b.touched {
		fp, ok := b.ownerFingerprint(o)
		prev, had := fps[o]
		switch {
		case ok && (!had || prev != fp):
			fps[o] = fp
			set = append(set, o)
		case !ok && had:
			delete(fps, o)
			removed = append(removed, o)
		}
	}
	slices.Sort(set)
	slices.Sort(removed)
	return set, removed, nil
}

// Changes compares b with another Builder (of the previous Input) and
// returns the owners whose flows may differ: set must be recomputed
// (b.Owner) and set again, removed have no flows any more. Each owner's
// flows depend on a small part of the Input (a port: itself, its
// datapath's zones and localnet port, the tunnel to its chassis, its
// patch peer...); Changes compares those parts only, so that a change
// to one port touches that port's owners and the few that refer to it.
// With old nil every owner is set.
func (b *Builder) Changes(old *Builder) (set, removed []string) {
	if old == b {
		return nil, nil
	}
	now := b.fingerprints()
	var before map[string]string
	if old != nil {
		before = old.fingerprints()
	}
	for o, fp := range now {
		if prev, ok := before[o]; !ok || prev != fp {
			set = append(set, o)
		}
	}
	for o := range before {
		if _, ok := now[o]; !ok {
			removed = append(removed, o)
		}
	}
	slices.Sort(set)
	slices.Sort(removed)
	return set, removed
}

// touch notes that owner's flows may have changed (during Apply).
func (b *Builder) touch(owner string) {
	if b.touched != nil {
		b.touched[owner] = struct{}{}
	}
}

// touchPort notes the owners that read port p: itself, those that read
// its name and, for a localnet port, its datapath's ports and groups,
// for an external port bound here, its datapath's localnet ports.
func (b *Builder) touchPort(p *Port) {
	if b.touched == nil {
		return
	}
	b.touch(PortOwner(p.UUID))
	b.touchName(p.Name)
	if p.Type == TypeLocalnet {
		for id := range b.idx.portsOnDP[p.Datapath] {
			b.touch(PortOwner(id))
		}
		for id := range b.idx.mcByDP[p.Datapath] {
			b.touch(MulticastOwner(id))
		}
	}
	if p.Type == TypeExternal && p.Chassis == b.chassis {
		for id := range b.idx.lnOnDP[p.Datapath] {
			b.touch(PortOwner(id))
		}
	}
}

// touchName notes the owners that read the port named name: the ports
// naming it as peer, parent or distributed port (and the groups those
// are members of: a container's output goes through its parent's
// OpenFlow port), its groups and its MAC bindings.
func (b *Builder) touchName(name string) {
	if b.touched == nil {
		return
	}
	for id := range b.idx.refs[name] {
		b.touch(PortOwner(id))
		if q := b.byUUID[id]; q != nil {
			for mc := range b.idx.mcByMember[q.Name] {
				b.touch(MulticastOwner(mc))
			}
		}
	}
	for mc := range b.idx.mcByMember[name] {
		b.touch(MulticastOwner(mc))
	}
	for mb := range b.idx.macByPort[name] {
		b.touch(MACBindingOwner(mb))
	}
}

// touchChassis notes the owners that read the tunnel to chassis: the
// tunnel's own, and the ports bound there with their groups.
func (b *Builder) touchChassis(chassis string) {
	if b.touched == nil {
		return
	}
	b.touch(TunnelOwner(chassis))
	for id := range b.idx.onChassis[chassis] {
		b.touch(PortOwner(id))
		for mc := range b.idx.mcByMember[b.byUUID[id].Name] {
			b.touch(MulticastOwner(mc))
		}
	}
}

// touchDatapath notes the owners that read datapath k's zones or
// whether it is local: its ports and the ports patched to them or to
// its peers, its groups and its FDB entries.
func (b *Builder) touchDatapath(k uint32) {
	if b.touched == nil {
		return
	}
	for id := range b.idx.portsOnDP[k] {
		b.touch(PortOwner(id))
		b.touchName(b.byUUID[id].Name)
	}
	for name := range b.idx.peersOnDP[k] {
		b.touchName(name)
	}
	for id := range b.idx.mcByDP[k] {
		b.touch(MulticastOwner(id))
	}
	for id := range b.idx.fdbByDP[k] {
		b.touch(FDBOwner(id))
	}
}

// fingerprints renders, for every owner, everything its flows depend on;
// a Builder computes them once and Apply keeps them up to date.
func (b *Builder) fingerprints() map[string]string {
	if b.fps != nil {
		return b.fps
	}
	fps := map[string]string{ownerStatic: ""}
	for id, p := range b.byUUID {
		fps[PortOwner(id)] = b.portFingerprint(p)
	}
	for id, mc := range b.mcs {
		fps[MulticastOwner(id)] = b.multicastFingerprint(mc)
	}
	for c, t := range b.tunnels {
		fps[TunnelOwner(c)] = fmt.Sprint(t)
	}
	for id, mb := range b.macs {
		fps[MACBindingOwner(id)] = b.macBindingFingerprint(mb)
	}
	for id, e := range b.fdbs {
		fps[FDBOwner(id)] = b.fdbFingerprint(e)
	}
	b.fps = fps
	return fps
}

// ownerFingerprint is one owner's fingerprint; false if the owner does
// not exist.
func (b *Builder) ownerFingerprint(owner string) (string, bool) {
	switch {
	case owner == ownerStatic:
		return "", true
	case strings.HasPrefix(owner, prefixPort):
		if p := b.byUUID[strings.TrimPrefix(owner, prefixPort)]; p != nil {
			return b.portFingerprint(p), true
		}
	case strings.HasPrefix(owner, prefixMC):
		if mc := b.mcs[strings.TrimPrefix(owner, prefixMC)]; mc != nil {
			return b.multicastFingerprint(mc), true
		}
	case strings.HasPrefix(owner, prefixMAC):
		if mb := b.macs[strings.TrimPrefix(owner, prefixMAC)]; mb != nil {
			return b.macBindingFingerprint(mb), true
		}
	case strings.HasPrefix(owner, prefixFDB):
		if e := b.fdbs[strings.TrimPrefix(owner, prefixFDB)]; e != nil {
			return b.fdbFingerprint(e), true
		}
	case strings.HasPrefix(owner, prefixTun):
		if t, ok := b.tunnels[strings.TrimPrefix(owner, prefixTun)]; ok {
			return fmt.Sprint(t), true
		}
	}
	return "", false
}

func (b *Builder) macBindingFingerprint(mb *MACBinding) string {
	fp := fmt.Sprintf("%+v", *mb)
	if p := b.port(mb.Port); p != nil {
		fp += fmt.Sprintf("|%d,%d", p.Datapath, p.Key)
	}
	return fp
}

func (b *Builder) fdbFingerprint(e *FDB) string {
	_, local := b.dps[e.Datapath]
	return fmt.Sprintf("%+v|%v", *e, local)
}

// portFingerprint: the port, and what its flows read about others.
func (b *Builder) portFingerprint(p *Port) string {
	var f fp
	f.str(b.chassis).port(p).dp(b.dps[p.Datapath])
	if ln := b.localnets[p.Datapath]; ln != nil {
		f.str("ln").num(ln.Key)
	}
	if t, ok := b.tunnels[p.Chassis]; ok {
		f.str("tun").str(t.Type).num(t.OFPort)
	}
	if peer := b.port(p.Peer); peer != nil {
		f.str("peer").str(peer.Type).num(peer.Datapath).num(peer.Key).num(uint32(peer.Zone)).dp(b.dps[peer.Datapath])
	}
	if parent := b.port(p.Parent); parent != nil {
		f.str("parent").str(parent.Parent).num(parent.Datapath).num(parent.Key).num(parent.OFPort)
	}
	if dist := b.port(p.DistributedPort); dist != nil {
		f.str("dist").num(dist.Datapath).num(dist.Key)
	}
	if p.Type == TypeLocalnet {
		for _, e := range b.externals[p.Datapath] {
			f.str("ext").str(e.UUID)
			for _, m := range e.MAC {
				f.str(m)
			}
		}
	}
	return f.String()
}

// fp builds a fingerprint: fields separated by a byte no name holds.
type fp struct{ strings.Builder }

func (f *fp) str(s string) *fp {
	f.WriteString(s)
	f.WriteByte(0)
	return f
}

func (f *fp) num(n uint32) *fp {
	var buf [10]byte
	f.Write(strconv.AppendUint(buf[:0], uint64(n), 10))
	f.WriteByte(0)
	return f
}

func (f *fp) dp(d Datapath) *fp { return f.num(d.Key).num(uint32(d.DNATZone)).num(uint32(d.SNATZone)) }

func (f *fp) port(p *Port) *fp {
	f.str(p.UUID).str(p.Name).num(p.Datapath).num(p.Key).str(p.Type).str(p.Chassis).num(p.OFPort).
		num(uint32(p.Zone)).num(uint32(p.Tag)).str(p.Parent).str(p.Peer).str(p.DistributedPort)
	for _, ps := range p.PortSecurity {
		f.str(ps)
	}
	f.str("mac")
	for _, m := range p.MAC {
		f.str(m)
	}
	return f.str("")
}

// multicastFingerprint: the group and, for each member, what the group's
// flows read about it.
func (b *Builder) multicastFingerprint(mc *MulticastGroup) string {
	var f fp
	f.str(b.chassis).str(mc.UUID).num(mc.Datapath).num(mc.Key)
	if b.localnets[mc.Datapath] != nil {
		f.str("ln")
	}
	for _, name := range mc.Members {
		p := b.port(name)
		if p == nil {
			f.str("?" + name)
			continue
		}
		f.str(p.UUID).str(p.Type).num(p.Datapath).num(p.Key).str(p.Chassis).str(p.Parent).num(b.ofport(p)).num(uint32(p.Zone))
		if t, ok := b.tunnels[p.Chassis]; ok {
			f.str("tun").str(t.Type).num(t.OFPort)
		}
	}
	return f.String()
}

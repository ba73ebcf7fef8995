package physical

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Changes compares b with the Builder of the previous Input and returns
// the owners whose flows may differ: set must be recomputed (b.Owner) and
// set again, removed have no flows any more. Each owner's flows depend on
// a small part of the Input (a port: itself, its datapath's zones and
// localnet port, the tunnel to its chassis, its patch peer...); Changes
// compares those parts only, so that a change to one port touches that
// port's owners and the few that refer to it. With old nil every owner is
// set.
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

// fingerprints renders, for every owner, everything its flows depend on;
// a Builder computes them once.
func (b *Builder) fingerprints() map[string]string {
	if b.fps != nil {
		return b.fps
	}
	fps := map[string]string{ownerStatic: ""}
	defer func() { b.fps = fps }()
	for i := range b.in.Ports {
		p := &b.in.Ports[i]
		fps[PortOwner(p.UUID)] = b.portFingerprint(p)
	}
	for i := range b.in.MulticastGroups {
		mc := &b.in.MulticastGroups[i]
		fps[MulticastOwner(mc.UUID)] = b.multicastFingerprint(mc)
	}
	for _, t := range b.in.Tunnels {
		fps[TunnelOwner(t.Chassis)] = fmt.Sprint(t)
	}
	for _, mb := range b.in.MACBindings {
		fp := fmt.Sprintf("%+v", mb)
		if p := b.ports[mb.Port]; p != nil {
			fp += fmt.Sprintf("|%d,%d", p.Datapath, p.Key)
		}
		fps[MACBindingOwner(mb.UUID)] = fp
	}
	for _, e := range b.in.FDBs {
		_, local := b.dps[e.Datapath]
		fps[FDBOwner(e.UUID)] = fmt.Sprintf("%+v|%v", e, local)
	}
	return fps
}

// portFingerprint: the port, and what its flows read about others.
func (b *Builder) portFingerprint(p *Port) string {
	var f fp
	f.str(b.in.Chassis).port(p).dp(b.dps[p.Datapath])
	if ln := b.localnets[p.Datapath]; ln != nil {
		f.str("ln").num(ln.Key)
	}
	if t, ok := b.tunnels[p.Chassis]; ok {
		f.str("tun").str(t.Type).num(t.OFPort)
	}
	if peer := b.ports[p.Peer]; peer != nil {
		f.str("peer").str(peer.Type).num(peer.Datapath).num(peer.Key).num(uint32(peer.Zone)).dp(b.dps[peer.Datapath])
	}
	if parent := b.ports[p.Parent]; parent != nil {
		f.str("parent").str(parent.Parent).num(parent.Datapath).num(parent.Key).num(parent.OFPort)
	}
	if dist := b.ports[p.DistributedPort]; dist != nil {
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
	f.str(b.in.Chassis).str(mc.UUID).num(mc.Datapath).num(mc.Key)
	if b.localnets[mc.Datapath] != nil {
		f.str("ln")
	}
	for _, name := range mc.Members {
		p := b.ports[name]
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

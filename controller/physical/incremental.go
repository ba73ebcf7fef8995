package physical

import (
	"fmt"
	"slices"
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

// fingerprints renders, for every owner, everything its flows depend on.
func (b *Builder) fingerprints() map[string]string {
	fps := map[string]string{ownerStatic: ""}
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
	var s strings.Builder
	fmt.Fprintf(&s, "%s|%+v|%+v", b.in.Chassis, *p, b.dps[p.Datapath])
	if ln := b.localnets[p.Datapath]; ln != nil {
		fmt.Fprintf(&s, "|ln=%d", ln.Key)
	}
	if t, ok := b.tunnels[p.Chassis]; ok {
		fmt.Fprintf(&s, "|tun=%+v", t)
	}
	if peer := b.ports[p.Peer]; peer != nil {
		fmt.Fprintf(&s, "|peer=%s,%d,%d,%d,%+v", peer.Type, peer.Datapath, peer.Key, peer.Zone, b.dps[peer.Datapath])
	}
	if parent := b.ports[p.Parent]; parent != nil {
		fmt.Fprintf(&s, "|parent=%s,%d,%d,%d", parent.Parent, parent.Datapath, parent.Key, parent.OFPort)
	}
	if dist := b.ports[p.DistributedPort]; dist != nil {
		fmt.Fprintf(&s, "|dist=%d,%d", dist.Datapath, dist.Key)
	}
	return s.String()
}

// multicastFingerprint: the group and, for each member, what the group's
// flows read about it.
func (b *Builder) multicastFingerprint(mc *MulticastGroup) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s|%+v|ln=%v", b.in.Chassis, *mc, b.localnets[mc.Datapath] != nil)
	for _, name := range mc.Members {
		p := b.ports[name]
		if p == nil {
			continue
		}
		fmt.Fprintf(&s, "|%s,%s,%d,%d,%s,%s,%d,%d,%s", p.UUID, p.Type, p.Datapath, p.Key, p.Chassis, p.Peer, b.ofport(p), p.Zone, p.Parent)
		if t, ok := b.tunnels[p.Chassis]; ok {
			fmt.Fprintf(&s, ",tun=%+v", t)
		}
	}
	return s.String()
}

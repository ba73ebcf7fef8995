package physical

import (
	"slices"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
)

// multicastFlows deliver a packet for a multicast group: to each member
// on this chassis (table 40), and once to every other chassis that has
// members (table 39), which then delivers to its own members. Logical
// patch ports and localports are members on every chassis, so they are
// served with the remote part: the packet must go through them once, on
// the chassis it entered. With a localnet port on the datapath remote
// members are reached through the provider network, not tunnels.
//
// Members are visited in the order of their Port_Binding UUIDs, as
// ovn-controller sees them.
func (b *Builder) multicastFlows(mc *MulticastGroup) []flowtable.Flow {
	members := make([]*Port, 0, len(mc.Members))
	for _, name := range mc.Members {
		if p := b.port(name); p != nil && p.Datapath == mc.Datapath {
			members = append(members, p)
		}
	}
	slices.SortFunc(members, func(x, y *Port) int { return compareStrings(x.UUID, y.UUID) })
	var local, remote acts
	chassis := map[string]bool{}
	for _, p := range members {
		if p.Zone != 0 {
			local.set(regCTZone, uint64(p.Zone))
		}
		switch {
		case p.Type == TypePatch || p.Type == TypeLocalport:
			remote.set(regOutport, uint64(p.Key)).resubmit(oftable.TableCheckLoopback)
		case b.ofport(p) != 0 && (p.Type == TypeVIF && (p.Parent == "" || p.Chassis == b.chassis) || p.Type == TypeLocalnet),
			p.Type == TypeL3Gateway && p.Chassis == b.chassis:
			local.set(regOutport, uint64(p.Key)).resubmit(oftable.TableCheckLoopback)
		case b.remote(p) && b.localnets[mc.Datapath] == nil:
			chassis[p.Chassis] = true
		}
	}
	c, m := cookie(mc.UUID), onPort(regOutport, mc.Datapath, mc.Key)
	var out []flowtable.Flow
	if len(local) > 0 {
		// Afterwards the output port is the group again, for the
		// remote part.
		local.set(regOutport, uint64(mc.Key))
		out = append(out, flow(oftable.TableLocalOutput, 100, c, m, local))
	}
	if len(remote) > 0 {
		remote.set(regOutport, uint64(mc.Key))
	}
	var prev string
	for _, name := range sortedKeys(chassis) {
		t, ok := b.tunnels[name]
		if !ok {
			continue
		}
		if t.Type != prev {
			remote.encapsulate(t.Type, mc.Datapath, mc.Key)
			prev = t.Type
		}
		remote.output(t.OFPort)
	}
	if len(remote) > 0 {
		if len(local) > 0 {
			remote.resubmit(oftable.TableLocalOutput)
		}
		out = append(out, flow(oftable.TableRemoteOutput, 100, c, m, remote))
	}
	return sortFlows(out)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

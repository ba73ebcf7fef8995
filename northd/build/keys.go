package build

import (
	"cmp"
	"slices"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// Tunnel key ranges, as ovn-sb(5) documents them.
const (
	maxDatapathKey = 16711680
	maxPortKey     = 32767
)

// lswitch is a logical switch with its tunnel key and its ports.
type lswitch struct {
	nb    nbdb.LogicalSwitch
	key   int
	ports []*lport
	// pgsOf, when set, is the port groups listing each NB port UUID
	// (the engine's index); nil means search NB.
	pgsOf map[string]strSet
	// sbMACs is Port_Binding.mac of the switch's ports in SB, by port
	// name: which port holds an address when two claim it (validate.go).
	sbMACs map[string][]string
	// problems are the switch's NB content that was skipped (see
	// validate.go), one line each.
	problems []string
}

// lport is a logical switch port with its tunnel key.
type lport struct {
	nb  nbdb.LogicalSwitchPort
	key int
	// parsed and parsedAddrs memoise addrs(), which every flow builder
	// and every port group holding the port asks for.
	parsed      bool
	parsedAddrs []lportAddrs
}

// keyAlloc hands out the lowest unused key in [1, max].
type keyAlloc struct {
	used map[int]bool
	next int
	max  int
}

func newKeyAlloc(max int) *keyAlloc {
	return &keyAlloc{used: map[int]bool{}, next: 1, max: max}
}

// claim reserves key k; it reports false when k is taken or out of range.
func (a *keyAlloc) claim(k int) bool {
	if k < 1 || k > a.max || a.used[k] {
		return false
	}
	a.used[k] = true
	return true
}

// alloc returns the lowest free key, or 0 when the range is exhausted.
func (a *keyAlloc) alloc() int {
	for ; a.next <= a.max; a.next++ {
		if !a.used[a.next] {
			a.used[a.next] = true
			return a.next
		}
	}
	return 0
}

// switches assigns tunnel keys to every logical switch and its ports,
// keeping the keys SB already holds, and returns them sorted by key.
func switches(nb *NB, sb *SB) []*lswitch {
	oldDP := map[string]int{}      // logical switch UUID → key
	dpOwner := map[string]string{} // SB datapath UUID → logical switch UUID
	for _, dp := range sb.Datapaths {
		if ls := dp.ExternalIDs["logical-switch"]; ls != "" {
			oldDP[ls] = dp.TunnelKey
			dpOwner[dp.UUID] = ls
		}
	}
	oldPort := map[[2]string]int{} // (switch UUID, port name) → key
	sbMACs := map[string]map[string][]string{}
	for _, pb := range sb.PortBindings {
		ls := dpOwner[pb.Datapath]
		oldPort[[2]string{ls, pb.LogicalPort}] = pb.TunnelKey
		if sbMACs[ls] == nil {
			sbMACs[ls] = map[string][]string{}
		}
		sbMACs[ls][pb.LogicalPort] = pb.MAC
	}
	var sws []*lswitch
	for _, ls := range nb.Switches {
		sws = append(sws, &lswitch{nb: ls, sbMACs: sbMACs[ls.UUID]})
	}
	slices.SortFunc(sws, func(a, b *lswitch) int {
		return cmp.Or(cmp.Compare(a.nb.Name, b.nb.Name), cmp.Compare(a.nb.UUID, b.nb.UUID))
	})
	assignKeys(sws, maxDatapathKey, func(sw *lswitch) int { return oldDP[sw.nb.UUID] },
		func(sw *lswitch, k int) { sw.key = k })
	var keyed []*lswitch
	for _, sw := range sws {
		if sw.key == 0 {
			continue
		}
		sw.ports = switchPorts(nb, sw, oldPort)
		keyed = append(keyed, sw)
	}
	slices.SortFunc(keyed, func(a, b *lswitch) int { return cmp.Compare(a.key, b.key) })
	dedupPorts(keyed)
	return keyed
}

func switchPorts(nb *NB, sw *lswitch, old map[[2]string]int) []*lport {
	var ps []*lport
	for _, u := range sw.nb.Ports {
		if p, ok := nb.Ports[u]; ok {
			ps = append(ps, &lport{nb: p})
		}
	}
	slices.SortFunc(ps, func(a, b *lport) int { return cmp.Compare(a.nb.Name, b.nb.Name) })
	sw.problems = checkPorts(sw, ps, func(p *lport) bool { return old[[2]string{sw.nb.UUID, p.nb.Name}] != 0 })
	assignKeys(ps, maxPortKey, func(p *lport) int { return old[[2]string{sw.nb.UUID, p.nb.Name}] },
		func(p *lport, k int) { p.key = k })
	return slices.DeleteFunc(ps, func(p *lport) bool { return p.key == 0 })
}

// assignKeys keeps each item's old key where it is free and gives the rest
// the lowest free keys, in order. Items left with 0 did not get one.
func assignKeys[T any](items []T, max int, old func(T) int, set func(T, int)) {
	a := newKeyAlloc(max)
	var fresh []T
	for _, it := range items {
		if k := old(it); a.claim(k) {
			set(it, k)
		} else {
			fresh = append(fresh, it)
		}
	}
	for _, it := range fresh {
		set(it, a.alloc())
	}
}

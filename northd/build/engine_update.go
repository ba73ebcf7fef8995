package build

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Update brings the engine in line with its NB after the changes in ch
// and returns what changed in the desired SB.
func (e *Engine) Update(ch Changes) *Delta {
	d := &Delta{}
	badChanged := false
	if len(ch.ACLs)+len(ch.PortGroups)+len(ch.AddressSets) > 0 {
		bad, problems := checkACLs(e.nb)
		badChanged = !maps.Equal(bad, e.bad)
		e.bad, e.problems = bad, problems
	}
	dirty := e.dirtySwitches(ch, ch.Other || badChanged)
	// Switches find their port groups through pgOf: bring it up to date
	// before they are recomputed.
	for u := range ch.PortGroups {
		e.indexPG(u, e.nb.PortGroups[u].Ports)
	}
	pgDirty := maps.Clone(ch.PortGroups)
	if pgDirty == nil {
		pgDirty = map[string]bool{}
	}
	if len(dirty) > 0 {
		e.updateSwitches(dirty, pgDirty, d)
	}
	e.updateSets(pgDirty, ch, d)
	if ch.Global {
		if g := global(e.nb); !sameRow(g, e.global) {
			e.global, d.Global = g, &g
		}
	}
	none := len(e.nb.DNS) == 0 && len(e.nb.LBs) == 0 && len(e.dns) == 0 && len(e.lbs) == 0
	if (len(dirty) > 0 || ch.Other) && !none {
		dns, lbs := e.perNB()
		d.DNSChanged, d.LBsChanged = !sameRow(dns, e.dns), !sameRow(lbs, e.lbs)
		e.dns, e.lbs = dns, lbs
	}
	d.Tags = map[string]int{}
	for _, o := range e.sws {
		maps.Copy(d.Tags, o.tags)
	}
	d.Problems = e.allProblems()
	return d
}

// dirtySwitches is the switches (by NB UUID) whose outputs ch may change.
func (e *Engine) dirtySwitches(ch Changes, all bool) map[string]bool {
	dirty := map[string]bool{}
	if all {
		for u := range e.sws {
			dirty[u] = true
		}
		for u := range e.nb.Switches {
			dirty[u] = true
		}
		return dirty
	}
	maps.Copy(dirty, ch.Switches)
	mark := func(port string) {
		for _, o := range e.listed[port] {
			dirty[o.sw.nb.UUID] = true
		}
	}
	for u := range ch.Ports {
		mark(u)
	}
	if len(ch.ACLs) > 0 {
		for su, o := range e.sws {
			for u := range ch.ACLs {
				if o.acls[u] {
					dirty[su] = true
				}
			}
		}
	}
	// A port group's ACLs apply to the switches it has ports on: a
	// change of its ACLs touches all of them, a change of its ports only
	// the switches of the ports that came or went.
	for u := range ch.PortGroups {
		var oldPorts, oldACLs, newPorts, newACLs []string
		if o := e.pgs[u]; o != nil {
			oldPorts, oldACLs = o.ports, o.acls
		}
		if pg, ok := e.nb.PortGroups[u]; ok {
			newPorts, newACLs = pg.Ports, pg.ACLs
		}
		if len(oldACLs) == 0 && len(newACLs) == 0 {
			continue
		}
		if !sameMembers(oldACLs, newACLs) {
			for _, p := range oldPorts {
				mark(p)
			}
			for _, p := range newPorts {
				mark(p)
			}
			continue
		}
		for _, p := range symmetricDiff(oldPorts, newPorts) {
			mark(p)
		}
	}
	return dirty
}

func sameMembers(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func symmetricDiff(a, b []string) []string {
	in := func(s []string) map[string]bool {
		m := make(map[string]bool, len(s))
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var out []string
	for _, x := range a {
		if !inb[x] {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !ina[x] {
			out = append(out, x)
		}
	}
	return out
}

// portLook is what a port group row takes from a port.
type portLook struct {
	key        int
	name, addr string
}

func (e *Engine) look(u string) portLook {
	sw, p := e.findPort(u)
	if sw == nil {
		return portLook{}
	}
	addr := strings.Join(p.nb.Addresses, "|")
	if p.nb.DynamicAddresses != nil {
		addr += "|" + *p.nb.DynamicAddresses
	}
	return portLook{sw.key, p.nb.Name, addr}
}

// updateSwitches recomputes the dirty switches, records the port groups
// whose ports' looks changed in pgDirty, and adds the SB differences to d.
func (e *Engine) updateSwitches(dirty, pgDirty map[string]bool, d *Delta) {
	olds := map[string]*swOut{}
	for u := range dirty {
		if o := e.sws[u]; o != nil {
			olds[u] = o
		}
	}
	news := e.recompute(dirty, olds)
	moves := flowMoves(olds, news)
	ports := map[string]portLook{}
	for _, set := range []map[string]*swOut{olds, news} {
		for _, o := range set {
			for _, p := range o.sw.ports {
				ports[p.nb.UUID] = portLook{}
			}
		}
	}
	for u := range ports {
		ports[u] = e.look(u)
	}
	for _, o := range olds {
		e.removeSwitch(o)
	}
	for _, o := range news {
		e.addSwitch(o)
	}
	e.moveFlows(moves, d)
	for u, was := range ports {
		if e.look(u) != was {
			for _, pg := range e.pgOf[u] {
				pgDirty[pg] = true
			}
		}
	}
	switchDelta(olds, news, d)
}

// moveFlows applies moves to the flows' datapaths and adds the flows
// whose datapaths changed to d. The datapath slices in e.flows are
// never changed in place (moved makes new ones), so d shares them.
func (e *Engine) moveFlows(moves map[flowKey]*move, d *Delta) {
	if len(moves) > len(e.flows) {
		// A bulk change: size the map once rather than by doubling.
		grown := make(map[flowKey][]int, len(e.flows)+len(moves))
		maps.Copy(grown, e.flows)
		e.flows = grown
	}
	for k, m := range moves {
		was := e.flows[k]
		after := moved(was, m)
		if slices.Equal(was, after) {
			continue
		}
		if len(after) == 0 {
			delete(e.flows, k)
		} else {
			e.flows[k] = after
		}
		if len(was) > 0 {
			d.FlowsGone = append(d.FlowsGone, k.flow(was))
		}
		if len(after) > 0 {
			d.Flows = append(d.Flows, k.flow(after))
		}
	}
}

// move is the datapaths a flow leaves and joins.
type move struct{ del, add []int }

// flowMoves is, for every flow the recomputed switches stop or start
// having, the datapaths it leaves and joins. A switch that keeps its key
// moves only the flows it no longer has or newly has.
func flowMoves(olds, news map[string]*swOut) map[flowKey]*move {
	size := 0
	for _, n := range news {
		size += len(n.flows)
	}
	moves := make(map[flowKey]*move, size)
	get := func(k flowKey) *move {
		m := moves[k]
		if m == nil {
			m = &move{}
			moves[k] = m
		}
		return m
	}
	for u, o := range olds {
		n := news[u]
		if n == nil || n.sw.key != o.sw.key {
			for _, k := range o.flows {
				m := get(k)
				m.del = append(m.del, o.sw.key)
			}
			continue
		}
		had := make(map[flowKey]bool, len(o.flows))
		for _, k := range o.flows {
			had[k] = true
		}
		for _, k := range n.flows {
			if had[k] {
				delete(had, k)
			} else {
				m := get(k)
				m.add = append(m.add, n.sw.key)
			}
		}
		for k := range had {
			m := get(k)
			m.del = append(m.del, o.sw.key)
		}
	}
	for u, n := range news {
		if o := olds[u]; o == nil || o.sw.key != n.sw.key {
			for _, k := range n.flows {
				m := get(k)
				m.add = append(m.add, n.sw.key)
			}
		}
	}
	return moves
}

// moved is the sorted datapaths dps (sorted) become under m: dps itself
// when m changes nothing, else a new slice.
func moved(dps []int, m *move) []int {
	var out []int
	if len(m.del) > 0 {
		gone := make(map[int]bool, len(m.del))
		for _, dp := range m.del {
			gone[dp] = true
		}
		out = make([]int, 0, len(dps)+len(m.add))
		for _, dp := range dps {
			if !gone[dp] {
				out = append(out, dp)
			}
		}
	} else {
		out = make([]int, len(dps), len(dps)+len(m.add))
		copy(out, dps)
	}
	out = append(out, m.add...)
	slices.Sort(out)
	out = slices.Compact(out)
	if slices.Equal(out, dps) {
		return dps
	}
	return slices.Clip(out)
}

// recompute builds the new outputs of the dirty switches that still
// exist, adding to dirty (and olds) the switches that share a port name
// with them, since which of those keeps the name may change. Switches
// keep their tunnel keys; new ones get the lowest free keys in name
// order, as Build assigns them.
func (e *Engine) recompute(dirty map[string]bool, olds map[string]*swOut) map[string]*swOut {
	news := e.keyed(dirty, olds)
	names := map[string][]string{} // switch UUID → port names before dedup
	for {
		var todo []*lswitch
		for u, sw := range news {
			if _, done := names[u]; !done {
				todo = append(todo, sw)
			}
		}
		// Each call writes only its own switch and slot.
		prepared := make([][]string, len(todo))
		e.fanout(len(todo), func(i int) { prepared[i] = e.prepare(todo[i], olds[todo[i].nb.UUID]) })
		for i, sw := range todo {
			names[sw.nb.UUID] = prepared[i]
		}
		more := e.sharing(names, olds, dirty)
		if len(more) == 0 {
			break
		}
		for _, u := range more {
			dirty[u], olds[u] = true, e.sws[u]
			news[u] = &lswitch{nb: e.nb.Switches[u], key: e.sws[u].sw.key, pgsOf: e.pgOf}
		}
	}
	owner := e.nameOwners(dirty, news, names)
	list := slices.Collect(maps.Values(news))
	computed := make([]*swOut, len(list))
	// Each call writes only its own switch and slot, and reads what
	// nothing writes meanwhile (NB, the port group index, owner).
	e.fanout(len(list), func(i int) {
		sw := list[i]
		e.dedup(sw, owner)
		computed[i] = e.computeSwitch(sw, names[sw.nb.UUID])
	})
	outs := make(map[string]*swOut, len(news))
	for _, o := range computed {
		outs[o.sw.nb.UUID] = o
	}
	return outs
}

// keyed returns the dirty switches that still exist, with their keys.
func (e *Engine) keyed(dirty map[string]bool, olds map[string]*swOut) map[string]*lswitch {
	news := map[string]*lswitch{}
	var fresh []*lswitch
	for u := range dirty {
		ls, ok := e.nb.Switches[u]
		if !ok {
			continue
		}
		sw := &lswitch{nb: ls, pgsOf: e.pgOf}
		if o := olds[u]; o != nil {
			sw.key = o.sw.key
			news[u] = sw
		} else {
			fresh = append(fresh, sw)
		}
	}
	if len(fresh) == 0 {
		return news
	}
	slices.SortFunc(fresh, func(a, b *lswitch) int {
		return cmp.Or(cmp.Compare(a.nb.Name, b.nb.Name), cmp.Compare(a.nb.UUID, b.nb.UUID))
	})
	a := newKeyAlloc(maxDatapathKey)
	for k, u := range e.keys {
		if _, exists := e.nb.Switches[u]; !dirty[u] || exists {
			a.used[k] = true
		}
	}
	var rest []*lswitch
	for _, sw := range fresh {
		if e.sb != nil && a.claim(e.sb.dp[sw.nb.UUID]) {
			sw.key = e.sb.dp[sw.nb.UUID]
			news[sw.nb.UUID] = sw
		} else {
			rest = append(rest, sw)
		}
	}
	for _, sw := range rest {
		if sw.key = a.alloc(); sw.key != 0 {
			news[sw.nb.UUID] = sw
		}
	}
	return news
}

// prepare gives sw its ports as switchPorts does, with the port keys and
// addresses SB holds from the switch's last output (or from the SB the
// engine started from), and returns their names.
func (e *Engine) prepare(sw *lswitch, old *swOut) []string {
	keys := map[[2]string]int{}
	switch {
	case old != nil:
		sw.sbMACs = map[string][]string{}
		for _, p := range old.ports {
			keys[[2]string{sw.nb.UUID, p.Name}] = p.Key
			sw.sbMACs[p.Name] = p.MAC
		}
	case e.sb != nil:
		keys, sw.sbMACs = e.sb.ports, e.sb.macs[sw.nb.UUID]
	}
	sw.ports = switchPorts(e.nb, sw, keys)
	names := make([]string, len(sw.ports))
	for i, p := range sw.ports {
		names[i] = p.nb.Name
	}
	return names
}

// sharing is the switches outside names that have a port name that the
// switches in names have now or had before.
func (e *Engine) sharing(names map[string][]string, olds map[string]*swOut, dirty map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	check := func(n string) {
		for _, r := range e.names[n] {
			if u := r.sw; !dirty[u] && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	for _, ns := range names {
		for _, n := range ns {
			check(n)
		}
	}
	for _, o := range olds {
		for _, n := range o.names {
			check(n)
		}
	}
	slices.Sort(out)
	return out
}

// nameOwners is, for every port name of the recomputed switches, the
// switch (UUID) that keeps it: the lowest key among all switches
// carrying it after the change.
func (e *Engine) nameOwners(dirty map[string]bool, news map[string]*lswitch, names map[string][]string) map[string]string {
	owner := map[string]string{}
	best := map[string]int{}
	consider := func(n, u string, key int) {
		if k, ok := best[n]; !ok || key < k {
			best[n], owner[n] = key, u
		}
	}
	for u, ns := range names {
		for _, n := range ns {
			consider(n, u, news[u].key)
			for _, r := range e.names[n] {
				if !dirty[r.sw] {
					consider(n, r.sw, r.key)
				}
			}
		}
	}
	return owner
}

// dedup drops the ports whose name another switch keeps, and repeats of
// a name within sw, with dedupPorts's problem lines.
func (e *Engine) dedup(sw *lswitch, owner map[string]string) {
	seen := map[string]bool{}
	sw.ports = slices.DeleteFunc(sw.ports, func(p *lport) bool {
		first := owner[p.nb.Name]
		if first == sw.nb.UUID && !seen[p.nb.Name] {
			seen[p.nb.Name] = true
			return false
		}
		sw.problems = append(sw.problems, portProblem(sw, p, "port name already on switch %q; skipped here", e.nb.Switches[first].Name))
		return true
	})
}

// switchDelta adds the differences in datapaths, port bindings and
// multicast groups between the old and new outputs of the recomputed
// switches. Rows are matched by their SB identity (key, port name,
// datapath and group name), so a port that moves between switches is an
// update.
func switchDelta(olds, news map[string]*swOut, d *Delta) {
	type mcID struct {
		dp   int
		name string
	}
	oldDP, oldPB, oldMC := map[int]Datapath{}, map[string]Port{}, map[mcID]MCGroup{}
	for _, o := range olds {
		oldDP[o.dp.Key] = o.dp
		for _, p := range o.ports {
			oldPB[p.Name] = p
		}
		for _, m := range o.mcs {
			oldMC[mcID{m.Datapath, m.Name}] = m
		}
	}
	newDP, newPB, newMC := map[int]bool{}, map[string]bool{}, map[mcID]bool{}
	for _, o := range sortedOuts(news) {
		newDP[o.dp.Key] = true
		if c, ok := oldDP[o.dp.Key]; !ok || !sameRow(c, o.dp) {
			d.Datapaths = append(d.Datapaths, o.dp)
		}
		for _, p := range o.ports {
			newPB[p.Name] = true
			if c, ok := oldPB[p.Name]; !ok || !sameRow(c, p) {
				d.Ports = append(d.Ports, p)
			}
		}
		for _, m := range o.mcs {
			id := mcID{m.Datapath, m.Name}
			newMC[id] = true
			if c, ok := oldMC[id]; !ok || !sameRow(c, m) {
				d.MCGroups = append(d.MCGroups, m)
			}
		}
	}
	for k := range oldDP {
		if !newDP[k] {
			d.DatapathsGone = append(d.DatapathsGone, k)
		}
	}
	for n := range oldPB {
		if !newPB[n] {
			d.PortsGone = append(d.PortsGone, n)
		}
	}
	for id, m := range oldMC {
		if !newMC[id] {
			d.MCGroupsGone = append(d.MCGroupsGone, m)
		}
	}
}

func sortedOuts(m map[string]*swOut) []*swOut {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *swOut) int { return cmp.Compare(a.sw.key, b.sw.key) })
	return out
}

// updateSets recomputes the dirty port groups, the changed NB address
// sets and svc_monitor_mac, and adds the SB Port_Group and Address_Set
// differences to d. Rows are matched by name.
func (e *Engine) updateSets(pgDirty map[string]bool, ch Changes, d *Delta) {
	oldPG, newPG := map[string]NamedSet{}, map[string]NamedSet{}
	oldAS, newAS := map[string]NamedSet{}, map[string]NamedSet{}
	for u := range pgDirty {
		if o := e.pgs[u]; o != nil {
			for _, r := range o.rows {
				oldPG[r.Name] = r
			}
			oldAS[o.ip4.Name], oldAS[o.ip6.Name] = o.ip4, o.ip6
		}
		pg, ok := e.nb.PortGroups[u]
		if !ok {
			e.setPG(u, nil)
			continue
		}
		o := e.computePG(pg)
		e.setPG(u, o)
		for _, r := range o.rows {
			newPG[r.Name] = r
		}
		newAS[o.ip4.Name], newAS[o.ip6.Name] = o.ip4, o.ip6
	}
	for u := range ch.AddressSets {
		if o, ok := e.ass[u]; ok {
			oldAS[o.Name] = o
			delete(e.ass, u)
		}
		if as, ok := e.nb.AddressSets[u]; ok {
			s := nbAddressSet(as)
			e.ass[u] = s
			newAS[as.Name] = s
		}
	}
	if ch.Global {
		if e.svc != nil {
			oldAS[e.svc.Name] = *e.svc
			e.svc = nil
		}
		if s, ok := svcMonitorSet(e.nb); ok {
			e.svc = &s
			newAS[s.Name] = s
		}
	}
	d.PortGroups, d.PortGroupsGone = setDelta(oldPG, newPG)
	d.AddressSets, d.AddressSetsGone = setDelta(oldAS, newAS)
}

func setDelta(old, cur map[string]NamedSet) (set []NamedSet, gone []string) {
	for n, s := range cur {
		if o, ok := old[n]; !ok || !slices.Equal(o.Members, s.Members) {
			set = append(set, s)
		}
	}
	for n := range old {
		if _, ok := cur[n]; !ok {
			gone = append(gone, n)
		}
	}
	slices.SortFunc(set, func(a, b NamedSet) int { return cmp.Compare(a.Name, b.Name) })
	slices.Sort(gone)
	return set, gone
}

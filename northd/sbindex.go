package northd

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// contentKey identifies a logical flow without its datapaths; the build
// never emits two flows with one content key.
type contentKey struct {
	pipeline      string
	table, prio   int
	match, action string
}

func keyOf(f build.Flow) contentKey {
	return contentKey{string(f.Stage.Pipeline), f.Stage.Table, f.Priority, f.Match, f.Actions}
}

type mcKey struct {
	dp   int
	name string
}

// sbIndex is the UUID of every SB row the engine's result describes, so
// that a Delta turns into operations on exactly the rows it names. It is
// built from the SB cache after a full sync and kept up to date by the
// incremental plans; values may be a transaction's named UUIDs until
// resolve replaces them.
type sbIndex struct {
	global string
	dp     map[int]string
	pb     map[string]string
	mc     map[mcKey]string
	pg, as map[string]string
	flow   map[contentKey]string
	// groups are the flows' Logical_DP_Group rows by sorted datapath
	// UUID set, with the number of flows using each.
	groups map[string]*dpGroup
}

type dpGroup struct {
	uuid string
	refs int
}

// errIncomplete is returned by newSBIndex while the cache does not yet
// hold what the last full sync wrote.
var errIncomplete = fmt.Errorf("sb cache does not hold the full result yet")

// newSBIndex indexes the rows of sb that match want, and fails with
// errIncomplete unless every row of want is there.
func newSBIndex(sb *sbState, want *build.Result) (*sbIndex, error) {
	x := &sbIndex{dp: map[int]string{}, pb: map[string]string{}, mc: map[mcKey]string{}, pg: map[string]string{},
		as: map[string]string{}, flow: map[contentKey]string{}, groups: map[string]*dpGroup{}}
	if len(sb.global) == 0 {
		return nil, errIncomplete
	}
	x.global = sb.global[0].UUID
	wantDP := map[int]string{}
	for _, d := range want.Datapaths {
		wantDP[d.Key] = d.ExternalIDs["logical-switch"]
	}
	keyOfDP := map[string]int{}
	for _, d := range sb.datapaths {
		if ls, ok := wantDP[d.TunnelKey]; ok && ls == d.ExternalIDs["logical-switch"] {
			x.dp[d.TunnelKey], keyOfDP[d.UUID] = d.UUID, d.TunnelKey
		}
	}
	for _, p := range sb.ports {
		x.pb[p.LogicalPort] = p.UUID
	}
	for _, m := range sb.mcGroups {
		x.mc[mcKey{keyOfDP[m.Datapath], m.Name}] = m.UUID
	}
	for _, r := range sb.portGroups {
		x.pg[r.Name] = r.UUID
	}
	for _, r := range sb.addrSets {
		x.as[r.Name] = r.UUID
	}
	if err := x.indexFlows(sb, want); err != nil {
		return nil, err
	}
	if len(x.dp) != len(want.Datapaths) || !hasAll(x.pb, want.Ports, func(p build.Port) string { return p.Name }) ||
		!hasAll(x.pg, want.PortGroups, nameOf) || !hasAll(x.as, want.AddressSets, nameOf) ||
		!hasAll(x.mc, want.MCGroups, func(m build.MCGroup) mcKey { return mcKey{m.Datapath, m.Name} }) {
		return nil, errIncomplete
	}
	return x, nil
}

func nameOf(s build.NamedSet) string { return s.Name }

func hasAll[K comparable, T any](m map[K]string, want []T, key func(T) K) bool {
	for _, w := range want {
		if _, ok := m[key(w)]; !ok {
			return false
		}
	}
	return true
}

// indexFlows indexes the SB flows whose datapaths are what want says.
func (x *sbIndex) indexFlows(sb *sbState, want *build.Result) error {
	groupDPs := map[string][]string{}
	for _, g := range sb.dpGroups {
		groupDPs[g.UUID] = g.Datapaths
	}
	wantDPs := make(map[contentKey]string, len(want.Flows))
	for _, f := range want.Flows {
		wantDPs[keyOf(f)] = setKey(x.dpUUIDs(f.Datapaths))
	}
	for _, f := range sb.flows {
		k := contentKey{string(f.Pipeline), f.TableID, f.Priority, f.Match, f.Actions}
		w, ok := wantDPs[k]
		if !ok {
			continue
		}
		var dps []string
		switch {
		case f.LogicalDatapath != nil:
			dps = []string{*f.LogicalDatapath}
		case f.LogicalDpGroup != nil:
			dps = groupDPs[*f.LogicalDpGroup]
		}
		if setKey(dps) != w {
			continue
		}
		if _, dup := x.flow[k]; dup {
			continue
		}
		x.flow[k] = f.UUID
		if f.LogicalDpGroup != nil {
			g := x.groups[w]
			if g == nil {
				g = &dpGroup{uuid: *f.LogicalDpGroup}
				x.groups[w] = g
			}
			g.refs++
		}
	}
	if len(x.flow) != len(want.Flows) {
		return errIncomplete
	}
	return nil
}

func (x *sbIndex) dpUUIDs(keys []int) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if u, ok := x.dp[k]; ok {
			out = append(out, u)
		}
	}
	return out
}

// deltaPlan turns a build.Delta into SB operations against an index.
type deltaPlan struct {
	api client.Client
	x   *sbIndex
	sbTxn
	// fixes point index entries holding a named UUID at the real one,
	// once the transaction has returned; newFlows and newPorts name the
	// flow and port entries that do (a bulk round has tens of
	// thousands: a closure each took twice the memory).
	fixes    []func(real map[string]string)
	stageIDs stageIDs
	newFlows []contentKey
	newPorts []string
	next     int
}

func (p *deltaPlan) named() string {
	p.next++
	return "inc" + strconv.Itoa(p.next)
}

func (p *deltaPlan) insert(m model.Model) { p.add(p.api.Create(m)) }

func (p *deltaPlan) update(m model.Model, fields ...any) {
	p.add(p.api.Where(m).Update(m, fields...))
}

func (p *deltaPlan) delete(m model.Model) { p.add(p.api.Where(m).Delete()) }

// fix records that m[k] holds a named UUID to resolve.
func fix[K comparable](p *deltaPlan, m map[K]string, k K) {
	p.fixes = append(p.fixes, func(real map[string]string) {
		if u, ok := real[m[k]]; ok {
			m[k] = u
		}
	})
}

// planDelta returns the operations that apply d to SB. It updates the
// index as if they succeed; after a failure the index must be rebuilt.
func planDelta(api client.Client, x *sbIndex, d *build.Delta) *deltaPlan {
	return planDeltaStream(api, x, d, nil)
}

// planDeltaStream is planDelta writing the transaction to s (nil: none)
// as it plans it.
func planDeltaStream(api client.Client, x *sbIndex, d *build.Delta, s *txnStream) *deltaPlan {
	p := &deltaPlan{api: api, x: x, newFlows: make([]contentKey, 0, len(d.Flows)), newPorts: make([]string, 0, len(d.Ports))}
	p.streamTo(s)
	p.grow(1 + len(d.Datapaths) + len(d.DatapathsGone) + len(d.Ports) + len(d.PortsGone) + len(d.MCGroups) +
		len(d.MCGroupsGone) + len(d.PortGroups) + len(d.PortGroupsGone) + len(d.AddressSets) + len(d.AddressSetsGone) +
		len(d.Flows) + len(d.FlowsGone))
	// A bulk change: size the index's largest maps once rather than
	// by doubling.
	x.flow = grown(x.flow, len(d.Flows))
	x.pb = grown(x.pb, len(d.Ports))
	if d.Global != nil {
		g := sbdb.SBGlobal{UUID: x.global, NbCfg: d.Global.NbCfg, Options: d.Global.Options}
		p.update(&g, &g.NbCfg, &g.Options)
	}
	p.datapaths(d)
	p.ports(d)
	p.mcGroups(d)
	p.sets(d)
	p.flows(d)
	return p
}

func (p *deltaPlan) datapaths(d *build.Delta) {
	for _, k := range d.DatapathsGone {
		if u, ok := p.x.dp[k]; ok {
			p.encoded(deleteOp(sbdb.DatapathBindingTable, u))
			delete(p.x.dp, k)
		}
	}
	for _, w := range d.Datapaths {
		r := sbdb.DatapathBinding{UUID: p.x.dp[w.Key], TunnelKey: w.Key, ExternalIDs: w.ExternalIDs}
		if r.UUID != "" {
			p.update(&r, &r.TunnelKey, &r.ExternalIDs)
			continue
		}
		r.UUID = p.named()
		p.encoded(insertDatapath(&r))
		p.x.dp[w.Key] = r.UUID
		fix(p, p.x.dp, w.Key)
	}
}

func (p *deltaPlan) ports(d *build.Delta) {
	for _, n := range d.PortsGone {
		if u, ok := p.x.pb[n]; ok {
			p.encoded(deleteOp(sbdb.PortBindingTable, u))
			delete(p.x.pb, n)
		}
	}
	for _, w := range d.Ports {
		r := sbdb.PortBinding{UUID: p.x.pb[w.Name], LogicalPort: w.Name, Datapath: p.x.dp[w.Datapath], TunnelKey: w.Key,
			Type: w.Type, Options: w.Options, MAC: w.MAC, PortSecurity: w.PortSecurity, ExternalIDs: w.ExternalIDs,
			ParentPort: w.ParentPort, Tag: w.Tag}
		if r.UUID != "" {
			p.update(&r, &r.Datapath, &r.TunnelKey, &r.Type, &r.Options, &r.MAC, &r.PortSecurity, &r.ExternalIDs,
				&r.ParentPort, &r.Tag)
			continue
		}
		// ovn-controller reports a port up only where up was set to
		// false first (as the full plan does).
		r.UUID, r.Up = p.named(), new(false)
		p.encodedPort(&r)
		p.x.pb[w.Name] = r.UUID
		p.newPorts = append(p.newPorts, w.Name)
	}
}

func (p *deltaPlan) mcGroups(d *build.Delta) {
	for _, m := range d.MCGroupsGone {
		k := mcKey{m.Datapath, m.Name}
		if u, ok := p.x.mc[k]; ok {
			p.encoded(deleteOp(sbdb.MulticastGroupTable, u))
			delete(p.x.mc, k)
		}
	}
	for _, w := range d.MCGroups {
		k := mcKey{w.Datapath, w.Name}
		var ports []string
		for _, n := range w.Ports {
			if u, ok := p.x.pb[n]; ok {
				ports = append(ports, u)
			}
		}
		r := sbdb.MulticastGroup{UUID: p.x.mc[k], Datapath: p.x.dp[w.Datapath], Name: w.Name, TunnelKey: w.Key, Ports: ports}
		if r.UUID != "" {
			p.update(&r, &r.TunnelKey, &r.Ports)
			continue
		}
		r.UUID = p.named()
		p.encoded(insertMCGroup(&r))
		p.x.mc[k] = r.UUID
		fix(p, p.x.mc, k)
	}
}

func (p *deltaPlan) sets(d *build.Delta) {
	for _, n := range d.PortGroupsGone {
		if u, ok := p.x.pg[n]; ok {
			p.delete(&sbdb.PortGroup{UUID: u})
			delete(p.x.pg, n)
		}
	}
	for _, w := range d.PortGroups {
		r := sbdb.PortGroup{UUID: p.x.pg[w.Name], Name: w.Name, Ports: w.Members}
		if r.UUID != "" {
			p.update(&r, &r.Ports)
			continue
		}
		r.UUID = p.named()
		p.insert(&r)
		p.x.pg[w.Name] = r.UUID
		fix(p, p.x.pg, w.Name)
	}
	for _, n := range d.AddressSetsGone {
		if u, ok := p.x.as[n]; ok {
			p.delete(&sbdb.AddressSet{UUID: u})
			delete(p.x.as, n)
		}
	}
	for _, w := range d.AddressSets {
		r := sbdb.AddressSet{UUID: p.x.as[w.Name], Name: w.Name, Addresses: w.Members}
		if r.UUID != "" {
			p.update(&r, &r.Addresses)
			continue
		}
		r.UUID = p.named()
		p.insert(&r)
		p.x.as[w.Name] = r.UUID
		fix(p, p.x.as, w.Name)
	}
}

// flows deletes the flows that went and inserts the new ones; a flow
// whose datapaths changed is both. New flows go first so that a group
// the deleted flows leave behind can still be reused in this
// transaction.
func (p *deltaPlan) flows(d *build.Delta) {
	gone := map[contentKey]string{}
	for _, f := range d.FlowsGone {
		k := keyOf(f)
		if u, ok := p.x.flow[k]; ok {
			gone[k] = setKey(p.x.dpUUIDs(f.Datapaths))
			p.encoded(deleteOp(sbdb.LogicalFlowTable, u))
			delete(p.x.flow, k)
		}
	}
	for _, f := range d.Flows {
		dps := p.x.dpUUIDs(f.Datapaths)
		r := sbdb.LogicalFlow{UUID: p.named(), Pipeline: sbdb.LogicalFlowPipeline(f.Stage.Pipeline), TableID: f.Stage.Table,
			Priority: f.Priority, Match: f.Match, Actions: f.Actions, ExternalIDs: p.stageIDs.of(f.Stage.Name)}
		if len(dps) == 1 {
			r.LogicalDatapath = &dps[0]
		} else {
			g := p.group(dps)
			r.LogicalDpGroup = &g
		}
		p.encodedFlow(&r)
		k := keyOf(f)
		p.x.flow[k] = r.UUID
		p.newFlows = append(p.newFlows, k)
	}
	for _, set := range gone {
		if g := p.x.groups[set]; g != nil {
			if g.refs--; g.refs <= 0 {
				// Unreferenced groups are garbage collected by the
				// database at the end of the transaction.
				delete(p.x.groups, set)
			}
		}
	}
}

func (p *deltaPlan) group(dps []string) string {
	k := setKey(dps)
	g := p.x.groups[k]
	if g == nil {
		g = &dpGroup{uuid: p.named()}
		p.encoded(insertDPGroup(&sbdb.LogicalDPGroup{UUID: g.uuid, Datapaths: slices.Clone(dps)}))
		p.x.groups[k] = g
		p.fixes = append(p.fixes, func(real map[string]string) {
			if u, ok := real[g.uuid]; ok {
				g.uuid = u
			}
			// The set may name datapaths created in this
			// transaction: key the group by their real UUIDs.
			fixed := make([]string, len(dps))
			for i, d := range dps {
				fixed[i] = d
				if u, ok := real[d]; ok {
					fixed[i] = u
				}
			}
			if nk := setKey(fixed); nk != k && p.x.groups[k] == g {
				delete(p.x.groups, k)
				p.x.groups[nk] = g
			}
		})
	}
	g.refs++
	return g.uuid
}

// resolve replaces the named UUIDs of the plan's inserts by the real
// ones from the transaction's results.
func (p *deltaPlan) resolve(res []ovsdb.OperationResult) {
	real := map[string]string{}
	for i, op := range p.heads {
		if op.op == ovsdb.OperationInsert && op.uuidName != "" && i < len(res) {
			real[op.uuidName] = res[i].UUID.GoUUID
		}
	}
	for _, f := range p.fixes {
		f(real)
	}
	resolveAll(p.x.flow, p.newFlows, real)
	resolveAll(p.x.pb, p.newPorts, real)
}

// grown is m, or a copy with room for more entries when more is larger
// than m.
func grown[K comparable, V any](m map[K]V, more int) map[K]V {
	if more <= len(m) {
		return m
	}
	g := make(map[K]V, len(m)+more)
	maps.Copy(g, m)
	return g
}

// resolveAll points the entries keys of m that hold a named UUID at the
// real one.
func resolveAll[K comparable](m map[K]string, keys []K, real map[string]string) {
	for _, k := range keys {
		if u, ok := real[m[k]]; ok {
			m[k] = u
		}
	}
}

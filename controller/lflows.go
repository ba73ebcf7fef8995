package controller

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// localKeys returns the tunnel keys of the local datapaths.
func localKeys(st *chassis.State) map[uint32]bool {
	keys := make(map[uint32]bool, len(st.LocalDatapaths))
	for _, dp := range st.LocalDatapaths {
		keys[uint32(dp.Key)] = true
	}
	return keys
}

// localChanged reports whether the chassis state changed in a way that
// the compiled lflows depend on: the local datapaths or the localnet
// ports.
func (l *loop) localChanged(st *chassis.State) bool {
	if len(st.LocalDatapaths) != len(l.local) {
		return true
	}
	for id, dp := range st.LocalDatapaths {
		if k, ok := l.local[id]; !ok || k != uint32(dp.Key) {
			return true
		}
	}
	return !maps.Equal(localnetNames(st), l.localnet) || !maps.Equal(boundNames(st), l.bound)
}

// localnetNames returns the localnet ports of local datapaths, which
// compileEnv.Local counts as local.
func localnetNames(st *chassis.State) map[string]bool {
	out := make(map[string]bool, len(st.Localnet))
	for name := range st.Localnet {
		out[name] = true
	}
	return out
}

// boundNames returns the ports the chassis state binds here (boundHere),
// which compileEnv.Resident and Local count as resident.
func boundNames(st *chassis.State) map[string]bool {
	out := make(map[string]bool, len(st.LocalPorts)+len(st.Gateways))
	for name := range st.LocalPorts {
		if boundHere(st, name) {
			out[name] = true
		}
	}
	for name := range st.Gateways {
		out[name] = true
	}
	return out
}

// boundHere reports whether the chassis state binds port here: a VIF or
// container port with its interface here, or a gateway port. The state
// says so as soon as the chassis manager claims the port; the SB's
// Port_Binding.chassis says so only once the claim comes back, as
// ovn-controller's own view of a row it wrote changes at once.
func boundHere(st *chassis.State, port string) bool {
	if lp, ok := st.LocalPorts[port]; ok {
		return lp.Type == "" // not a localport
	}
	_, ok := st.Gateways[port]
	return ok
}

// compileLflows brings the desired table's logical flows in line with
// the view. With d nil it compiles every lflow (a new view); otherwise
// only those d names, those on datapaths that d or the chassis state
// made local or not local, and those that referred to something d
// names, which the reverse index finds.
func (l *loop) compileLflows(v *sbView, st *chassis.State, d *sbDirty) {
	local := make(map[string]uint32, len(st.LocalDatapaths))
	keys := make(map[uint32]bool, len(st.LocalDatapaths))
	for id, dp := range st.LocalDatapaths {
		local[id], keys[uint32(dp.Key)] = uint32(dp.Key), true
	}
	localnet, bound := localnetNames(st), boundNames(st)
	var todo map[string]struct{}
	if d == nil {
		todo = make(map[string]struct{}, len(v.flows)+len(l.lflows))
		for id := range v.flows {
			todo[id] = struct{}{}
		}
		for unit := range l.lflows {
			id, _, _ := strings.Cut(unit, "@")
			todo[id] = struct{}{}
		}
		for id := range l.units {
			todo[id] = struct{}{}
		}
	} else {
		todo = l.invalidated(v, d, local, localnet, bound)
		if len(todo) > 0 {
			l.c.log.Debug("compiling again", "lflows", len(todo), "changed", len(d.flows), "refs", len(d.refs),
				"datapaths", len(d.dps), "groups", len(d.groups))
		}
	}
	l.local, l.localnet, l.bound = local, localnet, bound
	if len(todo) == 0 {
		return
	}
	b := l.newCompileBatch(&compileEnv{v: v, st: st}, len(todo))
	for item := range todo {
		id, dp, isUnit := strings.Cut(item, "@")
		if !isUnit {
			l.compileOne(b, id, keys)
		} else if _, whole := todo[id]; !whole {
			l.compileUnitAgain(b, id, dp, keys)
		}
	}
	b.finish()
	mods := l.compiler.Groups()
	groups := make([]flowtable.Group, len(mods))
	for i, m := range mods {
		groups[i] = flowtable.GroupFromMod(m)
	}
	l.desired.SetGroups(lflowGroupsOwner, groups)
	l.installDue = true
}

// invalidated returns the lflows that d and the change from l.local,
// l.localnet and l.bound to local, localnet and bound make compile
// again.
func (l *loop) invalidated(v *sbView, d *sbDirty, local map[string]uint32, localnet, bound map[string]bool) map[string]struct{} {
	todo := make(map[string]struct{}, len(d.flows))
	for id := range d.flows {
		todo[id] = struct{}{}
	}
	for id, k := range local {
		if old, ok := l.local[id]; !ok || old != k {
			d.dps[id] = struct{}{}
		}
	}
	for id := range l.local {
		if _, ok := local[id]; !ok {
			d.dps[id] = struct{}{}
		}
	}
	d.refPortsInOne(localnet, l.localnet)
	d.refPortsInOne(bound, l.bound)
	for name := range d.resident {
		if !bound[name] || !l.bound[name] {
			d.ref("p", name)
		}
	}
	for dp := range d.dps {
		for id := range v.flowsByDP[dp] {
			todo[id] = struct{}{}
		}
		for g := range v.dpInGroups[dp] {
			d.groups[g] = struct{}{}
		}
	}
	for g := range d.groups {
		for id := range v.flowsByGrp[g] {
			todo[id] = struct{}{}
		}
	}
	for r := range d.refs {
		for id := range l.refIndex.units(r) {
			todo[id] = struct{}{}
		}
	}
	return todo
}

// An lflow on a datapath group compiles for each local datapath as a
// unit of its own, owner "<uuid>@<datapath key>" in the desired table,
// with its own references: a port group is per datapath ("<key>_name"),
// so a port joining one switch's group recompiles that switch's units,
// not the lflow on every switch of the group. An lflow on one datapath,
// and one whose actions use OpenFlow groups (which the compiler counts
// per lflow), is one unit, owner "<uuid>"; so is one whose match names
// an address set, which the compiler resolves once per Compile: compiled
// per datapath, a 10,000-address set would be resolved once per switch.

// unitsOf reports whether lf compiles per datapath.
func unitsOf(lf *sbdb.LogicalFlow) bool {
	if lf.LogicalDpGroup == nil {
		return false
	}
	a := lf.Actions
	return !strings.Contains(a, "ct_lb") && !strings.Contains(a, "select(") && !strings.Contains(a, "fwd_group") &&
		!strings.Contains(lf.Match, "$")
}

func unitID(id string, dp uint32) string { return id + "@" + strconv.FormatUint(uint64(dp), 10) }

// compileOne compiles lflow id for the local datapaths it applies to, or
// removes its flows when it is gone or applies to none.
func (l *loop) compileOne(b *compileBatch, id string, local map[uint32]bool) {
	if b.whole[id] {
		return
	}
	b.whole[id] = true
	lf := b.env.v.flows[id]
	var dps []uint32
	if lf != nil {
		for _, k := range b.env.v.flowDatapaths(lf) {
			if local[k] {
				dps = append(dps, k)
			}
		}
	}
	if len(dps) == 0 {
		l.dropLflow(id)
		return
	}
	slices.Sort(dps)
	if !unitsOf(lf) {
		l.dropUnits(id, nil)
		b.compile(lf, id, dps)
		return
	}
	if _, ok := l.lflows[id]; ok {
		l.dropUnit(id)
	}
	now := make(map[uint32]bool, len(dps))
	for _, dp := range dps {
		now[dp] = true
		b.compile(lf, unitID(id, dp), []uint32{dp})
	}
	l.dropUnits(id, now)
	l.units[id] = now
}

// compileUnitAgain compiles unit dp of lflow id again when a reference of
// it changed; if the lflow no longer applies to dp there, it compiles the
// whole lflow.
func (l *loop) compileUnitAgain(b *compileBatch, id, dp string, local map[uint32]bool) {
	lf := b.env.v.flows[id]
	k, err := strconv.ParseUint(dp, 10, 32)
	if lf == nil || err != nil || !unitsOf(lf) || !local[uint32(k)] || !l.units[id][uint32(k)] ||
		!slices.Contains(b.env.v.flowDatapaths(lf), uint32(k)) {
		l.compileOne(b, id, local)
		return
	}
	b.compile(lf, unitID(id, uint32(k)), []uint32{uint32(k)})
}

// dropLflow removes the flows of lflow id, if it has any.
func (l *loop) dropLflow(id string) {
	_, whole := l.lflows[id]
	if !whole && l.units[id] == nil {
		return
	}
	if whole {
		l.dropUnit(id)
	}
	l.dropUnits(id, nil)
	l.compiler.Release(id)
}

// dropUnits removes the per-datapath units of lflow id whose datapath is
// not in keep.
func (l *loop) dropUnits(id string, keep map[uint32]bool) {
	for dp := range l.units[id] {
		if !keep[dp] {
			l.dropUnit(unitID(id, dp))
		}
	}
	if len(keep) == 0 {
		delete(l.units, id)
	}
}

// dropUnit removes one unit's flows and references.
func (l *loop) dropUnit(unit string) {
	l.desired.Remove(unit)
	l.setRefs(unit, nil)
	delete(l.lflows, unit)
}

// setRefs records that lflow id (compiled now; gone if refs is nil)
// refers to refs, in the reverse index.
//
// A per-datapath unit that refers to nothing (a generic lflow on every
// switch of a group: many thousands in a large topology) gets no entry
// in l.lflows, as l.units records it, and a whole lflow that refers to
// nothing shares one entry.
func (l *loop) setRefs(id string, refs []string) {
	if old := l.lflows[id]; old != nil {
		for _, r := range old.refs {
			l.refIndex.remove(r, id)
		}
	}
	if refs == nil {
		return
	}
	if len(refs) == 0 {
		if strings.Contains(id, "@") {
			delete(l.lflows, id)
		} else {
			l.lflows[id] = noRefs
		}
		return
	}
	for i, r := range refs {
		refs[i] = l.refIndex.add(r, id) // one string per reference, not one per unit
	}
	l.lflows[id] = &compiled{refs: refs}
}

// noRefs is the entry of every whole lflow that refers to nothing.
var noRefs = &compiled{}

// refKeys renders the compiler's references as reverse-index keys.
func refKeys(r lflowc.Refs) []string {
	out := make([]string, 0, len(r.Ports)+len(r.AddressSets)+len(r.PortGroups)+len(r.Multicast))
	add := func(kind string, names []string) {
		for _, n := range names {
			out = append(out, kind+":"+n)
		}
	}
	add("p", r.Ports)
	add("as", r.AddressSets)
	add("pg", r.PortGroups)
	add("mc", r.Multicast)
	return out
}

// lflowGroupsOwner owns the groups the compiled lflows use (load
// balancer backends); the compiler numbers and reference-counts them.
const lflowGroupsOwner = "lflowc/groups"

// compileEnv is the compiler's environment: the view and the chassis
// state.
type compileEnv struct {
	v  *sbView
	st *chassis.State
}

func (e *compileEnv) LookupPort(name string) (uint32, uint32, bool) { return e.v.LookupPort(name) }
func (e *compileEnv) LookupMulticast(dp uint32, name string) (uint32, bool) {
	return e.v.LookupMulticast(dp, name)
}
func (e *compileEnv) Resident(port string) bool {
	if e.v.Resident(port) {
		return true
	}
	_, known := e.v.ports[port]
	return known && boundHere(e.st, port)
}
func (e *compileEnv) AddressSet(name string) ([]string, bool) { return e.v.AddressSet(name) }
func (e *compileEnv) PortGroup(name string) ([]string, bool)  { return e.v.PortGroup(name) }
func (e *compileEnv) Router(dp uint32) bool                   { return e.v.Router(dp) }

// Meter maps an SB Meter name to an OpenFlow meter id. Meters are not
// installed yet, so controller actions run unmetered.
func (e *compileEnv) Meter(string) uint32 { return 0 }

// Local reports whether port is bound here, is the localnet port of a
// local datapath, or is of a type ovn-controller always counts as
// related (patch, localport, vtep), as ovn-controller decides which
// port-group members and in_out_port lflows to compile.
func (e *compileEnv) Local(port string) bool {
	if e.Resident(port) || e.v.alwaysRelated(port) {
		return true
	}
	_, ok := e.st.Localnet[port]
	return ok
}

// refPortsInOne marks the ports in exactly one of a and b as changed
// references: Local or Resident answers differently for them now.
func (d *sbDirty) refPortsInOne(a, b map[string]bool) {
	for name := range a {
		if !b[name] {
			d.ref("p", name)
		}
	}
	for name := range b {
		if !a[name] {
			d.ref("p", name)
		}
	}
}

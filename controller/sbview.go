package controller

import (
	"reflect"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbSource is where the view reads southbound rows from: libovsdb's
// cache, the SB replica (sbreplica.View has this shape), or a test's
// tables. Rows are shared and never modified: an update replaces a row.
type sbSource interface {
	// Table returns every row of table by UUID.
	Table(name string) map[string]model.Model
	// Get returns one row.
	Get(table, uuid string) (model.Model, bool)
}

// sbView is the loop's index of the southbound database, kept up to date
// row by row (apply) and rebuilt only on a Full change (load), indexed
// the way the flow producers ask: by port name, by (datapath, group
// name), by set name, lflows by datapath and datapath group. It also
// serves as the logical-flow compiler's environment.
type sbView struct {
	chassis string // this chassis's name, for is_chassis_resident

	global      *sbdb.SBGlobal
	chassisRows map[string]*sbdb.Chassis         // by UUID
	dps         map[string]*sbdb.DatapathBinding // by UUID
	dpKey       map[string]uint32                // Datapath_Binding UUID -> tunnel key
	dpByKey     map[uint32]string                // tunnel key -> Datapath_Binding UUID
	routers     map[uint32]bool                  // tunnel keys of logical router datapaths
	groupRows   map[string]*sbdb.LogicalDPGroup  // by UUID
	dpGroups    map[string][]uint32              // Logical_DP_Group UUID -> tunnel keys, computed on demand
	dpInGroups  map[string]map[string]struct{}   // Datapath_Binding UUID -> groups naming it
	portUUID    map[string]*sbdb.PortBinding
	ports       map[string]*sbdb.PortBinding // by logical_port
	mcUUID      map[string]*sbdb.MulticastGroup
	mcast       map[mcKey]*sbdb.MulticastGroup // by Datapath_Binding UUID and name
	asUUID      map[string]*sbdb.AddressSet
	addrSets    map[string][]string
	pgUUID      map[string]*sbdb.PortGroup
	portGroups  map[string][]string
	flows       map[string]*sbdb.LogicalFlow      // by UUID
	flowsByDP   map[string]map[string]struct{}    // Datapath_Binding UUID -> lflows on it alone
	flowsByGrp  map[string]map[string]struct{}    // Logical_DP_Group UUID -> lflows on it
	macBindings map[string]*sbdb.MACBinding       // by UUID
	staticMACs  map[string]*sbdb.StaticMACBinding // by UUID
	fdbs        map[string]*sbdb.FDB              // by UUID
	lbs         map[string]*sbdb.LoadBalancer     // by UUID
}

type mcKey struct {
	dp   string // Datapath_Binding UUID
	name string
}

// viewTables are the SB tables the view indexes, in the order a change
// is applied: datapaths and chassis before what refers to them.
var viewTables = []string{
	sbdb.SBGlobalTable, sbdb.ChassisTable, sbdb.DatapathBindingTable, sbdb.LogicalDPGroupTable,
	sbdb.PortBindingTable, sbdb.MulticastGroupTable, sbdb.AddressSetTable, sbdb.PortGroupTable,
	sbdb.LogicalFlowTable, sbdb.MACBindingTable, sbdb.StaticMACBindingTable, sbdb.FDBTable,
	sbdb.LoadBalancerTable,
}

func newSBView(chassis string) *sbView {
	return &sbView{chassis: chassis, chassisRows: map[string]*sbdb.Chassis{},
		dps: map[string]*sbdb.DatapathBinding{}, dpKey: map[string]uint32{}, dpByKey: map[uint32]string{},
		routers: map[uint32]bool{}, groupRows: map[string]*sbdb.LogicalDPGroup{}, dpGroups: map[string][]uint32{},
		dpInGroups: map[string]map[string]struct{}{}, portUUID: map[string]*sbdb.PortBinding{},
		ports: map[string]*sbdb.PortBinding{}, mcUUID: map[string]*sbdb.MulticastGroup{},
		mcast: map[mcKey]*sbdb.MulticastGroup{}, asUUID: map[string]*sbdb.AddressSet{}, addrSets: map[string][]string{},
		pgUUID: map[string]*sbdb.PortGroup{}, portGroups: map[string][]string{}, flows: map[string]*sbdb.LogicalFlow{},
		flowsByDP: map[string]map[string]struct{}{}, flowsByGrp: map[string]map[string]struct{}{},
		macBindings: map[string]*sbdb.MACBinding{}, staticMACs: map[string]*sbdb.StaticMACBinding{},
		fdbs: map[string]*sbdb.FDB{}, lbs: map[string]*sbdb.LoadBalancer{}}
}

// loadSBView indexes every row of src.
func loadSBView(src sbSource, chassis string) *sbView {
	v := newSBView(chassis)
	for _, t := range viewTables {
		for id, m := range src.Table(t) {
			v.set(t, id, m, nil)
		}
	}
	return v
}

// sbDirty is what a change to the view invalidates.
type sbDirty struct {
	flows  map[string]struct{} // Logical_Flow UUIDs added, modified or deleted
	refs   map[string]struct{} // compiler references ("p:name", "as:name", "pg:name", "mc:key/name") whose value may differ
	dps    map[string]struct{} // Datapath_Binding UUIDs whose lflows must compile again
	groups map[string]struct{} // Logical_DP_Group UUIDs whose lflows must compile again
	// resident are the ports whose Port_Binding changed only in being
	// bound to this chassis or not. The compiler counts a port the
	// chassis state binds as resident whatever the SB says (boundHere),
	// so the echo of a claim or a release changes its answers only for
	// a port the state did not bind both before and after: the loop
	// makes those references (loop.invalidated).
	resident map[string]struct{}
	// chassisNamed are the Chassis UUIDs whose name changed: added,
	// deleted or renamed.
	chassisNamed map[string]struct{}
	phys         bool // something the physical flows read changed
}

func newSBDirty() *sbDirty {
	return &sbDirty{flows: map[string]struct{}{}, refs: map[string]struct{}{}, dps: map[string]struct{}{},
		groups: map[string]struct{}{}, resident: map[string]struct{}{}, chassisNamed: map[string]struct{}{}}
}

func (d *sbDirty) ref(kind, name string) { d.refs[kind+":"+name] = struct{}{} }

// apply brings the view in line with src for the rows in ch (not Full:
// the caller loads a new view for that) and returns what they
// invalidate.
func (v *sbView) apply(src sbSource, ch changeSet) *sbDirty {
	d := newSBDirty()
	var dpsChanged bool
	for _, t := range viewTables {
		ids := ch.Tables[t]
		// Many changed rows (a new connection's rows arriving as
		// events after the view was loaded) are read in one go, shared
		// with the source rather than copied one by one.
		var rows map[string]model.Model
		if len(ids) >= bulkRead {
			rows = src.Table(t)
		}
		for id := range ids {
			var m model.Model
			if rows != nil {
				m = rows[id]
			} else {
				m, _ = src.Get(t, id)
			}
			v.set(t, id, m, d)
		}
		if t == sbdb.DatapathBindingTable {
			dpsChanged = len(ids) > 0
		}
	}
	// A chassis renamed, new or gone changes is_chassis_resident of the
	// ports bound to it (any other change of a Chassis row, as this
	// chassis' own registration makes, does not); a datapath's key
	// changes its ports' keys.
	if len(d.chassisNamed) > 0 || dpsChanged {
		for name, pb := range v.ports {
			_, onDP := d.dps[pb.Datapath]
			if onDP {
				d.ref("p", name)
			} else if pb.Chassis != nil {
				if _, ok := d.chassisNamed[*pb.Chassis]; ok {
					d.ref("p", name)
				}
			}
		}
	}
	return d
}

// bulkRead is the number of changed rows of a table from which apply
// reads the whole table from the source instead of row by row.
const bulkRead = 128

// set replaces row id of table with m (nil: deleted), noting in d (if
// not nil) what that invalidates.
func (v *sbView) set(table, id string, m model.Model, d *sbDirty) {
	switch table {
	case sbdb.SBGlobalTable:
		g, _ := m.(*sbdb.SBGlobal)
		if g != nil || (v.global != nil && v.global.UUID == id) {
			v.global = g
		}
	case sbdb.ChassisTable:
		old := v.chassisRows[id]
		n := setRow(v.chassisRows, id, m)
		if d != nil && (old == nil || n == nil || old.Name != n.Name) {
			d.chassisNamed[id] = struct{}{}
		}
		d.markPhys()
	case sbdb.DatapathBindingTable:
		v.setDatapath(id, m, d)
	case sbdb.LogicalDPGroupTable:
		v.setGroup(id, m, d)
	case sbdb.PortBindingTable:
		v.setPort(id, m, d)
	case sbdb.MulticastGroupTable:
		v.setMulticast(id, m, d)
	case sbdb.AddressSetTable:
		old := v.asUUID[id]
		if old != nil {
			delete(v.addrSets, old.Name)
			d.markRef("as", old.Name)
		}
		if n := setRow(v.asUUID, id, m); n != nil {
			v.addrSets[n.Name] = nonNil(n.Addresses)
			d.markRef("as", n.Name)
		}
	case sbdb.PortGroupTable:
		old := v.pgUUID[id]
		if old != nil {
			delete(v.portGroups, old.Name)
			d.markRef("pg", old.Name)
		}
		if n := setRow(v.pgUUID, id, m); n != nil {
			v.portGroups[n.Name] = nonNil(n.Ports)
			d.markRef("pg", n.Name)
		}
	case sbdb.LogicalFlowTable:
		v.setFlow(id, m, d)
	case sbdb.MACBindingTable:
		setRow(v.macBindings, id, m)
		d.markPhys()
	case sbdb.StaticMACBindingTable:
		setRow(v.staticMACs, id, m)
		d.markPhys()
	case sbdb.FDBTable:
		setRow(v.fdbs, id, m)
		d.markPhys()
	case sbdb.LoadBalancerTable:
		setRow(v.lbs, id, m)
	}
}

// nonNil keeps an empty set distinct from a missing one.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *sbDirty) markPhys() {
	if d != nil {
		d.phys = true
	}
}

func (d *sbDirty) markRef(kind, name string) {
	if d != nil {
		d.ref(kind, name)
	}
}

// setRow stores m (of type *T) as row id of rows, or deletes the row
// when m is nil or of another type; it returns the new row.
func setRow[T any](rows map[string]*T, id string, m model.Model) *T {
	r, _ := m.(*T)
	if r == nil {
		delete(rows, id)
		return nil
	}
	rows[id] = r
	return r
}

func (v *sbView) setDatapath(id string, m model.Model, d *sbDirty) {
	if n, _ := m.(*sbdb.DatapathBinding); n != nil && v.dps[id] != nil && (n == v.dps[id] || reflect.DeepEqual(n, v.dps[id])) {
		// The row the view holds: a new connection's rows arriving as
		// events after the view was loaded, while the replica's load in
		// parts holds the install back; every lflow on the datapath
		// would compile again for nothing.
		return
	}
	if old := v.dps[id]; old != nil {
		k := uint32(old.TunnelKey)
		delete(v.dpKey, id)
		if v.dpByKey[k] == id {
			delete(v.dpByKey, k)
			delete(v.routers, k)
		}
	}
	if n := setRow(v.dps, id, m); n != nil {
		k := uint32(n.TunnelKey)
		v.dpKey[id], v.dpByKey[k] = k, id
		if _, ok := n.ExternalIDs["logical-router"]; ok {
			v.routers[k] = true
		}
	}
	for g := range v.dpInGroups[id] {
		delete(v.dpGroups, g)
		if d != nil {
			d.groups[g] = struct{}{}
		}
	}
	if d != nil {
		d.dps[id] = struct{}{}
		d.phys = true
	}
}

func (v *sbView) setGroup(id string, m model.Model, d *sbDirty) {
	if old := v.groupRows[id]; old != nil {
		for _, dp := range old.Datapaths {
			delete(v.dpInGroups[dp], id)
			if len(v.dpInGroups[dp]) == 0 {
				delete(v.dpInGroups, dp)
			}
		}
	}
	delete(v.dpGroups, id)
	if n := setRow(v.groupRows, id, m); n != nil {
		for _, dp := range n.Datapaths {
			addTo(v.dpInGroups, dp, id)
		}
	}
	if d != nil {
		d.groups[id] = struct{}{}
	}
}

func (v *sbView) setPort(id string, m model.Model, d *sbDirty) {
	old := v.portUUID[id]
	if n, _ := m.(*sbdb.PortBinding); n != nil && n == old {
		return // the very row the view holds: the source shares its rows
	}
	if old != nil && v.ports[old.LogicalPort] == old {
		delete(v.ports, old.LogicalPort)
	}
	n := setRow(v.portUUID, id, m)
	if n != nil {
		v.ports[n.LogicalPort] = n
	}
	if d == nil {
		return
	}
	// Port_Binding.up and the like change often (a port claimed, marked
	// up) and matter to neither the compiler nor the physical flows.
	switch {
	case old != nil && n != nil && compileEqualPort(old, n):
		if v.residentRow(old) != v.residentRow(n) {
			// The port's claim by this chassis, or its release, coming
			// back: whether Resident answers otherwise depends on what
			// the chassis state bound (see sbDirty.resident).
			d.resident[n.LogicalPort] = struct{}{}
		}
	default:
		if old != nil {
			d.ref("p", old.LogicalPort)
		}
		if n != nil {
			d.ref("p", n.LogicalPort)
		}
	}
	if old == nil || n == nil || old.Datapath != n.Datapath ||
		!reflect.DeepEqual(physical.PortFromBinding(old, v.chassisNameOf), physical.PortFromBinding(n, v.chassisNameOf)) {
		d.phys = true
	}
}

// compileEqualPort reports whether two versions of a Port_Binding look
// the same to the compiler but for whether they are bound to this
// chassis (residentRow): LookupPort, Resident and Local read only these
// columns. A port that moves between two other chassis is the same to
// the compiler (the physical flows see the move).
func compileEqualPort(a, b *sbdb.PortBinding) bool {
	return a.LogicalPort == b.LogicalPort && a.Datapath == b.Datapath && a.TunnelKey == b.TunnelKey &&
		a.Type == b.Type
}

// residentRow reports whether pb is bound to this chassis.
func (v *sbView) residentRow(pb *sbdb.PortBinding) bool {
	return v.chassisName(pb.Chassis) == v.chassis
}

func (v *sbView) setMulticast(id string, m model.Model, d *sbDirty) {
	mcRef := func(mc *sbdb.MulticastGroup) {
		if k, ok := v.dpKey[mc.Datapath]; ok {
			d.markRef("mc", strconv.FormatUint(uint64(k), 10)+"/"+mc.Name)
		}
	}
	old := v.mcUUID[id]
	if old != nil {
		if k := (mcKey{old.Datapath, old.Name}); v.mcast[k] == old {
			delete(v.mcast, k)
		}
	}
	n := setRow(v.mcUUID, id, m)
	if n != nil {
		v.mcast[mcKey{n.Datapath, n.Name}] = n
	}
	if d == nil {
		return
	}
	d.phys = true
	// The compiler reads a group's key by datapath and name, not its
	// members.
	if old == nil || n == nil || old.Datapath != n.Datapath || old.Name != n.Name || old.TunnelKey != n.TunnelKey {
		if old != nil {
			mcRef(old)
		}
		if n != nil {
			mcRef(n)
		}
	}
}

func (v *sbView) setFlow(id string, m model.Model, d *sbDirty) {
	if old := v.flows[id]; old != nil {
		if old.LogicalDatapath != nil {
			removeFrom(v.flowsByDP, *old.LogicalDatapath, id)
		}
		if old.LogicalDpGroup != nil {
			removeFrom(v.flowsByGrp, *old.LogicalDpGroup, id)
		}
	}
	if n := setRow(v.flows, id, m); n != nil {
		if n.LogicalDatapath != nil {
			addTo(v.flowsByDP, *n.LogicalDatapath, id)
		}
		if n.LogicalDpGroup != nil {
			addTo(v.flowsByGrp, *n.LogicalDpGroup, id)
		}
	}
	if d != nil {
		d.flows[id] = struct{}{}
	}
}

func addTo(idx map[string]map[string]struct{}, key, id string) {
	s := idx[key]
	if s == nil {
		s = map[string]struct{}{}
		idx[key] = s
	}
	s[id] = struct{}{}
}

func removeFrom(idx map[string]map[string]struct{}, key, id string) {
	if s := idx[key]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(idx, key)
		}
	}
}

// chassisName returns the name of the Chassis row with UUID id, or "".
func (v *sbView) chassisName(id *string) string {
	if id == nil {
		return ""
	}
	if ch, ok := v.chassisRows[*id]; ok {
		return ch.Name
	}
	return ""
}

// chassisNameOf returns the name of the Chassis row with UUID id, or "".
func (v *sbView) chassisNameOf(id string) string { return v.chassisName(&id) }

// groupKeys returns the tunnel keys of the datapaths of Logical_DP_Group
// id that exist, computing them once per change.
func (v *sbView) groupKeys(id string) []uint32 {
	if keys, ok := v.dpGroups[id]; ok {
		return keys
	}
	g := v.groupRows[id]
	if g == nil {
		return nil
	}
	keys := make([]uint32, 0, len(g.Datapaths))
	for _, d := range g.Datapaths {
		if k, ok := v.dpKey[d]; ok {
			keys = append(keys, k)
		}
	}
	v.dpGroups[id] = keys
	return keys
}

// flowDatapaths returns the tunnel keys of the datapaths lf applies to.
func (v *sbView) flowDatapaths(lf *sbdb.LogicalFlow) []uint32 {
	if lf.LogicalDatapath != nil {
		if k, ok := v.dpKey[*lf.LogicalDatapath]; ok {
			return []uint32{k}
		}
		return nil
	}
	if lf.LogicalDpGroup != nil {
		return v.groupKeys(*lf.LogicalDpGroup)
	}
	return nil
}

// LookupPort resolves a logical port name to its datapath and port keys.
func (v *sbView) LookupPort(name string) (dp, port uint32, ok bool) {
	pb, ok := v.ports[name]
	if !ok {
		return 0, 0, false
	}
	dp, ok = v.dpKey[pb.Datapath]
	return dp, uint32(pb.TunnelKey), ok
}

// LookupMulticast resolves a multicast group on datapath dp.
func (v *sbView) LookupMulticast(dp uint32, name string) (uint32, bool) {
	id, ok := v.dpByKey[dp]
	if !ok {
		return 0, false
	}
	mc, ok := v.mcast[mcKey{id, name}]
	if !ok {
		return 0, false
	}
	return uint32(mc.TunnelKey), true
}

// Resident reports whether port is bound to this chassis.
func (v *sbView) Resident(port string) bool {
	pb, ok := v.ports[port]
	return ok && v.chassisName(pb.Chassis) == v.chassis
}

// lbDatapaths returns the tunnel keys of the datapaths lb applies to.
func (v *sbView) lbDatapaths(lb *sbdb.LoadBalancer) []uint32 {
	var keys []uint32
	for _, d := range lb.Datapaths {
		if k, ok := v.dpKey[d]; ok {
			keys = append(keys, k)
		}
	}
	if lb.DatapathGroup != nil {
		keys = append(keys, v.groupKeys(*lb.DatapathGroup)...)
	}
	return keys
}

// remotePeers returns the peers of the patch (and l3gateway) ports
// among ports that sit on datapaths not in local (by Datapath_Binding
// UUID), for physical.Input.Peers.
func (v *sbView) remotePeers(ports []physical.Port, local map[string]uint32) []physical.Port {
	var out []physical.Port
	for _, p := range ports {
		if p.Type != physical.TypePatch && p.Type != physical.TypeL3Gateway || p.Peer == "" {
			continue
		}
		pb, ok := v.ports[p.Peer]
		if !ok {
			continue
		}
		if _, isLocal := local[pb.Datapath]; isLocal {
			continue
		}
		dp, ok := v.dpKey[pb.Datapath]
		if !ok {
			continue
		}
		peer := physical.PortFromBinding(pb, v.chassisNameOf)
		peer.Datapath = dp
		out = append(out, peer)
	}
	return out
}

// alwaysRelated reports whether port is of a type ovn-controller's
// binding adds to its related ports wherever it is bound: a router's
// patch ports (and a switch's side of them), localports and vtep ports.
// Their inport/outport lflows are compiled on every chassis that has
// their datapath.
func (v *sbView) alwaysRelated(port string) bool {
	pb, ok := v.ports[port]
	if !ok {
		return false
	}
	switch pb.Type {
	case "patch", "localport", "vtep":
		return true
	}
	return false
}

// AddressSet returns the addresses of an SB Address_Set.
func (v *sbView) AddressSet(name string) ([]string, bool) {
	s, ok := v.addrSets[name]
	return s, ok
}

// PortGroup returns the ports of an SB Port_Group.
func (v *sbView) PortGroup(name string) ([]string, bool) {
	s, ok := v.portGroups[name]
	return s, ok
}

// Router reports whether datapath dp is a logical router.
func (v *sbView) Router(dp uint32) bool { return v.routers[dp] }

// portByUUID returns the Port_Binding with UUID id, or nil.
func (v *sbView) portByUUID(id string) *sbdb.PortBinding { return v.portUUID[id] }

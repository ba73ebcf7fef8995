package chassis

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// seen is what the last Reconcile read, reduced to what its writes and
// its State depend on, so that Affected can tell a change that matters
// from one that does not (the SB's nb_cfg moving, a port bound to
// another chassis, the statistics of an interface, the Manager's own
// writes coming back).
type seen struct {
	chUUID   string
	ovs      map[string]map[string]string // table -> row UUID -> digest: every row of the OVS tables read
	private  map[string]string            // Chassis_Private UUID -> digest
	pbs      map[string]string            // Port_Binding UUID -> digest, of the bindings followed
	ifaceIDs map[string]bool              // the iface-ids on the integration bridge
}

// ovsTables are the Open_vSwitch tables Reconcile reads.
var ovsTables = []string{vswitch.OpenvSwitchTable, vswitch.BridgeTable, vswitch.PortTable, vswitch.InterfaceTable}

// Affected reports whether changes to rows of the local OVS database
// (ovs) and of the SB (sb), each table -> row UUIDs, as the clients'
// caches hold them now, can make Reconcile write anything or return
// another State than its last one did. It compares each changed row with
// what the last Reconcile read of it (only the columns the Manager
// reads; its own writes since, by Reconcile, MarkInstalled and
// ReportNbCfg, as it expects them to come back); a Port_Binding it did
// not follow matters only if it now names an interface here, is bound
// here, is a container of a port here or is not a plain VIF. Before a
// Reconcile has succeeded every change matters.
func (m *Manager) Affected(ovs, sb map[string]map[string]struct{}) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.seen
	if s == nil {
		return len(ovs)+len(sb) > 0
	}
	for _, t := range ovsTables {
		if len(ovs[t]) == 0 {
			continue
		}
		// The Open_vSwitch models have no DeepCopy: libovsdb would copy
		// a row through JSON, so look rows up in the (small) table.
		rows := shallowRows(m.ovs, t)
		for id := range ovs[t] {
			now, ok := ovsDigest(rows[id])
			if old, had := s.ovs[t][id]; (ok != had || now != old) && !s.pendingOVS(m.ovs, t, id, rows[id]) {
				m.log.Debug("reconcile for a change", "db", "Open_vSwitch", "table", t, "row", id)
				return true
			}
		}
	}
	for t, ids := range sb {
		if id, ok := s.sbAffected(m.sb, t, ids); ok {
			m.log.Debug("reconcile for a change", "db", "OVN_Southbound", "table", t, "row", id)
			return true
		}
	}
	return false
}

// pendingOVS reports whether the change of row (id, of OVS table t) can
// wait for the next: an interface added since the last Reconcile that
// has no OpenFlow port yet, a port added since whose interfaces are all
// such, or a bridge whose only change is such ports added. Reconcile
// reads nothing of them until ovs-vswitchd gives them an OpenFlow port,
// which comes as a change of its own; a port plugged in (ovs-vsctl
// add-port) no longer costs a Reconcile before that one, which it
// could delay.
func (s *seen) pendingOVS(c client.Client, t, id string, row model.Model) bool {
	switch r := row.(type) {
	case *vswitch.Interface:
		return s.pendingIface(r)
	case *vswitch.Port:
		return s.pendingPort(c, r, nil)
	case *vswitch.Bridge:
		old, had := s.ovs[t][id]
		if !had {
			return false
		}
		ifaces := shallowRows(c, vswitch.InterfaceTable)
		ports := shallowRows(c, vswitch.PortTable)
		n := *r
		n.Ports = nil
		for _, p := range r.Ports {
			if pr, _ := ports[p].(*vswitch.Port); pr == nil || !s.pendingPort(c, pr, ifaces) {
				n.Ports = append(n.Ports, p)
			}
		}
		if len(n.Ports) == len(r.Ports) {
			return false
		}
		d, _ := ovsDigest(&n)
		return d == old
	}
	return false
}

// pendingIface reports whether f is new since the last Reconcile and
// has no OpenFlow port yet.
func (s *seen) pendingIface(f *vswitch.Interface) bool {
	_, had := s.ovs[vswitch.InterfaceTable][f.UUID]
	return !had && (f.Ofport == nil || *f.Ofport <= 0)
}

// pendingPort reports whether p is new since the last Reconcile and all
// its interfaces are (pendingIface); ifaces is the Interface table, nil
// to read it.
func (s *seen) pendingPort(c client.Client, p *vswitch.Port, ifaces map[string]model.Model) bool {
	if _, had := s.ovs[vswitch.PortTable][p.UUID]; had || len(p.Interfaces) == 0 {
		return false
	}
	if ifaces == nil {
		ifaces = shallowRows(c, vswitch.InterfaceTable)
	}
	for _, id := range p.Interfaces {
		if f, _ := ifaces[id].(*vswitch.Interface); f == nil || !s.pendingIface(f) {
			return false
		}
	}
	return true
}

// sbAffected returns a row of the changed rows ids of SB table t whose
// change matters, if one does.
func (s *seen) sbAffected(c client.Client, t string, ids map[string]struct{}) (string, bool) {
	switch t {
	case sbdb.PortBindingTable:
		for id := range ids {
			pb, _ := cachedRow(c, t, id).(*sbdb.PortBinding)
			old, followed := s.pbs[id]
			if followed && (pb == nil || pbDigest(pb) != old) || !followed && pb != nil && s.follows(pb) {
				return id, true
			}
		}
	case sbdb.ChassisPrivateTable:
		for id := range ids {
			p, _ := cachedRow(c, t, id).(*sbdb.ChassisPrivate)
			old, had := s.private[id]
			if (p != nil) != had || p != nil && privateDigest(p) != old {
				return id, true
			}
		}
	case sbdb.ChassisTable, sbdb.EncapTable, sbdb.DatapathBindingTable, sbdb.HAChassisGroupTable, sbdb.HAChassisTable:
		// Small tables that rarely change: every change.
		for id := range ids {
			return id, true
		}
	}
	return "", false // nothing that matters, or a table Reconcile does not read (SB_Global...)
}

// follows reports whether binding pb can matter to Reconcile: not a
// plain VIF (patch, localnet, gateway, localport... ports shape the
// local datapaths, localnet patches and gateways), bound here, named by
// an interface here, or a container (few, and bound where their parent
// is). Other VIFs are someone else's.
func (s *seen) follows(pb *sbdb.PortBinding) bool {
	return pb.Type != typeVIF || pb.Chassis != nil && *pb.Chassis == s.chUUID || s.ifaceIDs[pb.LogicalPort] ||
		pb.ParentPort != nil
}

// shallowRows returns the rows of table in c's cache, shared with it
// (read them, never modify them), by UUID.
func shallowRows(c client.Client, table string) map[string]model.Model {
	cache := c.Cache()
	if cache == nil {
		return nil
	}
	rc := cache.Table(table)
	if rc == nil {
		return nil
	}
	return rc.RowsShallow()
}

// cachedRow returns a copy of row id of table from c's cache, or nil.
func cachedRow(c client.Client, table, id string) model.Model {
	cache := c.Cache()
	if cache == nil {
		return nil
	}
	rc := cache.Table(table)
	if rc == nil {
		return nil
	}
	return rc.Row(id)
}

// remember records what Reconcile decided from: read and sbv, with the
// rows it updated in the OVS (updated) as it read them back after its
// writes (after), the claims and releases of b as they will come back.
// A row someone else changed meanwhile keeps the version Reconcile
// read, so that its change still counts; rows inserted meanwhile (its
// own tunnels and patch ports too) are not recorded, and count.
func (m *Manager) remember(read, after *ovsView, updated map[string]bool, sbv *sbView, b *binding, chUUID string) {
	s := &seen{chUUID: chUUID, ovs: map[string]map[string]string{}, private: map[string]string{},
		pbs: map[string]string{}, ifaceIDs: map[string]bool{}}
	for _, id := range b.ifaceIDs {
		s.ifaceIDs[id] = true
	}
	note := func(t, id string, row model.Model) {
		if s.ovs[t] == nil {
			s.ovs[t] = map[string]string{}
		}
		s.ovs[t][id], _ = ovsDigest(row)
	}
	note(vswitch.OpenvSwitchTable, read.root.UUID, after.rootAs(read.root, updated))
	for _, br := range read.bridges {
		note(vswitch.BridgeTable, br.UUID, after.bridgeAs(br, updated))
	}
	for id, p := range read.ports {
		note(vswitch.PortTable, id, pick(p, after.ports[id], updated[id]))
	}
	for id, f := range read.ifaces {
		note(vswitch.InterfaceTable, id, pick(f, after.ifaces[id], updated[id]))
	}
	for _, p := range sbv.privates {
		s.private[p.UUID] = privateDigest(p)
	}
	written := map[string]*sbdb.PortBinding{}
	for _, pb := range b.claim {
		written[pb.UUID] = claimedRow(pb, &chUUID)
	}
	for _, pb := range b.release {
		written[pb.UUID] = claimedRow(pb, nil)
	}
	changed := m.pbx.takeChanged()
	if prev := m.lastSeen; prev != nil && prev.chUUID == chUUID {
		// Only the bindings that changed since the last Reconcile, that
		// it wrote, or whose name an interface here took or left, can
		// be followed differently (or have another digest).
		s.pbs = maps.Clone(prev.pbs)
		for id := range written {
			changed[id] = struct{}{}
		}
		for name := range symmetricDiff(prev.ifaceIDs, s.ifaceIDs) {
			if pb := sbv.pbs[name]; pb != nil {
				changed[pb.UUID] = struct{}{}
			}
		}
		for id := range changed {
			s.rememberPB(id, m.pbx.rows[id], sbv, written)
		}
	} else {
		for _, pb := range sbv.pbs {
			s.rememberPB(pb.UUID, pb, sbv, written)
		}
	}
	m.seen, m.lastSeen = s, s
}

// rememberPB records (or forgets) the digest of binding id: pb as the
// cache has it (nil if gone), or as this Reconcile wrote it.
func (s *seen) rememberPB(id string, pb *sbdb.PortBinding, sbv *sbView, written map[string]*sbdb.PortBinding) {
	if pb == nil || sbv.pbs[pb.LogicalPort] != pb {
		delete(s.pbs, id) // gone, or a row its name does not stand for
		return
	}
	if n := written[id]; n != nil {
		pb = n
	}
	if s.follows(pb) {
		s.pbs[id] = pbDigest(pb)
	} else {
		delete(s.pbs, id)
	}
}

func symmetricDiff(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		if !b[k] {
			out[k] = true
		}
	}
	for k := range b {
		if !a[k] {
			out[k] = true
		}
	}
	return out
}

// pick is the version of a row to remember: the one read back after
// the writes if this Reconcile updated the row, else the one it read.
func pick[T any](read, after *T, updated bool) *T {
	if updated && after != nil {
		return after
	}
	return read
}

func (v *ovsView) rootAs(read *vswitch.OpenvSwitch, updated map[string]bool) *vswitch.OpenvSwitch {
	if v.root.UUID != read.UUID {
		return read
	}
	return pick(read, v.root, updated[read.UUID])
}

func (v *ovsView) bridgeAs(read *vswitch.Bridge, updated map[string]bool) *vswitch.Bridge {
	for _, br := range v.bridges {
		if br.UUID == read.UUID {
			return pick(read, br, updated[read.UUID])
		}
	}
	return read
}

// updatedRows are the UUIDs of the rows ops update or mutate.
func updatedRows(ops []ovsdb.Operation) map[string]bool {
	out := map[string]bool{}
	for _, op := range ops {
		if op.Op != ovsdb.OperationUpdate && op.Op != ovsdb.OperationMutate {
			continue
		}
		for _, c := range op.Where {
			if u, ok := c.Value.(ovsdb.UUID); ok && c.Column == "_uuid" {
				out[u.GoUUID] = true
			}
		}
	}
	return out
}

// claimedRow is pb as claimOps leaves it when it binds pb to chassis
// (nil: releases it).
func claimedRow(pb *sbdb.PortBinding, chassis *string) *sbdb.PortBinding {
	n := *pb
	n.Chassis = chassis
	if pb.Up != nil && *pb.Up {
		f := false
		n.Up = &f
	}
	if chassis != nil {
		n.Encap = nil
	}
	return &n
}

// expectUp records that MarkInstalled set Port_Binding.up of pb.
func (s *seen) expectUp(pb *sbdb.PortBinding) {
	if _, ok := s.pbs[pb.UUID]; ok {
		n := *pb
		up := true
		n.Up = &up
		s.pbs[pb.UUID] = pbDigest(&n)
	}
}

// expectInstalled records that MarkInstalled set ovn-installed on f.
func (s *seen) expectInstalled(f *vswitch.Interface) {
	n := *f
	n.ExternalIDs = maps.Clone(f.ExternalIDs)
	if n.ExternalIDs == nil {
		n.ExternalIDs = map[string]string{}
	}
	n.ExternalIDs[OVNInstalledKey] = "true"
	if t := s.ovs[vswitch.InterfaceTable]; t != nil {
		if _, ok := t[f.UUID]; ok {
			t[f.UUID], _ = ovsDigest(&n)
		}
	}
}

// Keys the Manager writes that Reconcile does not read back: the times
// of ovn-installed, and the nb_cfg ReportNbCfg reports on the bridge.
var unread = map[string]bool{OVNInstalledTSKey: true, nbCfgKey: true, nbCfgTSKey: true}

// ovsDigest renders the columns the Manager reads of an OVS row (not the
// statistics and status columns ovs-vswitchd keeps updating); false if
// there is no row.
func ovsDigest(row model.Model) (string, bool) {
	var d digest
	switch r := row.(type) {
	case *vswitch.OpenvSwitch:
		d.m(r.ExternalIDs).m(r.OtherConfig).l(r.DatapathTypes).l(r.IfaceTypes).v(r.DpdkInitialized).l(r.Bridges)
	case *vswitch.Bridge:
		optional(d.v(r.Name).l(r.Ports).m(r.ExternalIDs).v(r.DatapathType), r.FailMode).m(r.OtherConfig)
	case *vswitch.Port:
		d.v(r.Name).l(r.Interfaces).m(r.ExternalIDs)
	case *vswitch.Interface:
		optional(d.v(r.Name).v(r.Type).m(r.Options), r.Ofport).m(r.ExternalIDs)
	default:
		return "", false
	}
	return d.String(), true
}

// pbDigest renders the columns the Manager reads of a Port_Binding.
func pbDigest(pb *sbdb.PortBinding) string {
	var d digest
	d.v(pb.LogicalPort).v(pb.Datapath).v(pb.Type).v(pb.TunnelKey).m(pb.Options)
	optional(&d, pb.Up)
	optional(&d, pb.Tag)
	optional(&d, pb.ParentPort)
	optional(&d, pb.RequestedChassis)
	optional(&d, pb.Chassis)
	optional(&d, pb.HaChassisGroup)
	optional(&d, pb.Encap)
	d.l(pb.MAC).l(pb.GatewayChassis).l(pb.AdditionalChassis).l(pb.RequestedAdditionalChassis)
	return d.String()
}

// privateDigest renders a Chassis_Private row without the nb_cfg that
// ReportNbCfg (and every other chassis) keeps moving.
func privateDigest(priv *sbdb.ChassisPrivate) string {
	var d digest
	optional(d.v(priv.Name), priv.Chassis).m(priv.ExternalIDs)
	return d.String()
}

// digest renders values one after the other, each ended by a byte no
// value holds.
type digest struct{ strings.Builder }

func (d *digest) v(x any) *digest {
	// The common kinds without fmt: a Reconcile digests every port and
	// interface on the bridges, over 200 rows in a large chassis.
	switch x := x.(type) {
	case string:
		d.WriteString(x)
	case int:
		var b [20]byte
		d.Write(strconv.AppendInt(b[:0], int64(x), 10))
	case bool:
		d.WriteString(strconv.FormatBool(x))
	default:
		fmt.Fprint(&d.Builder, x)
	}
	d.WriteByte(0)
	return d
}

// optional renders a pointer's value, or a mark for nil.
func optional[T any](d *digest, x *T) *digest {
	if x == nil {
		d.WriteByte(1)
		return d
	}
	return d.v(*x)
}

func (d *digest) l(xs []string) *digest {
	for _, x := range xs {
		d.WriteString(x)
		d.WriteByte(2)
	}
	d.WriteByte(0)
	return d
}

// m renders a map in key order, leaving out the keys Reconcile does not
// read. A large map (the integration bridge's external_ids hold a
// conntrack zone per port and two per local datapath: over 1,000 keys
// in the benchmark's topology) is rendered as its size and two 64-bit
// sums of its entries' hashes, which need no sort: digesting the bridge
// took 2.5 ms, once per Reconcile and once per change Affected looks at.
func (d *digest) m(kv map[string]string) *digest {
	if len(kv) > hashedMap {
		var n, s1, s2 uint64
		for k, v := range kv {
			if unread[k] {
				continue
			}
			n++
			s1 += entryHash(digestSeeds[0], k, v)
			s2 += entryHash(digestSeeds[1], k, v)
		}
		var b [24]byte
		binary.LittleEndian.PutUint64(b[:], n)
		binary.LittleEndian.PutUint64(b[8:], s1)
		binary.LittleEndian.PutUint64(b[16:], s2)
		d.WriteByte(4)
		d.Write(b[:])
		d.WriteByte(0)
		return d
	}
	for _, k := range sortedKeys(kv) {
		if !unread[k] {
			d.WriteString(k)
			d.WriteByte(3)
			d.WriteString(kv[k])
			d.WriteByte(2)
		}
	}
	d.WriteByte(0)
	return d
}

// hashedMap is the size above which digest.m hashes a map instead of
// rendering it.
const hashedMap = 32

// digestSeeds seed the two hashes of a large map's entries; digests are
// only compared within one process.
var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// entryHash hashes one map entry, key and value apart.
func entryHash(seed maphash.Seed, k, v string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(k)
	h.WriteByte(3)
	h.WriteString(v)
	return h.Sum64()
}

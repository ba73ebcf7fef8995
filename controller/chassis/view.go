package chassis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	libcache "github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/controller/cacherows"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// ovsView is a snapshot of the local Open_vSwitch database, read from the
// client's cache.
type ovsView struct {
	root     *vswitch.OpenvSwitch
	bridges  map[string]*vswitch.Bridge // by name
	portOwn  map[string]string          // port uuid -> bridge name
	ports    map[string]*vswitch.Port   // by uuid
	ifaces   map[string]*vswitch.Interface
	ifaceOwn map[string]string // interface uuid -> port uuid
}

func readOVS(_ context.Context, c client.Client) (*ovsView, error) {
	roots, err := rows[vswitch.OpenvSwitch](c, vswitch.OpenvSwitchTable)
	if err != nil {
		return nil, fmt.Errorf("read ovs cache: %w", err)
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("read ovs cache: %d Open_vSwitch rows, want 1 (is the Open_vSwitch table monitored?)", len(roots))
	}
	bridges, err1 := rows[vswitch.Bridge](c, vswitch.BridgeTable)
	ports, err2 := rows[vswitch.Port](c, vswitch.PortTable)
	ifaces, err3 := rows[vswitch.Interface](c, vswitch.InterfaceTable)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("read ovs cache: %w", err)
	}
	v := &ovsView{root: roots[0], bridges: map[string]*vswitch.Bridge{}, portOwn: map[string]string{},
		ports: map[string]*vswitch.Port{}, ifaces: map[string]*vswitch.Interface{}, ifaceOwn: map[string]string{}}
	for _, b := range bridges {
		v.bridges[b.Name] = b
		for _, p := range b.Ports {
			v.portOwn[p] = b.Name
		}
	}
	for _, p := range ports {
		v.ports[p.UUID] = p
		for _, f := range p.Interfaces {
			v.ifaceOwn[f] = p.UUID
		}
	}
	for _, f := range ifaces {
		v.ifaces[f.UUID] = f
	}
	return v, nil
}

// rows returns the cached rows of table without copying them (see
// cacherows.Rows): read them, never modify them.
func rows[T any](c client.Client, table string) ([]*T, error) { return cacherows.Rows[T](c, table) }

// bridgePorts returns the ports of bridge name, sorted by name.
func (v *ovsView) bridgePorts(name string) []*vswitch.Port {
	b := v.bridges[name]
	if b == nil {
		return nil
	}
	var out []*vswitch.Port
	for _, u := range b.Ports {
		if p := v.ports[u]; p != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// portIfaces returns the interfaces of port p.
func (v *ovsView) portIfaces(p *vswitch.Port) []*vswitch.Interface {
	var out []*vswitch.Interface
	for _, u := range p.Interfaces {
		if f := v.ifaces[u]; f != nil {
			out = append(out, f)
		}
	}
	return out
}

// sbView is a snapshot of the SB tables the manager reads.
type sbView struct {
	chassis  map[string]*sbdb.Chassis // by name
	chByUUID map[string]*sbdb.Chassis
	encaps   map[string]*sbdb.Encap // by uuid
	privates map[string]*sbdb.ChassisPrivate
	pbs      map[string]*sbdb.PortBinding   // by logical port
	pbsByDP  map[string][]*sbdb.PortBinding // by datapath uuid
	idx      *pbIndex                       // pbs and pbsByDP come from it, with its other indexes
	dps      map[string]*sbdb.DatapathBinding
	ha       haView
}

// readSB reads the SB tables the Manager needs from c's cache. The
// Port_Bindings, by far the largest, are indexed through x (nil: anew),
// which keeps the index between calls and redoes only the rows that
// changed; the view's pbs and pbsByDP are x's and valid until the next
// call.
func readSB(_ context.Context, c client.Client, x *pbIndex) (*sbView, error) {
	chs, err1 := rows[sbdb.Chassis](c, sbdb.ChassisTable)
	encaps, err2 := rows[sbdb.Encap](c, sbdb.EncapTable)
	privs, err3 := rows[sbdb.ChassisPrivate](c, sbdb.ChassisPrivateTable)
	if x == nil {
		x = &pbIndex{}
	}
	err4 := x.update(c)
	dps, err5 := rows[sbdb.DatapathBinding](c, sbdb.DatapathBindingTable)
	groups, err6 := rows[sbdb.HAChassisGroup](c, sbdb.HAChassisGroupTable)
	members, err7 := rows[sbdb.HAChassis](c, sbdb.HAChassisTable)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return nil, fmt.Errorf("read sb cache: %w", err)
	}
	v := &sbView{chassis: map[string]*sbdb.Chassis{}, chByUUID: map[string]*sbdb.Chassis{},
		encaps: map[string]*sbdb.Encap{}, privates: map[string]*sbdb.ChassisPrivate{},
		pbs: x.byName, pbsByDP: x.byDP, idx: x, dps: make(map[string]*sbdb.DatapathBinding, len(dps)),
		ha: haView{groups: map[string]*sbdb.HAChassisGroup{}, members: map[string]*sbdb.HAChassis{}}}
	for _, g := range groups {
		v.ha.groups[g.UUID] = g
	}
	for _, m := range members {
		v.ha.members[m.UUID] = m
	}
	for _, ch := range chs {
		v.chassis[ch.Name] = ch
		v.chByUUID[ch.UUID] = ch
	}
	for _, e := range encaps {
		v.encaps[e.UUID] = e
	}
	for _, p := range privs {
		v.privates[p.Name] = p
	}
	for _, dp := range dps {
		v.dps[dp.UUID] = dp
	}
	return v, nil
}

// chassisEncaps returns the Encap rows of ch.
func (v *sbView) chassisEncaps(ch *sbdb.Chassis) []*sbdb.Encap {
	var out []*sbdb.Encap
	for _, u := range ch.Encaps {
		if e := v.encaps[u]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// pbIndex indexes the cached Port_Bindings by name, by datapath, and by
// what computeBinding looks for (every non-VIF port, container ports,
// ports by chassis), so that a Reconcile reads the few ports that can
// matter to it rather than all of them.
//
// It is brought up to date in one of two ways. By default update scans
// the cache: the cache replaces a row on update and never modifies it,
// so a row whose pointer is the one indexed last time is unchanged.
// Once its owner reports changes (note), update reads only the rows
// reported since the last update, and scans again only when told that
// changes were lost (a full note) or on its first update.
type pbIndex struct {
	rows       map[string]*sbdb.PortBinding            // by UUID
	byName     map[string]*sbdb.PortBinding            // by logical port
	byDP       map[string][]*sbdb.PortBinding          // by datapath UUID
	nonVIF     map[string]*sbdb.PortBinding            // every type but VIF, by UUID
	containers map[string]*sbdb.PortBinding            // VIFs with a parent port, by UUID
	byChassis  map[string]map[string]*sbdb.PortBinding // chassis UUID -> UUID -> binding held there
	shared     map[string][]*sbdb.PortBinding          // the rows of a name more than one row has (byName holds the last added)
	changed    map[string]struct{}                     // UUIDs added, replaced or removed since takeChanged

	fed     bool                // changes are reported through note: update reads only those
	pending map[string]struct{} // UUIDs reported since the last update
	rescan  bool                // a report said changes were lost: scan at the next update
}

// takeChanged returns the UUIDs of the rows added, replaced or removed
// since the last call, and forgets them.
func (x *pbIndex) takeChanged() map[string]struct{} {
	c := x.changed
	if c == nil {
		c = map[string]struct{}{}
	}
	x.changed = nil
	return c
}

// note reports that rows ids changed in the cache (full: that some
// changes were lost) and makes update rely on such reports from now on.
func (x *pbIndex) note(ids map[string]struct{}, full bool) {
	x.fed = true
	if full {
		x.rescan, x.pending = true, nil
		return
	}
	if x.rescan {
		return
	}
	if x.pending == nil {
		x.pending = make(map[string]struct{}, len(ids))
	}
	for id := range ids {
		x.pending[id] = struct{}{}
	}
}

// scanFrom is the number of reported rows from which update scans the
// table instead of reading them one by one (each a copy): the rows of a
// new connection's initial load are reported after it has been scanned,
// and a scan passes over the rows it already holds.
const scanFrom = 256

// touch makes the next update read rows ids again, when changes are
// reported (rows this manager just wrote, whose report may come later).
func (x *pbIndex) touch(ids ...string) {
	if !x.fed || x.rescan || len(ids) == 0 {
		return
	}
	if x.pending == nil {
		x.pending = map[string]struct{}{}
	}
	for _, id := range ids {
		x.pending[id] = struct{}{}
	}
}

// update brings the index in line with c's cache.
func (x *pbIndex) update(c client.Client) error {
	cache := c.Cache()
	if cache == nil {
		return errors.New("client not connected")
	}
	return x.updateTable(cache.Table(sbdb.PortBindingTable))
}

// updateTable brings the index in line with t, the cached Port_Binding
// table (nil when the client has none).
func (x *pbIndex) updateTable(t *libcache.RowCache) error {
	if x.rows == nil {
		x.rows, x.byName, x.byDP = map[string]*sbdb.PortBinding{}, map[string]*sbdb.PortBinding{}, map[string][]*sbdb.PortBinding{}
		x.nonVIF, x.containers, x.byChassis = map[string]*sbdb.PortBinding{}, map[string]*sbdb.PortBinding{}, map[string]map[string]*sbdb.PortBinding{}
		x.shared = map[string][]*sbdb.PortBinding{}
		x.rescan = true
	}
	if x.fed && !x.rescan && len(x.pending) < scanFrom {
		pending := x.pending
		x.pending = nil
		for id := range pending {
			var pb *sbdb.PortBinding
			if t != nil {
				if m := t.Row(id); m != nil {
					var ok bool
					if pb, ok = m.(*sbdb.PortBinding); !ok {
						return fmt.Errorf("table %s holds %T", sbdb.PortBindingTable, m)
					}
				}
			}
			if old, had := x.rows[id]; had {
				x.drop(old)
			}
			if pb != nil {
				x.add(pb)
			}
		}
		return nil
	}
	x.rescan, x.pending = false, nil
	var all map[string]model.Model
	if t != nil {
		all = t.RowsShallow()
	}
	for id, m := range all {
		pb, ok := m.(*sbdb.PortBinding)
		if !ok {
			return fmt.Errorf("table %s holds %T", sbdb.PortBindingTable, m)
		}
		old, had := x.rows[id]
		if old == pb {
			continue
		}
		if had {
			x.drop(old)
		}
		x.add(pb)
	}
	if len(x.rows) != len(all) { // rows deleted
		for id, pb := range x.rows {
			if _, ok := all[id]; !ok {
				x.drop(pb)
			}
		}
	}
	return nil
}

func (x *pbIndex) add(pb *sbdb.PortBinding) {
	x.noteChanged(pb.UUID)
	x.rows[pb.UUID] = pb
	if o := x.byName[pb.LogicalPort]; o != nil && o != pb {
		if x.shared[pb.LogicalPort] == nil {
			x.shared[pb.LogicalPort] = []*sbdb.PortBinding{o}
		}
		x.shared[pb.LogicalPort] = append(x.shared[pb.LogicalPort], pb)
	}
	x.byName[pb.LogicalPort] = pb
	x.byDP[pb.Datapath] = append(x.byDP[pb.Datapath], pb)
	if pb.Type != typeVIF {
		x.nonVIF[pb.UUID] = pb
	} else if pb.ParentPort != nil {
		x.containers[pb.UUID] = pb
	}
	if pb.Chassis != nil {
		held := x.byChassis[*pb.Chassis]
		if held == nil {
			held = map[string]*sbdb.PortBinding{}
			x.byChassis[*pb.Chassis] = held
		}
		held[pb.UUID] = pb
	}
}

func (x *pbIndex) noteChanged(id string) {
	if x.changed == nil {
		x.changed = map[string]struct{}{}
	}
	x.changed[id] = struct{}{}
}

func (x *pbIndex) drop(pb *sbdb.PortBinding) {
	x.noteChanged(pb.UUID)
	delete(x.rows, pb.UUID)
	delete(x.nonVIF, pb.UUID)
	delete(x.containers, pb.UUID)
	if pb.Chassis != nil {
		if held := x.byChassis[*pb.Chassis]; held != nil {
			delete(held, pb.UUID)
			if len(held) == 0 {
				delete(x.byChassis, *pb.Chassis)
			}
		}
	}
	if same := x.shared[pb.LogicalPort]; same != nil {
		// Another row with the name (the SB's index forbids it, a
		// cache in the middle of a transaction may show it) takes over.
		same = slices.DeleteFunc(same, func(o *sbdb.PortBinding) bool { return o == pb })
		if x.byName[pb.LogicalPort] == pb {
			o := same[len(same)-1]
			x.byName[pb.LogicalPort] = o
			x.noteChanged(o.UUID)
		}
		if len(same) < 2 {
			delete(x.shared, pb.LogicalPort)
		} else {
			x.shared[pb.LogicalPort] = same
		}
	} else if x.byName[pb.LogicalPort] == pb {
		delete(x.byName, pb.LogicalPort)
	}
	l := x.byDP[pb.Datapath]
	if i := slices.Index(l, pb); i >= 0 {
		l[i] = l[len(l)-1]
		l = l[:len(l)-1]
	}
	if len(l) == 0 {
		delete(x.byDP, pb.Datapath)
	} else {
		x.byDP[pb.Datapath] = l
	}
}

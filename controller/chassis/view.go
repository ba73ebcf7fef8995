package chassis

import (
	"context"
	"fmt"
	"sort"

	"github.com/ovn-kubernetes/libovsdb/client"

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

func readOVS(ctx context.Context, c client.Client) (*ovsView, error) {
	var roots []vswitch.OpenvSwitch
	var bridges []vswitch.Bridge
	var ports []vswitch.Port
	var ifaces []vswitch.Interface
	for _, l := range []any{&roots, &bridges, &ports, &ifaces} {
		if err := c.List(ctx, l); err != nil {
			return nil, fmt.Errorf("read ovs cache: %w", err)
		}
	}
	if len(roots) != 1 {
		return nil, fmt.Errorf("read ovs cache: %d Open_vSwitch rows, want 1 (is the Open_vSwitch table monitored?)", len(roots))
	}
	v := &ovsView{root: &roots[0], bridges: map[string]*vswitch.Bridge{}, portOwn: map[string]string{},
		ports: map[string]*vswitch.Port{}, ifaces: map[string]*vswitch.Interface{}, ifaceOwn: map[string]string{}}
	for i := range bridges {
		b := &bridges[i]
		v.bridges[b.Name] = b
		for _, p := range b.Ports {
			v.portOwn[p] = b.Name
		}
	}
	for i := range ports {
		p := &ports[i]
		v.ports[p.UUID] = p
		for _, f := range p.Interfaces {
			v.ifaceOwn[f] = p.UUID
		}
	}
	for i := range ifaces {
		v.ifaces[ifaces[i].UUID] = &ifaces[i]
	}
	return v, nil
}

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
	dps      map[string]*sbdb.DatapathBinding
	ha       haView
}

func readSB(ctx context.Context, c client.Client) (*sbView, error) {
	var chs []sbdb.Chassis
	var encaps []sbdb.Encap
	var privs []sbdb.ChassisPrivate
	var pbs []sbdb.PortBinding
	var dps []sbdb.DatapathBinding
	var groups []sbdb.HAChassisGroup
	var members []sbdb.HAChassis
	for _, l := range []any{&chs, &encaps, &privs, &pbs, &dps, &groups, &members} {
		if err := c.List(ctx, l); err != nil {
			return nil, fmt.Errorf("read sb cache: %w", err)
		}
	}
	v := &sbView{chassis: map[string]*sbdb.Chassis{}, chByUUID: map[string]*sbdb.Chassis{},
		encaps: map[string]*sbdb.Encap{}, privates: map[string]*sbdb.ChassisPrivate{},
		pbs: map[string]*sbdb.PortBinding{}, pbsByDP: map[string][]*sbdb.PortBinding{},
		dps: map[string]*sbdb.DatapathBinding{},
		ha:  haView{groups: map[string]*sbdb.HAChassisGroup{}, members: map[string]*sbdb.HAChassis{}}}
	for i := range groups {
		v.ha.groups[groups[i].UUID] = &groups[i]
	}
	for i := range members {
		v.ha.members[members[i].UUID] = &members[i]
	}
	for i := range chs {
		v.chassis[chs[i].Name] = &chs[i]
		v.chByUUID[chs[i].UUID] = &chs[i]
	}
	for i := range encaps {
		v.encaps[encaps[i].UUID] = &encaps[i]
	}
	for i := range privs {
		v.privates[privs[i].Name] = &privs[i]
	}
	for i := range pbs {
		pb := &pbs[i]
		v.pbs[pb.LogicalPort] = pb
		v.pbsByDP[pb.Datapath] = append(v.pbsByDP[pb.Datapath], pb)
	}
	for i := range dps {
		v.dps[dps[i].UUID] = &dps[i]
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

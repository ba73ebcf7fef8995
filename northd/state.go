package northd

import (
	"context"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbState is the Southbound content northd manages, read from the cache.
type sbState struct {
	global      []sbdb.SBGlobal
	datapaths   []sbdb.DatapathBinding
	ports       []sbdb.PortBinding
	mcGroups    []sbdb.MulticastGroup
	portGroups  []sbdb.PortGroup
	addrSets    []sbdb.AddressSet
	dpGroups    []sbdb.LogicalDPGroup
	flows       []sbdb.LogicalFlow
	chassisPriv []sbdb.ChassisPrivate
	dns         []sbdb.DNS
	lbs         []sbdb.LoadBalancer
	chassis     []sbdb.Chassis
	dhcp4       []sbdb.DHCPOptions
	dhcp6       []sbdb.DHCPv6Options
	rbacRoles   []sbdb.RBACRole
	rbacPerms   []sbdb.RBACPermission
}

// readSB copies the SB cache, and reads the tables northd does not
// monitor (unmonitored) and Port_Binding (monitored for a few columns
// only) from the server.
func readSB(ctx context.Context, c client.Client) (*sbState, error) {
	s := &sbState{}
	for _, l := range []any{&s.global, &s.chassisPriv, &s.dns, &s.lbs,
		&s.chassis, &s.dhcp4, &s.dhcp6, &s.rbacRoles, &s.rbacPerms} {
		if err := c.List(ctx, l); err != nil {
			return nil, fmt.Errorf("read sb cache: %w", err)
		}
	}
	var err error
	if s.datapaths, err = selectAll[sbdb.DatapathBinding](ctx, c, sbdb.DatapathBindingTable); err != nil {
		return nil, err
	}
	if s.ports, err = selectAll[sbdb.PortBinding](ctx, c, sbdb.PortBindingTable); err != nil {
		return nil, err
	}
	if s.mcGroups, err = selectAll[sbdb.MulticastGroup](ctx, c, sbdb.MulticastGroupTable); err != nil {
		return nil, err
	}
	if s.portGroups, err = selectAll[sbdb.PortGroup](ctx, c, sbdb.PortGroupTable); err != nil {
		return nil, err
	}
	if s.addrSets, err = selectAll[sbdb.AddressSet](ctx, c, sbdb.AddressSetTable); err != nil {
		return nil, err
	}
	if s.flows, err = selectAll[sbdb.LogicalFlow](ctx, c, sbdb.LogicalFlowTable); err != nil {
		return nil, err
	}
	if s.dpGroups, err = selectAll[sbdb.LogicalDPGroup](ctx, c, sbdb.LogicalDPGroupTable); err != nil {
		return nil, err
	}
	return s, nil
}

// nbState is the Northbound snapshot plus what northd writes back to NB.
type nbState struct {
	build.NB
	hasGlobal bool
}

// readNB copies the NB cache, or northd's own replica of NB when c has
// one, into the build's input.
func readNB(ctx context.Context, c client.Client) (*nbState, error) {
	if nc, ok := c.(*nbClient); ok && nc.rep != nil {
		return nc.rep.snapshot(), nil
	}
	var (
		globals []nbdb.NBGlobal
		lss     []nbdb.LogicalSwitch
		lsps    []nbdb.LogicalSwitchPort
		pgs     []nbdb.PortGroup
		ass     []nbdb.AddressSet
		acls    []nbdb.ACL
		dhcp    []nbdb.DHCPOptions
		dns     []nbdb.DNS
		qos     []nbdb.QoS
		lbs     []nbdb.LoadBalancer
		lbgs    []nbdb.LoadBalancerGroup
	)
	for _, l := range []any{&globals, &lss, &lsps, &pgs, &ass, &acls, &dhcp, &dns, &qos, &lbs, &lbgs} {
		if err := c.List(ctx, l); err != nil {
			return nil, fmt.Errorf("read nb cache: %w", err)
		}
	}
	s := &nbState{NB: build.NB{
		Switches:    byUUID(lss, func(r nbdb.LogicalSwitch) string { return r.UUID }),
		Ports:       byUUID(lsps, func(r nbdb.LogicalSwitchPort) string { return r.UUID }),
		PortGroups:  byUUID(pgs, func(r nbdb.PortGroup) string { return r.UUID }),
		AddressSets: byUUID(ass, func(r nbdb.AddressSet) string { return r.UUID }),
		ACLs:        byUUID(acls, func(r nbdb.ACL) string { return r.UUID }),
		DHCPOptions: byUUID(dhcp, func(r nbdb.DHCPOptions) string { return r.UUID }),
		DNS:         byUUID(dns, func(r nbdb.DNS) string { return r.UUID }),
		QoS:         byUUID(qos, func(r nbdb.QoS) string { return r.UUID }),
		LBs:         byUUID(lbs, func(r nbdb.LoadBalancer) string { return r.UUID }),
		LBGroups:    byUUID(lbgs, func(r nbdb.LoadBalancerGroup) string { return r.UUID }),
	}}
	if len(globals) > 0 {
		s.Global, s.hasGlobal = globals[0], true
	}
	return s, nil
}

func byUUID[T any](rows []T, id func(T) string) map[string]T {
	m := make(map[string]T, len(rows))
	for _, r := range rows {
		m[id(r)] = r
	}
	return m
}

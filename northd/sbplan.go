package northd

import (
	"maps"
	"slices"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// sbPlan turns the difference between the SB cache and a build result
// into one list of operations. New rows get named UUIDs so that rows
// created in the same transaction can refer to each other.
type sbPlan struct {
	api client.Client
	cur *sbState
	sbTxn
	dp map[int]string    // datapath tunnel key → UUID or named UUID
	pb map[string]string // logical port → UUID or named UUID
	// flowGroups and lbGroups are the Logical_DP_Group rows of logical
	// flows and of load balancers.
	flowGroups, lbGroups dpGroups
	stageIDs             stageIDs
	next                 int
}

// planSB returns the transaction that makes SB match want.
func planSB(api client.Client, cur *sbState, want *build.Result) (*sbTxn, error) {
	p := &sbPlan{api: api, cur: cur, dp: map[int]string{}, pb: map[string]string{}}
	p.grow(1 + len(want.Datapaths) + len(want.Ports) + len(want.MCGroups) + len(want.Flows))
	p.global(want.Global)
	p.datapaths(want.Datapaths)
	p.ports(want.Ports)
	p.mcGroups(want.MCGroups)
	p.sets(want.PortGroups, want.AddressSets)
	p.dnsRows(want.DNS)
	p.lbRows(want.LBs)
	p.flows(want.Flows)
	p.dhcpCatalogues()
	p.rbac()
	return &p.sbTxn, p.err
}

func (p *sbPlan) named() string {
	p.next++
	return "row" + strconv.Itoa(p.next)
}

func (p *sbPlan) insert(m model.Model) { p.add(p.api.Create(m)) }

func (p *sbPlan) update(m model.Model, fields ...any) {
	p.add(p.api.Where(m).Update(m, fields...))
}

func (p *sbPlan) delete(m model.Model) { p.add(p.api.Where(m).Delete()) }

func (p *sbPlan) global(g build.Global) {
	if len(p.cur.global) == 0 {
		p.insert(&sbdb.SBGlobal{UUID: p.named(), NbCfg: g.NbCfg, Options: g.Options})
		return
	}
	c := p.cur.global[0]
	if c.NbCfg != g.NbCfg || !maps.Equal(c.Options, g.Options) {
		c.NbCfg, c.Options = g.NbCfg, g.Options
		p.update(&c, &c.NbCfg, &c.Options)
	}
}

func (p *sbPlan) datapaths(want []build.Datapath) {
	byLS := map[string]sbdb.DatapathBinding{}
	for _, c := range p.cur.datapaths {
		byLS[c.ExternalIDs["logical-switch"]] = c
	}
	keep := map[string]bool{}
	for _, d := range want {
		c, ok := byLS[d.ExternalIDs["logical-switch"]]
		if !ok {
			c = sbdb.DatapathBinding{UUID: p.named(), TunnelKey: d.Key, ExternalIDs: d.ExternalIDs}
			p.encoded(insertDatapath(&c))
		} else if c.TunnelKey != d.Key || !maps.Equal(c.ExternalIDs, d.ExternalIDs) {
			c.TunnelKey, c.ExternalIDs = d.Key, d.ExternalIDs
			p.update(&c, &c.TunnelKey, &c.ExternalIDs)
		}
		p.dp[d.Key] = c.UUID
		keep[c.UUID] = true
	}
	for _, c := range p.cur.datapaths {
		if !keep[c.UUID] {
			p.encoded(deleteOp(sbdb.DatapathBindingTable, c.UUID))
		}
	}
}

func (p *sbPlan) ports(want []build.Port) {
	byName := map[string]sbdb.PortBinding{}
	for _, c := range p.cur.ports {
		byName[c.LogicalPort] = c
	}
	for _, w := range want {
		c, ok := byName[w.Name]
		delete(byName, w.Name)
		n := c
		n.LogicalPort, n.Datapath, n.TunnelKey, n.Type = w.Name, p.dp[w.Datapath], w.Key, w.Type
		n.Options, n.MAC, n.PortSecurity, n.ExternalIDs = w.Options, w.MAC, w.PortSecurity, w.ExternalIDs
		n.ParentPort, n.Tag = w.ParentPort, w.Tag
		// ovn-controller reports a port up only where up was set to
		// false first, so new bindings start with up=false.
		if n.Up == nil {
			n.Up = new(false)
		}
		switch {
		case !ok:
			n.UUID = p.named()
			p.encodedPort(&n)
		case !samePort(c, n):
			p.update(&n, &n.Datapath, &n.TunnelKey, &n.Type, &n.Options, &n.MAC,
				&n.PortSecurity, &n.ExternalIDs, &n.ParentPort, &n.Tag, &n.Up)
		}
		p.pb[w.Name] = n.UUID
	}
	for _, c := range byName {
		p.encoded(deleteOp(sbdb.PortBindingTable, c.UUID))
	}
}

func samePort(a, b sbdb.PortBinding) bool {
	return a.Datapath == b.Datapath && a.TunnelKey == b.TunnelKey && a.Type == b.Type &&
		maps.Equal(a.Options, b.Options) && sameSet(a.MAC, b.MAC) &&
		sameSet(a.PortSecurity, b.PortSecurity) && maps.Equal(a.ExternalIDs, b.ExternalIDs) &&
		sameOpt(a.ParentPort, b.ParentPort) && sameOpt(a.Tag, b.Tag) && sameOpt(a.Up, b.Up)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameOpt[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func (p *sbPlan) mcGroups(want []build.MCGroup) {
	type key struct{ dp, name string }
	cur := map[key]sbdb.MulticastGroup{}
	for _, c := range p.cur.mcGroups {
		cur[key{c.Datapath, c.Name}] = c
	}
	for _, w := range want {
		k := key{p.dp[w.Datapath], w.Name}
		c, ok := cur[k]
		delete(cur, k)
		ports := p.portUUIDs(w.Ports)
		switch {
		case !ok:
			p.encoded(insertMCGroup(&sbdb.MulticastGroup{UUID: p.named(), Datapath: k.dp, Name: w.Name, TunnelKey: w.Key, Ports: ports}))
		case c.TunnelKey != w.Key || !sameSet(c.Ports, ports):
			c.TunnelKey, c.Ports = w.Key, ports
			p.update(&c, &c.TunnelKey, &c.Ports)
		}
	}
	for _, c := range cur {
		p.encoded(deleteOp(sbdb.MulticastGroupTable, c.UUID))
	}
}

func (p *sbPlan) portUUIDs(names []string) []string {
	var out []string
	for _, n := range names {
		if u, ok := p.pb[n]; ok {
			out = append(out, u)
		}
	}
	return out
}

// sets syncs Port_Group and Address_Set: rows keyed by name holding a
// set of strings.
func (p *sbPlan) sets(pgs, ass []build.NamedSet) {
	curPG := map[string]sbdb.PortGroup{}
	for _, c := range p.cur.portGroups {
		curPG[c.Name] = c
	}
	for _, w := range pgs {
		c, ok := curPG[w.Name]
		delete(curPG, w.Name)
		if !ok {
			p.insert(&sbdb.PortGroup{UUID: p.named(), Name: w.Name, Ports: w.Members})
		} else if !sameSet(c.Ports, w.Members) {
			c.Ports = w.Members
			p.update(&c, &c.Ports)
		}
	}
	for _, c := range curPG {
		p.delete(&sbdb.PortGroup{UUID: c.UUID})
	}
	curAS := map[string]sbdb.AddressSet{}
	for _, c := range p.cur.addrSets {
		curAS[c.Name] = c
	}
	for _, w := range ass {
		c, ok := curAS[w.Name]
		delete(curAS, w.Name)
		if !ok {
			p.insert(&sbdb.AddressSet{UUID: p.named(), Name: w.Name, Addresses: w.Members})
		} else if !sameSet(c.Addresses, w.Members) {
			c.Addresses = w.Members
			p.update(&c, &c.Addresses)
		}
	}
	for _, c := range curAS {
		p.delete(&sbdb.AddressSet{UUID: c.UUID})
	}
}

// dnsRows syncs SB DNS, keyed by external_ids:dns_id (the NB DNS UUID).
func (p *sbPlan) dnsRows(want []build.DNS) {
	cur := map[string]sbdb.DNS{}
	for _, c := range p.cur.dns {
		cur[c.ExternalIDs["dns_id"]] = c
	}
	for _, w := range want {
		var dps []string
		for _, k := range w.Datapaths {
			dps = append(dps, p.dp[k])
		}
		c, ok := cur[w.NBUUID]
		delete(cur, w.NBUUID)
		switch {
		case !ok:
			p.insert(&sbdb.DNS{UUID: p.named(), Datapaths: dps, Records: w.Records,
				ExternalIDs: map[string]string{"dns_id": w.NBUUID}})
		case !sameSet(c.Datapaths, dps) || !maps.Equal(c.Records, w.Records):
			c.Datapaths, c.Records = dps, w.Records
			p.update(&c, &c.Datapaths, &c.Records)
		}
	}
	for _, c := range cur {
		p.delete(&sbdb.DNS{UUID: c.UUID})
	}
}

// lbRows syncs SB Load_Balancer, keyed by external_ids:lb_id (the NB load
// balancer's UUID); its switches are a datapath group.
func (p *sbPlan) lbRows(want []build.LB) {
	groupDPs := map[string][]string{}
	for _, g := range p.cur.dpGroups {
		groupDPs[g.UUID] = g.Datapaths
	}
	cur := map[string]sbdb.LoadBalancer{}
	byLBs := map[string]bool{}
	for _, c := range p.cur.lbs {
		cur[c.ExternalIDs["lb_id"]] = c
		if c.DatapathGroup != nil {
			byLBs[*c.DatapathGroup] = true
		}
	}
	p.lbGroups = newDPGroups(p.cur.dpGroups, func(u string) bool { return byLBs[u] })
	for _, w := range want {
		var dps []string
		for _, k := range w.Datapaths {
			dps = append(dps, p.dp[k])
		}
		proto := sbdb.LoadBalancerProtocol(w.Protocol)
		c, ok := cur[w.NBUUID]
		delete(cur, w.NBUUID)
		if ok && c.Name == w.Name && c.Protocol != nil && *c.Protocol == proto && maps.Equal(c.Vips, w.Vips) &&
			maps.Equal(c.Options, w.Options) && c.DatapathGroup != nil && sameSet(groupDPs[*c.DatapathGroup], dps) {
			continue
		}
		g := p.group(p.lbGroups, dps)
		n := sbdb.LoadBalancer{UUID: c.UUID, Name: w.Name, Protocol: &proto, Vips: w.Vips, Options: w.Options,
			DatapathGroup: &g, ExternalIDs: map[string]string{"lb_id": w.NBUUID}}
		if !ok {
			n.UUID = p.named()
			p.insert(&n)
			continue
		}
		p.update(&n, &n.Name, &n.Protocol, &n.Vips, &n.Options, &n.DatapathGroup, &n.ExternalIDs)
	}
	for _, c := range cur {
		p.delete(&sbdb.LoadBalancer{UUID: c.UUID})
	}
}

package build

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

func sbDatapath(d Datapath) sbdb.DatapathBinding {
	return sbdb.DatapathBinding{UUID: fmt.Sprint("dp", d.Key), TunnelKey: d.Key, ExternalIDs: d.ExternalIDs}
}

func sbBinding(p Port) sbdb.PortBinding {
	return sbdb.PortBinding{LogicalPort: p.Name, Datapath: fmt.Sprint("dp", p.Datapath), TunnelKey: p.Key, MAC: p.MAC}
}

// gen makes random NB changes, as ovn-nbctl would make them (references
// kept consistent), and names the rows each one touched.
type gen struct {
	r  *rand.Rand
	id int
	ch Changes
	// pending completes a change split over two steps, as a
	// transaction's rows may reach the engine in two rounds: the
	// reference comes first, the row it refers to in the next step.
	pending func(*NB)
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 7))} }

func (g *gen) uuid(kind string) string {
	g.id++
	return fmt.Sprintf("%s-%04d", kind, g.id)
}

func (g *gen) initial() *NB {
	nb := &NB{Switches: map[string]nbdb.LogicalSwitch{}, Ports: map[string]nbdb.LogicalSwitchPort{},
		PortGroups: map[string]nbdb.PortGroup{}, AddressSets: map[string]nbdb.AddressSet{}, ACLs: map[string]nbdb.ACL{},
		DHCPOptions: map[string]nbdb.DHCPOptions{}, DNS: map[string]nbdb.DNS{}, QoS: map[string]nbdb.QoS{},
		LBs: map[string]nbdb.LoadBalancer{}, LBGroups: map[string]nbdb.LoadBalancerGroup{}}
	nb.Global = nbdb.NBGlobal{UUID: "global", Options: map[string]string{}}
	g.ch = Changes{}
	for range 4 {
		g.addSwitch(nb)
	}
	g.addAS(nb)
	g.addPG(nb)
	g.addACL(nb)
	return nb
}

// pick returns a random key of m, or "" when m is empty.
func pick[V any](g *gen, m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return keys[g.r.IntN(len(keys))]
}

func mark(m *map[string]bool, u string) {
	if *m == nil {
		*m = map[string]bool{}
	}
	(*m)[u] = true
}

// mutate makes one random change and returns the rows it touched and
// what it was.
func (g *gen) mutate(nb *NB) (Changes, string) {
	g.ch = Changes{}
	if g.pending != nil {
		g.pending(nb)
		g.pending = nil
		return g.ch, "rest of a split change"
	}
	kinds := []struct {
		name string
		do   func(*NB)
	}{
		{"add port", g.addPort}, {"add port", g.addPort}, {"delete port", g.deletePort},
		{"update port", g.updatePort}, {"update port", g.updatePort}, {"move port", g.movePort},
		{"add switch", g.addSwitch}, {"delete switch", g.deleteSwitch}, {"rename switch", g.renameSwitch},
		{"add acl", g.addACL}, {"delete acl", g.deleteACL}, {"update acl", g.updateACL},
		{"port group membership", g.pgMembers}, {"port group membership", g.pgMembers},
		{"add port group", g.addPG}, {"delete port group", g.deletePG},
		{"address set", g.updateAS}, {"add address set", g.addAS},
		{"nb_cfg", g.bumpCfg}, {"svc_monitor_mac", g.svcMAC},
		{"bad: port on two switches", g.dupPort}, {"bad: port name twice", g.dupName},
		{"add port, split", g.addPortSplit}, {"add acl, split", g.addACLSplit},
		{"qos (fallback)", g.addQoS}, {"dhcp (fallback)", g.addDHCP}, {"lb (fallback)", g.addLB},
	}
	k := kinds[g.r.IntN(len(kinds))]
	k.do(nb)
	return g.ch, k.name
}

func (g *gen) addSwitch(nb *NB) {
	u := g.uuid("ls")
	names := []string{"a", "b", "c", "d", "e"}
	ls := nbdb.LogicalSwitch{UUID: u, Name: fmt.Sprintf("sw-%s%d", names[g.r.IntN(len(names))], g.id)}
	nb.Switches[u] = ls
	mark(&g.ch.Switches, u)
	for range g.r.IntN(4) {
		g.addPortTo(nb, u)
	}
}

func (g *gen) addPort(nb *NB) {
	if u := pick(g, nb.Switches); u != "" {
		g.addPortTo(nb, u)
	}
}

func (g *gen) address() string {
	n := g.r.IntN(200)
	switch g.r.IntN(6) {
	case 0:
		return "unknown"
	case 1:
		return fmt.Sprintf("00:00:00:00:01:%02x 10.0.1.%d fd00::%x", n, n, n)
	default:
		return fmt.Sprintf("00:00:00:00:00:%02x 10.0.0.%d", n, n)
	}
}

func (g *gen) addPortTo(nb *NB, sw string) {
	u := g.uuid("lsp")
	p := nbdb.LogicalSwitchPort{UUID: u, Name: "p" + u[4:], Addresses: []string{g.address()}}
	if g.r.IntN(4) == 0 {
		p.PortSecurity = []string{p.Addresses[0]}
	}
	nb.Ports[u] = p
	ls := nb.Switches[sw]
	ls.Ports = append(slices.Clone(ls.Ports), u)
	nb.Switches[sw] = ls
	mark(&g.ch.Ports, u)
	mark(&g.ch.Switches, sw)
	if pg := pick(g, nb.PortGroups); pg != "" && g.r.IntN(2) == 0 {
		g.setPGPorts(nb, pg, append(slices.Clone(nb.PortGroups[pg].Ports), u))
	}
}

func (g *gen) setPGPorts(nb *NB, pg string, ports []string) {
	r := nb.PortGroups[pg]
	r.Ports = ports
	nb.PortGroups[pg] = r
	mark(&g.ch.PortGroups, pg)
}

// removePort takes port u out of every switch and port group (port
// groups refer to ports weakly).
func (g *gen) removePortRefs(nb *NB, u string) {
	for su, ls := range nb.Switches {
		if slices.Contains(ls.Ports, u) {
			ls.Ports = slices.DeleteFunc(slices.Clone(ls.Ports), func(x string) bool { return x == u })
			nb.Switches[su] = ls
			mark(&g.ch.Switches, su)
		}
	}
	for pu, pg := range nb.PortGroups {
		if slices.Contains(pg.Ports, u) {
			g.setPGPorts(nb, pu, slices.DeleteFunc(slices.Clone(pg.Ports), func(x string) bool { return x == u }))
		}
	}
}

func (g *gen) deletePort(nb *NB) {
	u := pick(g, nb.Ports)
	if u == "" {
		return
	}
	g.removePortRefs(nb, u)
	delete(nb.Ports, u)
	mark(&g.ch.Ports, u)
}

func (g *gen) updatePort(nb *NB) {
	u := pick(g, nb.Ports)
	if u == "" {
		return
	}
	p := nb.Ports[u]
	switch g.r.IntN(5) {
	case 0:
		p.Addresses = []string{g.address()}
	case 1:
		p.Addresses = append(slices.Clone(p.Addresses), g.address())
	case 2:
		en := g.r.IntN(2) == 0
		p.Enabled = &en
	case 3:
		p.Name = "renamed-" + u
	case 4:
		p.Type = []string{"", "localport", "localnet", "router"}[g.r.IntN(4)]
		p.Options = map[string]string{"router-port": "lrp-" + u, "network_name": "phys"}
	}
	nb.Ports[u] = p
	mark(&g.ch.Ports, u)
}

func (g *gen) movePort(nb *NB) {
	u, to := pick(g, nb.Ports), pick(g, nb.Switches)
	if u == "" || to == "" {
		return
	}
	g.removePortRefs(nb, u)
	ls := nb.Switches[to]
	ls.Ports = append(slices.Clone(ls.Ports), u)
	nb.Switches[to] = ls
	mark(&g.ch.Switches, to)
}

func (g *gen) deleteSwitch(nb *NB) {
	u := pick(g, nb.Switches)
	if u == "" || len(nb.Switches) < 2 {
		return
	}
	for _, p := range nb.Switches[u].Ports {
		g.removePortRefs(nb, p)
		delete(nb.Ports, p)
		mark(&g.ch.Ports, p)
	}
	for _, a := range nb.Switches[u].ACLs {
		delete(nb.ACLs, a)
		mark(&g.ch.ACLs, a)
	}
	delete(nb.Switches, u)
	mark(&g.ch.Switches, u)
}

func (g *gen) renameSwitch(nb *NB) {
	if u := pick(g, nb.Switches); u != "" {
		ls := nb.Switches[u]
		ls.Name += "x"
		nb.Switches[u] = ls
		mark(&g.ch.Switches, u)
	}
}

func (g *gen) match(nb *NB) string {
	pg, as := "nopg", "noas"
	if u := pick(g, nb.PortGroups); u != "" {
		pg = nb.PortGroups[u].Name
	}
	if u := pick(g, nb.AddressSets); u != "" {
		as = nb.AddressSets[u].Name
	}
	ms := []string{
		fmt.Sprintf("outport == @%s && ip4.src == $%s_ip4", pg, pg),
		fmt.Sprintf("inport == @%s && ip4.dst == $%s", pg, as),
		"ip4 && tcp.dst == 22",
		fmt.Sprintf("outport == @%s && ip4 && udp", pg),
		"ip4 &&& broken",
	}
	return ms[g.r.IntN(len(ms))]
}

func (g *gen) addACL(nb *NB) {
	u := g.uuid("acl")
	actions := []nbdb.ACLAction{nbdb.ACLActionAllow, nbdb.ACLActionAllowRelated, nbdb.ACLActionAllowStateless,
		nbdb.ACLActionDrop, nbdb.ACLActionReject}
	dir := nbdb.ACLDirectionToLport
	if g.r.IntN(2) == 0 {
		dir = nbdb.ACLDirectionFromLport
	}
	nb.ACLs[u] = nbdb.ACL{UUID: u, Direction: dir, Priority: 1000 + g.r.IntN(10), Match: g.match(nb),
		Action: actions[g.r.IntN(len(actions))], Log: g.r.IntN(4) == 0}
	mark(&g.ch.ACLs, u)
	if pg := pick(g, nb.PortGroups); pg != "" && g.r.IntN(3) > 0 {
		r := nb.PortGroups[pg]
		r.ACLs = append(slices.Clone(r.ACLs), u)
		nb.PortGroups[pg] = r
		mark(&g.ch.PortGroups, pg)
	} else if sw := pick(g, nb.Switches); sw != "" {
		ls := nb.Switches[sw]
		ls.ACLs = append(slices.Clone(ls.ACLs), u)
		nb.Switches[sw] = ls
		mark(&g.ch.Switches, sw)
	}
}

func (g *gen) deleteACL(nb *NB) {
	u := pick(g, nb.ACLs)
	if u == "" {
		return
	}
	drop := func(s []string) []string {
		return slices.DeleteFunc(slices.Clone(s), func(x string) bool { return x == u })
	}
	for su, ls := range nb.Switches {
		if slices.Contains(ls.ACLs, u) {
			ls.ACLs = drop(ls.ACLs)
			nb.Switches[su] = ls
			mark(&g.ch.Switches, su)
		}
	}
	for pu, pg := range nb.PortGroups {
		if slices.Contains(pg.ACLs, u) {
			pg.ACLs = drop(pg.ACLs)
			nb.PortGroups[pu] = pg
			mark(&g.ch.PortGroups, pu)
		}
	}
	delete(nb.ACLs, u)
	mark(&g.ch.ACLs, u)
}

func (g *gen) updateACL(nb *NB) {
	u := pick(g, nb.ACLs)
	if u == "" {
		return
	}
	a := nb.ACLs[u]
	if g.r.IntN(2) == 0 {
		a.Match = g.match(nb)
	} else {
		a.Priority++
	}
	nb.ACLs[u] = a
	mark(&g.ch.ACLs, u)
}

func (g *gen) pgMembers(nb *NB) {
	pg, p := pick(g, nb.PortGroups), pick(g, nb.Ports)
	if pg == "" || p == "" {
		return
	}
	ports := nb.PortGroups[pg].Ports
	if slices.Contains(ports, p) {
		g.setPGPorts(nb, pg, slices.DeleteFunc(slices.Clone(ports), func(x string) bool { return x == p }))
	} else {
		g.setPGPorts(nb, pg, append(slices.Clone(ports), p))
	}
}

func (g *gen) addPG(nb *NB) {
	u := g.uuid("pg")
	pg := nbdb.PortGroup{UUID: u, Name: "pg" + u[3:]}
	for p := range nb.Ports {
		if g.r.IntN(2) == 0 {
			pg.Ports = append(pg.Ports, p)
		}
	}
	slices.Sort(pg.Ports)
	nb.PortGroups[u] = pg
	mark(&g.ch.PortGroups, u)
}

func (g *gen) deletePG(nb *NB) {
	u := pick(g, nb.PortGroups)
	if u == "" {
		return
	}
	for _, a := range nb.PortGroups[u].ACLs {
		delete(nb.ACLs, a)
		mark(&g.ch.ACLs, a)
	}
	delete(nb.PortGroups, u)
	mark(&g.ch.PortGroups, u)
}

func (g *gen) addAS(nb *NB) {
	u := g.uuid("as")
	nb.AddressSets[u] = nbdb.AddressSet{UUID: u, Name: "as" + u[3:], Addresses: []string{"10.1.0.1", "10.1.0.2"}}
	mark(&g.ch.AddressSets, u)
}

func (g *gen) updateAS(nb *NB) {
	u := pick(g, nb.AddressSets)
	if u == "" {
		return
	}
	as := nb.AddressSets[u]
	switch g.r.IntN(4) {
	case 0:
		as.Addresses = append(slices.Clone(as.Addresses), fmt.Sprintf("10.2.0.%d", g.r.IntN(250)))
	case 1:
		as.Addresses = nil
	case 2:
		as.Addresses = []string{"not-an-address"}
	case 3:
		delete(nb.AddressSets, u)
		mark(&g.ch.AddressSets, u)
		return
	}
	nb.AddressSets[u] = as
	mark(&g.ch.AddressSets, u)
}

func (g *gen) bumpCfg(nb *NB) {
	nb.Global.NbCfg++
	g.ch.Global = true
}

func (g *gen) svcMAC(nb *NB) {
	opts := map[string]string{}
	if g.r.IntN(2) == 0 {
		opts["svc_monitor_mac"] = fmt.Sprintf("0a:00:00:00:00:%02x", g.r.IntN(250))
	}
	nb.Global.Options = opts
	g.ch.Global = true
}

func (g *gen) addQoS(nb *NB) {
	sw := pick(g, nb.Switches)
	if sw == "" {
		return
	}
	u := g.uuid("qos")
	nb.QoS[u] = nbdb.QoS{UUID: u, Direction: nbdb.QoSDirectionFromLport, Priority: 100, Match: "ip4", Action: map[string]int{"dscp": 10}}
	ls := nb.Switches[sw]
	ls.QOSRules = append(slices.Clone(ls.QOSRules), u)
	nb.Switches[sw] = ls
	mark(&g.ch.Switches, sw)
	g.ch.Other = true
}

func (g *gen) addDHCP(nb *NB) {
	p := pick(g, nb.Ports)
	if p == "" {
		return
	}
	u := g.uuid("dhcp")
	nb.DHCPOptions[u] = nbdb.DHCPOptions{UUID: u, Cidr: "10.0.0.0/24", Options: map[string]string{
		"server_id": "10.0.0.254", "server_mac": "0a:00:00:00:00:fe", "lease_time": "3600", "router": "10.0.0.254"}}
	lsp := nb.Ports[p]
	lsp.Dhcpv4Options = &u
	nb.Ports[p] = lsp
	mark(&g.ch.Ports, p)
	g.ch.Other = true
}

func (g *gen) addLB(nb *NB) {
	sw := pick(g, nb.Switches)
	if sw == "" {
		return
	}
	u := g.uuid("lb")
	nb.LBs[u] = nbdb.LoadBalancer{UUID: u, Name: "lb" + u, Vips: map[string]string{fmt.Sprintf("10.9.0.%d:80", g.id%250): "10.0.0.5:8080"}}
	ls := nb.Switches[sw]
	ls.LoadBalancer = append(slices.Clone(ls.LoadBalancer), u)
	nb.Switches[sw] = ls
	mark(&g.ch.Switches, sw)
	g.ch.Other = true
}

// addPortSplit lists a new port on a switch (and in a port group) a step
// before the port's row exists.
func (g *gen) addPortSplit(nb *NB) {
	sw := pick(g, nb.Switches)
	if sw == "" {
		return
	}
	g.addPortTo(nb, sw)
	u := fmt.Sprintf("lsp-%04d", g.id)
	row := nb.Ports[u]
	delete(nb.Ports, u)
	delete(g.ch.Ports, u)
	g.pending = func(nb *NB) {
		nb.Ports[u] = row
		mark(&g.ch.Ports, u)
	}
}

// addACLSplit lists a new ACL a step before its row exists.
func (g *gen) addACLSplit(nb *NB) {
	g.addACL(nb)
	u := fmt.Sprintf("acl-%04d", g.id)
	row := nb.ACLs[u]
	delete(nb.ACLs, u)
	delete(g.ch.ACLs, u)
	g.pending = func(nb *NB) {
		nb.ACLs[u] = row
		mark(&g.ch.ACLs, u)
	}
}

// dupPort lists an existing port on a second switch.
func (g *gen) dupPort(nb *NB) {
	u, sw := pick(g, nb.Ports), pick(g, nb.Switches)
	if u == "" || sw == "" || slices.Contains(nb.Switches[sw].Ports, u) {
		return
	}
	ls := nb.Switches[sw]
	ls.Ports = append(slices.Clone(ls.Ports), u)
	nb.Switches[sw] = ls
	mark(&g.ch.Switches, sw)
}

// dupName adds a port with the name of an existing one.
func (g *gen) dupName(nb *NB) {
	other, sw := pick(g, nb.Ports), pick(g, nb.Switches)
	if other == "" || sw == "" {
		return
	}
	g.addPortTo(nb, sw)
	u := fmt.Sprintf("lsp-%04d", g.id)
	p := nb.Ports[u]
	p.Name = nb.Ports[other].Name
	nb.Ports[u] = p
}

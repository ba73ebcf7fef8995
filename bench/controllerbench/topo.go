package main

import "fmt"

// layout is the northbound content both controllers see: nSwitch logical
// switches of perSwitch VIF ports each, every switch attached to one
// logical router "r0", and one port group "vifs" holding every VIF with
// three stateful ACLs. Of the VIFs, the first local ones (switch by switch)
// are bound on the chassis under test and the last remote ones on a second
// chassis that has no controller, so that tunnels and remote-output flows
// exist.
type layout struct {
	nSwitch, perSwitch int
	local, remote      int
}

func (l layout) vifs() int { return l.nSwitch * l.perSwitch }

func (l layout) switchName(s int) string { return fmt.Sprintf("sw%d", s) }

// vifName is port i (0-based over the whole topology) of switch
// i/perSwitch.
func (l layout) vifName(i int) string {
	return fmt.Sprintf("sw%d-vif%d", i/l.perSwitch, i%l.perSwitch)
}

// addr gives host h of switch s its MAC and IPv4 address: switch s owns
// 10.(s/256).(s%256).0/24, the router takes .1, hosts start at .2; h may go
// up to 253.
func addr(s, h int) (mac, ip string) {
	mac = fmt.Sprintf("02:0b:%02x:%02x:00:%02x", s/256, s%256, h+2)
	ip = fmt.Sprintf("10.%d.%d.%d", s/256, s%256, h+2)
	return mac, ip
}

func routerAddr(s int) (mac, cidr string) {
	return fmt.Sprintf("02:0a:%02x:%02x:00:01", s/256, s%256), fmt.Sprintf("10.%d.%d.1/24", s/256, s%256)
}

// acls are the port group's rules, a usual security group: traffic between
// members, SSH from anywhere, everything outbound.
var acls = [3][2]string{
	{"to-lport", "outport == @vifs && ip4 && ip4.src == $vifs_ip4"},
	{"to-lport", "outport == @vifs && ip4 && tcp.dst == 22"},
	{"from-lport", "inport == @vifs && ip4"},
}

// nbOps is the whole layout as one OVN_Northbound transaction.
func (l layout) nbOps() []any {
	var ops, routerPorts, members []any
	ref := func(name string) []any { return []any{"named-uuid", name} }
	set := func(v []any) []any { return []any{"set", v} }
	insert := func(table, name string, row map[string]any) {
		o := map[string]any{"op": "insert", "table": table, "row": row}
		if name != "" {
			o["uuid-name"] = name
		}
		ops = append(ops, o)
	}
	for s := range l.nSwitch {
		var ports []any
		for h := range l.perSwitch {
			mac, ip := addr(s, h)
			id := fmt.Sprintf("vif_%d_%d", s, h)
			insert("Logical_Switch_Port", id, map[string]any{
				"name": l.vifName(s*l.perSwitch + h), "addresses": mac + " " + ip,
			})
			ports = append(ports, ref(id))
			members = append(members, ref(id))
		}
		rmac, rcidr := routerAddr(s)
		rp := fmt.Sprintf("r0-%s", l.switchName(s))
		insert("Logical_Router_Port", "lrp_"+fmt.Sprint(s), map[string]any{"name": rp, "mac": rmac, "networks": rcidr})
		routerPorts = append(routerPorts, ref("lrp_"+fmt.Sprint(s)))
		insert("Logical_Switch_Port", "lsp_r_"+fmt.Sprint(s), map[string]any{
			"name": l.switchName(s) + "-r0", "type": "router", "addresses": "router",
			"options": []any{"map", []any{[]any{"router-port", rp}}},
		})
		ports = append(ports, ref("lsp_r_"+fmt.Sprint(s)))
		insert("Logical_Switch", "", map[string]any{"name": l.switchName(s), "ports": set(ports)})
	}
	insert("Logical_Router", "", map[string]any{"name": "r0", "ports": set(routerPorts)})
	var rules []any
	for i, a := range acls {
		id := fmt.Sprintf("acl_%d", i)
		insert("ACL", id, map[string]any{"direction": a[0], "priority": 2000 + i, "match": a[1], "action": "allow-related"})
		rules = append(rules, ref(id))
	}
	insert("Port_Group", "", map[string]any{"name": "vifs", "ports": set(members), "acls": set(rules)})
	return ops
}

// localPort and remotePort name the i-th VIF bound on the chassis under
// test and on the remote chassis: local ones from the first switch on,
// remote ones from the last switch backwards.
func (l layout) localPort(i int) string  { return l.vifName(i) }
func (l layout) remotePort(i int) string { return l.vifName(l.vifs() - 1 - i) }

// extraPort is the k-th port added during the lsp-add measurement, on
// switch 0 after its VIFs, with its MAC and IP.
func (l layout) extraPort(k int) (name, mac, ip string) {
	mac, ip = addr(0, l.perSwitch+k)
	return fmt.Sprintf("sw0-new%d", k), mac, ip
}

func (l layout) validate() error {
	switch {
	case l.nSwitch < 1 || l.nSwitch > 10000:
		return fmt.Errorf("%d switches: want 1 to 10000", l.nSwitch)
	case l.perSwitch < 1 || l.perSwitch > 200:
		return fmt.Errorf("%d ports per switch: want 1 to 200", l.perSwitch)
	case l.local < 1 || l.remote < 0 || l.local+l.remote > l.vifs():
		return fmt.Errorf("%d local + %d remote ports: want at least 1 local and at most %d in all", l.local, l.remote, l.vifs())
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
)

// dataset is the size of the cold-start database of measurement 4: an NB
// with switches×ports logical switch ports, one router with a port per
// switch, one port group holding every switch port and three ACLs on it,
// and the SB northd would derive from it (datapaths, port bindings and
// synthetic logical flows of realistic length).
type dataset struct {
	switches, ports int // ports per switch
	opsPerTxn       int
}

// op is one OVSDB operation as it is sent on the wire.
type op = map[string]any

func ovsMap(kv ...string) []any {
	pairs := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, []any{kv[i], kv[i+1]})
	}
	return []any{"map", pairs}
}

func ovsSet(elems ...any) []any { return []any{"set", elems} }

func ref(uuid string) []any { return []any{"uuid", uuid} }

func named(name string) []any { return []any{"named-uuid", name} }

func switchName(s int) string     { return fmt.Sprintf("ls%03d", s) }
func portName(s, p int) string    { return fmt.Sprintf("ls%03d-p%02d", s, p) }
func routerPortName(s int) string { return fmt.Sprintf("lr0-ls%03d", s) }

// portMAC and portIP give port p of switch s (p = -1 is the router's
// port on the switch) a unique address in the switch's /24.
func portMAC(s, p int) string {
	return fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x", s>>8, s&0xff, (p+1)>>8, (p+1)&0xff)
}

func portIP(s, p int) string {
	return fmt.Sprintf("10.%d.%d.%d", s>>8, s&0xff, p+2)
}

func subnetGateway(s int) string { return fmt.Sprintf("10.%d.%d.1", s>>8, s&0xff) }

// switchOps inserts switch s with its ports; the ports come first so that
// the switch can refer to them by named uuid.
func (d dataset) switchOps(s int) []op {
	ops := make([]op, 0, d.ports+1)
	refs := make([]any, 0, d.ports)
	for p := range d.ports {
		uname := fmt.Sprintf("p%d_%d", s, p)
		ops = append(ops, op{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": uname, "row": op{
			"name":         portName(s, p),
			"addresses":    ovsSet(portMAC(s, p) + " " + portIP(s, p)),
			"external_ids": ovsMap("neutron:device_owner", "compute:nova", "bench:switch", switchName(s)),
		}})
		refs = append(refs, named(uname))
	}
	return append(ops, op{"op": "insert", "table": "Logical_Switch", "row": op{
		"name":         switchName(s),
		"ports":        ovsSet(refs...),
		"other_config": ovsMap("subnet", fmt.Sprintf("10.%d.%d.0/24", s>>8, s&0xff)),
	}})
}

func (d dataset) routerOps() []op {
	ops := make([]op, 0, d.switches+1)
	refs := make([]any, 0, d.switches)
	for s := range d.switches {
		uname := fmt.Sprintf("rp%d", s)
		ops = append(ops, op{"op": "insert", "table": "Logical_Router_Port", "uuid-name": uname, "row": op{
			"name":     routerPortName(s),
			"mac":      portMAC(s, -1),
			"networks": ovsSet(subnetGateway(s) + "/24"),
		}})
		refs = append(refs, named(uname))
	}
	return append(ops, op{"op": "insert", "table": "Logical_Router", "row": op{
		"name": "lr0", "ports": ovsSet(refs...),
	}})
}

// portGroupOps puts every switch port (by real uuid) in one port group with
// three ACLs.
func portGroupOps(portUUIDs []string) []op {
	ports := make([]any, len(portUUIDs))
	for i, u := range portUUIDs {
		ports[i] = ref(u)
	}
	acls := []struct{ dir, match, action string }{
		{"to-lport", `outport == @pg_all && ip4 && ip4.src == $pg_all_ip4`, "allow-related"},
		{"to-lport", `outport == @pg_all && ip4 && tcp.dst == 22`, "allow-related"},
		{"from-lport", `inport == @pg_all && ip4`, "allow-related"},
	}
	ops := make([]op, 0, len(acls)+1)
	refs := make([]any, 0, len(acls))
	for i, a := range acls {
		uname := fmt.Sprintf("acl%d", i)
		ops = append(ops, op{"op": "insert", "table": "ACL", "uuid-name": uname, "row": op{
			"direction": a.dir, "priority": 1001 + i, "match": a.match, "action": a.action,
		}})
		refs = append(refs, named(uname))
	}
	return append(ops, op{"op": "insert", "table": "Port_Group", "row": op{
		"name": "pg_all", "ports": ovsSet(ports...), "acls": ovsSet(refs...),
	}})
}

// datapathOps inserts one Datapath_Binding per switch and one for the
// router (the last).
func (d dataset) datapathOps() []op {
	ops := make([]op, 0, d.switches+1)
	for s := range d.switches + 1 {
		name := "lr0"
		if s < d.switches {
			name = switchName(s)
		}
		ops = append(ops, op{"op": "insert", "table": "Datapath_Binding", "row": op{
			"tunnel_key": s + 1, "external_ids": ovsMap("name", name),
		}})
	}
	return ops
}

// portBindingOps needs the datapath uuids in datapathOps order.
func (d dataset) portBindingOps(dps []string) []op {
	ops := make([]op, 0, d.switches*(d.ports+1))
	for s := range d.switches {
		for p := range d.ports {
			ops = append(ops, op{"op": "insert", "table": "Port_Binding", "row": op{
				"logical_port": portName(s, p), "datapath": ref(dps[s]), "tunnel_key": p + 1,
				"mac": ovsSet(portMAC(s, p) + " " + portIP(s, p)),
			}})
		}
	}
	for s := range d.switches {
		ops = append(ops, op{"op": "insert", "table": "Port_Binding", "row": op{
			"logical_port": routerPortName(s), "datapath": ref(dps[d.switches]), "tunnel_key": s + 1,
			"type": "patch", "options": ovsMap("peer", switchName(s)+"-lr0"),
			"mac": ovsSet(portMAC(s, -1) + " " + subnetGateway(s) + "/24"),
		}})
	}
	return ops
}

func flowOp(dp, pipeline string, table, prio int, stage, match, actions string) op {
	return op{"op": "insert", "table": "Logical_Flow", "row": op{
		"logical_datapath": ref(dp), "pipeline": pipeline, "table_id": table, "priority": prio,
		"match": match, "actions": actions,
		"external_ids": ovsMap("stage-name", stage, "source", "northd.c:5467"),
	}}
}

// flowOps returns synthetic logical flows: per switch, a default flow in
// each of 15 ingress and 5 egress stages plus five flows per port (port
// security, ARP responder, L2 lookup); per router port, four.
func (d dataset) flowOps(dps []string) []op {
	var ops []op
	for s := range d.switches {
		ops = append(ops, defaultFlows(dps[s], "ls")...)
		for p := range d.ports {
			ops = append(ops, switchPortFlows(dps[s], s, p)...)
		}
	}
	ops = append(ops, defaultFlows(dps[d.switches], "lr")...)
	for s := range d.switches {
		ops = append(ops, routerPortFlows(dps[d.switches], s)...)
	}
	return ops
}

func defaultFlows(dp, prefix string) []op {
	var ops []op
	for t := range 15 {
		ops = append(ops, flowOp(dp, "ingress", t, 0, fmt.Sprintf("%s_in_stage_%d", prefix, t), "1", "next;"))
	}
	for t := range 5 {
		ops = append(ops, flowOp(dp, "egress", t, 0, fmt.Sprintf("%s_out_stage_%d", prefix, t), "1", "next;"))
	}
	return ops
}

func switchPortFlows(dp string, s, p int) []op {
	name, mac, ip := portName(s, p), portMAC(s, p), portIP(s, p)
	return []op{
		flowOp(dp, "ingress", 0, 50, "ls_in_port_sec_l2",
			fmt.Sprintf(`inport == "%s" && eth.src == {%s}`, name, mac), "next;"),
		flowOp(dp, "ingress", 1, 90, "ls_in_port_sec_ip",
			fmt.Sprintf(`inport == "%s" && eth.src == %s && ip4.src == {%s}`, name, mac, ip), "next;"),
		flowOp(dp, "ingress", 17, 50, "ls_in_arp_rsp",
			fmt.Sprintf(`arp.tpa == %s && arp.op == 1 && inport != "%s"`, ip, name),
			fmt.Sprintf("eth.dst = eth.src; eth.src = %s; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = %s; arp.tpa = arp.spa; arp.spa = %s; outport = inport; flags.loopback = 1; output;", mac, mac, ip)),
		flowOp(dp, "ingress", 24, 50, "ls_in_l2_lkup",
			fmt.Sprintf(`eth.dst == %s`, mac), fmt.Sprintf(`outport = "%s"; output;`, name)),
		flowOp(dp, "egress", 9, 50, "ls_out_port_sec_l2",
			fmt.Sprintf(`outport == "%s" && eth.dst == {%s}`, name, mac), "output;"),
	}
}

func routerPortFlows(dp string, s int) []op {
	name, mac, gw := routerPortName(s), portMAC(s, -1), subnetGateway(s)
	return []op{
		flowOp(dp, "ingress", 0, 50, "lr_in_admission",
			fmt.Sprintf(`eth.dst == %s && inport == "%s"`, mac, name),
			fmt.Sprintf("xreg0[0..47] = %s; next;", mac)),
		flowOp(dp, "ingress", 3, 90, "lr_in_ip_input",
			fmt.Sprintf(`inport == "%s" && arp.spa == %s/24 && arp.tpa == %s && arp.op == 1`, name, gw, gw),
			fmt.Sprintf("eth.dst = eth.src; eth.src = xreg0[0..47]; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = xreg0[0..47]; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;")),
		flowOp(dp, "ingress", 11, 74, "lr_in_ip_routing",
			fmt.Sprintf(`ip4.dst == %s/24`, gw),
			fmt.Sprintf(`ip.ttl--; reg8[0..15] = 0; reg0 = ip4.dst; reg1 = %s; eth.src = %s; outport = "%s"; flags.loopback = 1; next;`, gw, mac, name)),
		flowOp(dp, "ingress", 14, 100, "lr_in_arp_resolve",
			fmt.Sprintf(`outport == "%s" && reg0 == %s`, name, gw),
			fmt.Sprintf("eth.dst = %s; next;", mac)),
	}
}

// batches groups ops into transaction params of at most n ops each.
func batches(db string, ops []op, n int) ([][]byte, error) {
	var out [][]byte
	for len(ops) > 0 {
		k := min(n, len(ops))
		params := append([]any{db}, anySlice(ops[:k])...)
		b, err := json.Marshal(params)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		ops = ops[k:]
	}
	return out, nil
}

func anySlice(ops []op) []any {
	out := make([]any, len(ops))
	for i, o := range ops {
		out[i] = o
	}
	return out
}

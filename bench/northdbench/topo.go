package main

import "fmt"

// topology is the benchmark's NB: switches×ports VIF ports, one router
// with a port per switch (and a router-type switch port peered with it),
// and one port group of every VIF with three stateful ACLs.
type topology struct {
	switches, ports int // ports per switch
}

// op is one OVSDB operation as sent on the wire.
type op = map[string]any

func ovsMap(kv ...string) []any {
	pairs := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, []any{kv[i], kv[i+1]})
	}
	return []any{"map", pairs}
}

func ovsSet(elems ...any) []any { return []any{"set", elems} }

func named(name string) []any { return []any{"named-uuid", name} }

func switchName(s int) string     { return fmt.Sprintf("ls%03d", s) }
func portName(s, p int) string    { return fmt.Sprintf("ls%03d-p%02d", s, p) }
func routerPortName(s int) string { return fmt.Sprintf("lr0-ls%03d", s) }

// portMAC and portIP give port p of switch s (p = -1 is the router's
// port) a unique address in the switch's /24; p may go up to 252.
func portMAC(s, p int) string {
	return fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x", s>>8, s&0xff, (p+1)>>8, (p+1)&0xff)
}

func portIP(s, p int) string { return fmt.Sprintf("10.%d.%d.%d", s>>8, s&0xff, p+2) }

// aclSpecs are the port group's three stateful ACLs, a typical security
// group: from members, SSH in, everything out.
var aclSpecs = []struct{ dir, match string }{
	{"to-lport", `outport == @pg_all && ip4 && ip4.src == $pg_all_ip4`},
	{"to-lport", `outport == @pg_all && ip4 && tcp.dst == 22`},
	{"from-lport", `inport == @pg_all && ip4`},
}

// ops returns the whole topology as one list of operations: the NB rows
// in dependency order, referring to each other by named UUID.
func (t topology) ops() []op {
	var ops, rpRefs, vifRefs []any
	for s := range t.switches {
		var lsPorts []any
		for p := range t.ports {
			u := fmt.Sprintf("p%d_%d", s, p)
			ops = append(ops, op{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": u, "row": op{
				"name":      portName(s, p),
				"addresses": ovsSet(portMAC(s, p) + " " + portIP(s, p)),
			}})
			lsPorts = append(lsPorts, named(u))
			vifRefs = append(vifRefs, named(u))
		}
		rp := fmt.Sprintf("rp%d", s)
		ops = append(ops, op{"op": "insert", "table": "Logical_Router_Port", "uuid-name": rp, "row": op{
			"name": routerPortName(s), "mac": portMAC(s, -1), "networks": ovsSet(portIP(s, -1) + "/24"),
		}})
		rpRefs = append(rpRefs, named(rp))
		lsp := fmt.Sprintf("rl%d", s)
		ops = append(ops, op{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": lsp, "row": op{
			"name": fmt.Sprintf("ls%03d-lr0", s), "type": "router", "addresses": ovsSet("router"),
			"options": ovsMap("router-port", routerPortName(s)),
		}})
		lsPorts = append(lsPorts, named(lsp))
		ops = append(ops, op{"op": "insert", "table": "Logical_Switch", "row": op{
			"name": switchName(s), "ports": ovsSet(lsPorts...),
		}})
	}
	ops = append(ops, op{"op": "insert", "table": "Logical_Router", "row": op{"name": "lr0", "ports": ovsSet(rpRefs...)}})
	var aclRefs []any
	for i, a := range aclSpecs {
		u := fmt.Sprintf("acl%d", i)
		ops = append(ops, op{"op": "insert", "table": "ACL", "uuid-name": u, "row": op{
			"direction": a.dir, "priority": 1001 + i, "match": a.match, "action": "allow-related",
		}})
		aclRefs = append(aclRefs, named(u))
	}
	ops = append(ops, op{"op": "insert", "table": "Port_Group", "row": op{
		"name": "pg_all", "ports": ovsSet(vifRefs...), "acls": ovsSet(aclRefs...),
	}})
	out := make([]op, len(ops))
	for i, o := range ops {
		out[i] = o.(op)
	}
	return out
}

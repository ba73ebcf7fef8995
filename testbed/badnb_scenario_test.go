package testbed_test

import (
	"testing"

	"github.com/ovnd/ovnd/testbed"
)

// scenarioBadNB puts bad rows in the NB next to working ports: an ACL
// whose match does not parse, a port with an invalid MAC and, with ovnd's
// northd, a port claiming another's MAC and IP and a port listed by a
// second switch. The working ports keep forwarding, and a port added
// afterwards works: northd neither stops nor lets the bad rows spoil
// other flows. (ovn-northd writes a duplicate address as a second owner,
// so that part runs only against ovnd's northd, which skips it.)
func scenarioBadNB(t *testing.T, topo *testbed.Topology) {
	v := addSwitch(t, topo, "bad", "",
		lsp{"bad-a", "0a:00:00:00:0a:01", "10.9.0.1/24", 1},
		lsp{"bad-b", "0a:00:00:00:0a:02", "10.9.0.2/24", 2})
	a, b := v[0], v[1]
	a.MustPing(t, b)

	topo.NBCtl(t, "--", "--id=@acl", "create", "ACL", "name=broken", "direction=to-lport", "priority=1000",
		`match="ip4.src =="`, "action=drop", "--", "add", "Logical_Switch", "bad", "acls", "@acl")
	topo.NBCtl(t, "lsp-add", "bad", "bad-mac", "--", "set", "Logical_Switch_Port", "bad-mac", `addresses="zz:00:00:00:0a:09 10.9.0.9"`)
	if topo.Config.Northd == testbed.OVND {
		topo.NBCtl(t, "lsp-add", "bad", "bad-dup", "--", "set", "Logical_Switch_Port", "bad-dup", `addresses="0a:00:00:00:0a:01 10.9.0.1"`)
		aUUID := topo.NBCtl(t, "get", "Logical_Switch_Port", "bad-a", "_uuid")
		topo.NBCtl(t, "ls-add", "bad2", "--", "add", "Logical_Switch", "bad2", "ports", aUUID)
	}
	topo.Sync(t)
	a.MustPingN(t, b, 3)
	b.MustPingN(t, a, 3)

	c := addSwitchPort(t, topo, "bad", lsp{"bad-c", "0a:00:00:00:0a:03", "10.9.0.3/24", 1})
	c.MustPing(t, b)
	c.MustPing(t, a)
}

// addSwitchPort adds a port with a VIF to an existing switch.
func addSwitchPort(t *testing.T, topo *testbed.Topology, ls string, p lsp) *testbed.VIF {
	t.Helper()
	topo.NBCtl(t, "lsp-add", ls, p.name, "--", "lsp-set-addresses", p.name, p.mac+" "+p.ip())
	return topo.HV(p.hv).Plug(t, testbed.VIFSpec{Port: p.name, MAC: p.mac, Addrs: []string{p.cidr}})
}

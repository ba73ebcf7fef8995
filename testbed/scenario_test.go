package testbed_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/testbed"
)

// TestScenario runs the scenario suite on one topology of two chassis;
// each sub-test builds its own part of the NB and its own VIFs, and leaves
// an empty NB behind.
func TestScenario(t *testing.T) {
	start := time.Now()
	topo := testbed.New(t, testbed.Options{Chassis: 2})
	for _, sc := range []struct {
		name string
		fn   func(*testing.T, *testbed.Topology)
		// routers marks scenarios that need logical routers, which
		// ovnd's northd does not build yet.
		routers bool
	}{
		{"L2", scenarioL2, false},
		{"PortSecurity", scenarioPortSecurity, false},
		{"ACL", scenarioACL, false},
		{"SecurityGroup", scenarioSecurityGroup, false},
		{"Router", scenarioRouter, true},
		{"DHCP", scenarioDHCP, false},
		{"NAT_LB", scenarioNATLB, true},
		{"PortUp", scenarioPortUp, false},
		{"WaitHV", scenarioWaitHV, false},
		{"BadNB", scenarioBadNB, false},
	} {
		t.Run(sc.name, func(t *testing.T) {
			if sc.routers && topo.Config.Northd == testbed.OVND {
				t.Skip("needs logical routers, which ovnd's northd does not build yet (OVND_E2E_NORTHD=ovnd)")
			}
			if err := topo.Alive(); err != nil {
				t.Fatalf("not run: %v", err)
			}
			t.Cleanup(func() { topo.ResetNB(t) })
			scStart := time.Now()
			sc.fn(t, topo)
			t.Logf("%s took %v", sc.name, time.Since(scStart).Round(time.Millisecond))
		})
	}
	t.Logf("suite (%s) took %v", topo.Config, time.Since(start).Round(time.Millisecond))
}

// lsp is a logical switch port with a VIF behind it.
type lsp struct {
	name, mac, cidr string
	hv              int // chassis the VIF is plugged into, 1-based
}

// ip is the port's address without the prefix length.
func (p lsp) ip() string { return strings.Split(p.cidr, "/")[0] }

// addSwitch creates a logical switch with ports whose addresses are
// "MAC IP", and plugs a VIF for each one, with gw as default route.
func addSwitch(t *testing.T, topo *testbed.Topology, ls, gw string, ports ...lsp) []*testbed.VIF {
	t.Helper()
	args := []string{"ls-add", ls}
	for _, p := range ports {
		args = append(args, "--", "lsp-add", ls, p.name, "--", "lsp-set-addresses", p.name, p.mac+" "+p.ip())
	}
	topo.NBCtl(t, args...)
	vifs := make([]*testbed.VIF, len(ports))
	for i, p := range ports {
		vifs[i] = topo.HV(p.hv).Plug(t, testbed.VIFSpec{Port: p.name, MAC: p.mac, Addrs: []string{p.cidr}, Gateway: gw})
	}
	return vifs
}

// addRouterPort connects router lr to switch ls through router port lrp.
func addRouterPort(t *testing.T, topo *testbed.Topology, lr, lrp, mac, cidr, ls string) {
	t.Helper()
	sp := ls + "-" + lr
	topo.NBCtl(t, "lrp-add", lr, lrp, mac, cidr,
		"--", "lsp-add", ls, sp, "--", "lsp-set-type", sp, "router",
		"--", "lsp-set-addresses", sp, "router", "--", "lsp-set-options", sp, "router-port="+lrp)
}

func scenarioL2(t *testing.T, topo *testbed.Topology) {
	v := addSwitch(t, topo, "l2", "",
		lsp{"l2-a", "0a:00:00:00:01:01", "10.0.0.1/24", 1},
		lsp{"l2-b", "0a:00:00:00:01:02", "10.0.0.2/24", 1},
		lsp{"l2-c", "0a:00:00:00:01:03", "10.0.0.3/24", 2})
	a, b, c := v[0], v[1], v[2]

	a.MustPing(t, b) // one chassis

	a.MustPing(t, c) // two chassis
	capture := topo.CaptureUnderlay(t, topo.HV(1))
	a.MustPingN(t, c, 3)
	capture.MustSeeEncap(t, topo.Config.Encap, "10.0.0.1 > 10.0.0.3: ICMP echo request")

	c.Listen(t, 7000)
	if r := a.MustConnect(t, c, 7000); r.Server != "l2-c" || r.Client != a.Address() {
		t.Errorf("TCP a -> c: got %+v", r)
	}
	t.Logf("iperf3 between chassis over %s: %.0f Mbit/s", topo.Config.Encap, c.Iperf(t, a, 2))
}

func scenarioPortSecurity(t *testing.T, topo *testbed.Topology) {
	v := addSwitch(t, topo, "ps", "",
		lsp{"ps-a", "0a:00:00:00:02:01", "10.0.1.1/24", 1},
		lsp{"ps-b", "0a:00:00:00:02:02", "10.0.1.2/24", 2})
	a, b := v[0], v[1]
	topo.NBCtl(t, "lsp-set-port-security", "ps-a", "0a:00:00:00:02:01 10.0.1.1")
	topo.Sync(t)
	a.MustPing(t, b)

	a.SetMAC(t, "0a:00:00:00:02:99") // spoofed MAC
	a.MustNotPing(t, b)
	a.SetMAC(t, "0a:00:00:00:02:01")
	a.MustPing(t, b)

	a.SetAddrs(t, "", "10.0.1.99/24") // spoofed IP
	a.MustNotPing(t, b)
	a.SetAddrs(t, "", "10.0.1.1/24")
	a.MustPing(t, b)
}

// aclSwitch is the ACL switch: a and c on hv1, b on hv2.
func aclSwitch(t *testing.T, topo *testbed.Topology) []*testbed.VIF {
	return addSwitch(t, topo, "acl", "",
		lsp{"acl-a", "0a:00:00:00:03:01", "10.0.2.1/24", 1},
		lsp{"acl-b", "0a:00:00:00:03:02", "10.0.2.2/24", 2},
		lsp{"acl-c", "0a:00:00:00:03:03", "10.0.2.3/24", 1})
}

// aclRules are the ACL scenario's acl-add arguments after the switch
// name, in the order it adds them.
var aclRules = [][]string{
	{"to-lport", "1000", `outport == "acl-b" && ip4.src == 10.0.2.1 && icmp4`, "drop"},
	{"to-lport", "1001", `outport == "acl-b" && ip4.src == 10.0.2.1 && icmp4`, "allow"},
	{"to-lport", "1000", `outport == "acl-b" && tcp.dst == 8080`, "drop"},
	{"from-lport", "1000", `inport == "acl-c" && ip4.dst == 10.0.2.2`, "drop"},
}

func scenarioACL(t *testing.T, topo *testbed.Topology) {
	v := aclSwitch(t, topo)
	a, b, c := v[0], v[1], v[2]
	b.Listen(t, 8080)
	b.Listen(t, 8081)
	a.MustPing(t, b)
	c.MustPing(t, b)
	a.MustConnect(t, b, 8080)

	// to-lport, L3 match: ICMP from a to b is dropped, from c it is not.
	topo.NBCtl(t, append([]string{"acl-add", "acl"}, aclRules[0]...)...)
	topo.Sync(t)
	a.MustNotPing(t, b)
	c.MustPing(t, b)

	// A higher priority allow wins over the drop.
	topo.NBCtl(t, append([]string{"acl-add", "acl"}, aclRules[1]...)...)
	topo.Sync(t)
	a.MustPing(t, b)

	// to-lport, L4 match: one TCP port is dropped, the next one is not.
	topo.NBCtl(t, append([]string{"acl-add", "acl"}, aclRules[2]...)...)
	topo.Sync(t)
	a.MustNotConnect(t, b, 8080)
	a.MustConnect(t, b, 8081)

	// from-lport: everything c sends to b is dropped at c's port.
	topo.NBCtl(t, append([]string{"acl-add", "acl"}, aclRules[3]...)...)
	topo.Sync(t)
	c.MustNotPing(t, b)
	c.MustNotConnect(t, b, 8081)
	a.MustPing(t, b)
}

// sgSwitch is the SecurityGroup switch: web1, web2, client, other.
func sgSwitch(t *testing.T, topo *testbed.Topology) []*testbed.VIF {
	return addSwitch(t, topo, "sg", "",
		lsp{"sg-web1", "0a:00:00:00:04:11", "10.0.3.11/24", 1},
		lsp{"sg-web2", "0a:00:00:00:04:12", "10.0.3.12/24", 2},
		lsp{"sg-client", "0a:00:00:00:04:21", "10.0.3.21/24", 2},
		lsp{"sg-other", "0a:00:00:00:04:31", "10.0.3.31/24", 1})
}

// sgPolicy is pg_web: ingress only from $as_clients on port 80 and from
// the group's own members ($pg_web_ip4); egress open; all stateful.
func sgPolicy(t *testing.T, topo *testbed.Topology) {
	topo.NBCtl(t, "pg-add", "pg_web", "sg-web1", "sg-web2",
		"--", "create", "Address_Set", "name=as_clients", "addresses=10.0.3.21")
	topo.NBCtl(t, "--type=port-group", "acl-add", "pg_web", "to-lport", "1000", `outport == @pg_web && ip4`, "drop")
	topo.NBCtl(t, "--type=port-group", "acl-add", "pg_web", "to-lport", "1001",
		`outport == @pg_web && ip4.src == $as_clients && tcp.dst == 80`, "allow-related")
	topo.NBCtl(t, "--type=port-group", "acl-add", "pg_web", "to-lport", "1001",
		`outport == @pg_web && ip4.src == $pg_web_ip4`, "allow-related")
	topo.NBCtl(t, "--type=port-group", "acl-add", "pg_web", "from-lport", "1001", `inport == @pg_web && ip4`, "allow-related")
	topo.Sync(t)
}

func scenarioSecurityGroup(t *testing.T, topo *testbed.Topology) {
	v := sgSwitch(t, topo)
	web1, web2, client, other := v[0], v[1], v[2], v[3]
	web1.Listen(t, 80)
	web1.Listen(t, 22)
	client.Listen(t, 80)
	web1.MustConnect(t, client, 80)

	sgPolicy(t, topo)

	client.MustConnect(t, web1, 80)    // allowed by the address set
	client.MustNotConnect(t, web1, 22) // new inbound on another port
	other.MustNotConnect(t, web1, 80)  // not in the address set
	client.MustNotPing(t, web1)
	web2.MustConnect(t, web1, 22) // member of the group: $pg_web_ip4
	web2.MustPing(t, web1)

	// Outbound from the group is new and allowed; its replies pass the
	// inbound drop because the connection is tracked.
	web1.MustConnect(t, client, 80)
	web1.MustPing(t, other)
}

// buildRouter is the Router topology: router "rt" between switches rt1
// (x on hv1) and rt2 (y and nh on hv2), nh also owning 10.3.0.1.
func buildRouter(t *testing.T, topo *testbed.Topology) (x, y, nh *testbed.VIF) {
	topo.NBCtl(t, "lr-add", "rt")
	x = addSwitch(t, topo, "rt1", "10.1.0.1", lsp{"rt1-x", "0a:00:00:00:05:10", "10.1.0.10/24", 1})[0]
	y = addSwitch(t, topo, "rt2", "10.2.0.1", lsp{"rt2-y", "0a:00:00:00:05:20", "10.2.0.10/24", 2})[0]
	addRouterPort(t, topo, "rt", "rt-1", "0a:00:00:00:05:01", "10.1.0.1/24", "rt1")
	addRouterPort(t, topo, "rt", "rt-2", "0a:00:00:00:05:02", "10.2.0.1/24", "rt2")
	// nh is a host on rt2 that also owns 10.3.0.1, a network the logical
	// router only reaches through a static route via nh.
	topo.NBCtl(t, "lsp-add", "rt2", "rt2-nh", "--", "lsp-set-addresses", "rt2-nh", "0a:00:00:00:05:30 10.2.0.30")
	nh = topo.HV(2).Plug(t, testbed.VIFSpec{Port: "rt2-nh", MAC: "0a:00:00:00:05:30",
		Addrs: []string{"10.2.0.30/24", "10.3.0.1/32"}, Gateway: "10.2.0.1"})
	return x, y, nh
}

func scenarioRouter(t *testing.T, topo *testbed.Topology) {
	x, y, nh := buildRouter(t, topo)

	x.MustPing(t, y)
	y.Listen(t, 7001)
	if r := x.MustConnect(t, y, 7001); r.Client != x.Address() {
		t.Errorf("TCP across the router: server saw %s, want %s", r.Client, x.Address())
	}
	x.MustPing(t, nh)
	x.MustNotPing(t, testbed.IP("10.3.0.1"))

	topo.NBCtl(t, "lr-route-add", "rt", "10.3.0.0/24", "10.2.0.30")
	topo.Sync(t)
	x.MustPing(t, testbed.IP("10.3.0.1"))
}

// buildDHCP is the DHCP topology: switch dh with b (addressed, hv1) and
// a (no address, hv2) whose port has DHCPv4 and DHCPv6 options.
func buildDHCP(t *testing.T, topo *testbed.Topology) (a, b *testbed.VIF) {
	b = topo.HV(1).Plug(t, testbed.VIFSpec{Port: "dh-b", MAC: "0a:00:00:00:06:20",
		Addrs: []string{"10.5.0.20/24", "fd05::20/64"}})
	v4 := dhcpOptions(t, topo, "10.5.0.0/24", "lease_time=3600", "router=10.5.0.1",
		"server_id=10.5.0.1", "server_mac=0a:00:00:00:06:01", "dns_server={10.5.0.53}", "mtu=1300")
	v6 := dhcpOptions(t, topo, "fd05::/64", "server_id=0a:00:00:00:06:01", "dns_server={fd05::53}")
	topo.NBCtl(t, "ls-add", "dh",
		"--", "lsp-add", "dh", "dh-b", "--", "lsp-set-addresses", "dh-b", "0a:00:00:00:06:20 10.5.0.20 fd05::20",
		"--", "lsp-add", "dh", "dh-a", "--", "lsp-set-addresses", "dh-a", "0a:00:00:00:06:10 10.5.0.10 fd05::10",
		"--", "lsp-set-dhcpv4-options", "dh-a", v4, "--", "lsp-set-dhcpv6-options", "dh-a", v6)
	a = topo.HV(2).Plug(t, testbed.VIFSpec{Port: "dh-a", MAC: "0a:00:00:00:06:10"}) // no address
	topo.Sync(t)
	return a, b
}

func scenarioDHCP(t *testing.T, topo *testbed.Topology) {
	a, b := buildDHCP(t, topo)

	lease := a.DHCP(t)
	t.Logf("DHCPv4 lease: %v", lease)
	wantLease(t, "DHCPv4", lease, map[string]string{
		"ip_address": "10.5.0.10", "subnet_mask": "255.255.255.0", "routers": "10.5.0.1",
		"domain_name_servers": "10.5.0.53", "interface_mtu": "1300",
	})
	a.MustPing(t, b) // the leased address is on the interface and works
	b.MustPing(t, a)

	lease6 := a.DHCP6(t)
	t.Logf("DHCPv6 lease: %v", lease6)
	wantLease(t, "DHCPv6", lease6, map[string]string{"ip6_address": "fd05::10", "dhcp6_name_servers": "fd05::53"})
	// DHCPv6 leases a /128; the prefix comes from router advertisements,
	// which this switch has no router to send.
	a.AddRoute(t, "fd05::/64", "")
	a.MustPing(t, testbed.IP("fd05::20"))
}

// dhcpOptions creates a DHCP_Options row for cidr and returns its UUID.
func dhcpOptions(t *testing.T, topo *testbed.Topology, cidr string, options ...string) string {
	t.Helper()
	uuid := topo.NBCtl(t, "create", "DHCP_Options", "cidr="+strings.ReplaceAll(cidr, ":", "\\:"))
	topo.NBCtl(t, append([]string{"dhcp-options-set-options", uuid}, options...)...)
	return uuid
}

func wantLease(t *testing.T, what string, lease testbed.Lease, want map[string]string) {
	t.Helper()
	for opt, w := range want {
		if got := lease[opt]; got != w {
			t.Errorf("%s %s = %q, want %q", what, opt, got, w)
		}
	}
}

// natLB is the NAT_LB topology: switch "in" (a, b1, b2, c) behind router
// "nat", whose distributed gateway port nat-out (gateway chassis hv1)
// leads to switch "out" (ext), with SNAT, dnat_and_snat and a load
// balancer on "in".
type natLB struct{ a, b1, b2, c, ext *testbed.VIF }

func buildNATLB(t *testing.T, topo *testbed.Topology) natLB {
	hv1 := topo.HV(1)
	v := addSwitch(t, topo, "in", "10.6.0.1",
		lsp{"nat-a", "0a:00:00:00:07:10", "10.6.0.10/24", 2},
		lsp{"nat-b1", "0a:00:00:00:07:21", "10.6.0.21/24", 2},
		lsp{"nat-b2", "0a:00:00:00:07:22", "10.6.0.22/24", 1},
		lsp{"nat-c", "0a:00:00:00:07:30", "10.6.0.30/24", 1})
	a, b1, b2, c := v[0], v[1], v[2], v[3]
	ext := addSwitch(t, topo, "out", "", lsp{"nat-ext", "0a:00:00:00:07:99", "172.16.6.10/24", 1})[0]
	topo.NBCtl(t, "lr-add", "nat")
	addRouterPort(t, topo, "nat", "nat-in", "0a:00:00:00:07:01", "10.6.0.1/24", "in")
	addRouterPort(t, topo, "nat", "nat-out", "0a:00:00:00:07:02", "172.16.6.1/24", "out")
	topo.NBCtl(t, "lrp-set-gateway-chassis", "nat-out", hv1.SystemID, "10",
		"--", "lr-nat-add", "nat", "snat", "172.16.6.1", "10.6.0.0/24",
		"--", "lr-nat-add", "nat", "dnat_and_snat", "172.16.6.100", "10.6.0.10",
		"--", "lb-add", "lb0", "10.66.0.200:80", "10.6.0.21:8080,10.6.0.22:8080", "tcp",
		"--", "ls-lb-add", "in", "lb0")
	topo.Sync(t)
	return natLB{a, b1, b2, c, ext}
}

func scenarioNATLB(t *testing.T, topo *testbed.Topology) {
	n := buildNATLB(t, topo)
	a, b1, b2, c, ext := n.a, n.b1, n.b2, n.c, n.ext

	// SNAT: ext has no route to 10.6.0.0/24 and sees the router's address.
	ext.Listen(t, 9000)
	if r := b1.MustConnect(t, ext, 9000); r.Client != "172.16.6.1" {
		t.Errorf("SNAT: ext saw %s, want 172.16.6.1", r.Client)
	}
	// DNAT: ext reaches a through its external address, and a's own
	// connections leave with it.
	a.Listen(t, 9000)
	if r := ext.MustConnect(t, testbed.IP("172.16.6.100"), 9000); r.Server != "nat-a" {
		t.Errorf("DNAT: 172.16.6.100 answered by %s, want nat-a", r.Server)
	}
	if r := a.MustConnect(t, ext, 9000); r.Client != "172.16.6.100" {
		t.Errorf("dnat_and_snat: ext saw %s, want 172.16.6.100", r.Client)
	}

	// Load balancer: connections to the VIP spread over both backends.
	b1.Listen(t, 8080)
	b2.Listen(t, 8080)
	vip := testbed.IP("10.66.0.200")
	c.MustConnect(t, vip, 80)
	seen := map[string]int{}
	for range 20 {
		r, err := c.Connect(vip, 80)
		if err != nil {
			t.Fatalf("load balancer: %v", err)
		}
		seen[r.Server]++
	}
	t.Logf("load balancer: 20 connections to %s: %v", vip.Address(), seen)
	if seen["nat-b1"] == 0 || seen["nat-b2"] == 0 || len(seen) != 2 {
		t.Errorf("load balancer: want both backends, got %v", seen)
	}

	// Hairpin: a backend reaching the VIP may be chosen itself; it then
	// sees the VIP as the source (chk_lb_hairpin, ct_snat_to_vip).
	hairpin := 0
	for range 12 {
		r, err := b1.Connect(vip, 80)
		if err != nil {
			t.Fatalf("load balancer from a backend: %v", err)
		}
		if r.Server == "nat-b1" {
			hairpin++
			if r.Client != vip.Address() {
				t.Errorf("hairpin: nat-b1 saw %s, want the VIP %s", r.Client, vip.Address())
			}
		}
	}
	if hairpin == 0 {
		t.Errorf("hairpin: 12 connections from nat-b1 to the VIP, none chosen nat-b1")
	}
}

func scenarioPortUp(t *testing.T, topo *testbed.Topology) {
	b := addSwitch(t, topo, "pu", "", lsp{"pu-b", "0a:00:00:00:08:02", "10.7.0.2/24", 1})[0]
	topo.WaitFor(t, "pu-b up in the NB", 30*time.Second, func() error { return topo.PortUp("pu-b") })

	// Three VIFs, plugged before their logical ports exist, one after the
	// other: the median says more than one sample on a busy machine.
	var pings, ups []time.Duration
	for i := 1; i <= 3; i++ {
		name, mac, ip := fmt.Sprintf("pu-a%d", i), fmt.Sprintf("0a:00:00:00:08:1%d", i), fmt.Sprintf("10.7.0.1%d", i)
		a := topo.HV(2).Plug(t, testbed.VIFSpec{Port: name, MAC: mac, Addrs: []string{ip + "/24"}})
		start := time.Now()
		topo.NBCtl(t, "lsp-add", "pu", name, "--", "lsp-set-addresses", name, mac+" "+ip)
		pings = append(pings, a.FirstPing(t, b, 30*time.Second).Sub(start))
		topo.WaitFor(t, name+" up in the NB", 30*time.Second, func() error { return topo.PortUp(name) })
		ups = append(ups, time.Since(start))
	}
	t.Logf("port up (%s): lsp-add to first ping %v (median %v), to up=true in the NB %v (median %v)",
		topo.Config, rounded(pings), median(pings), rounded(ups), median(ups))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func rounded(ds []time.Duration) []time.Duration {
	r := make([]time.Duration, len(ds))
	for i, d := range ds {
		r[i] = d.Round(time.Millisecond)
	}
	return r
}

// scenarioWaitHV checks that `ovn-nbctl --wait=hv` returns only once every
// chassis has the change: it blocks while a controller is frozen, and a
// port added with --wait=hv answers its very first ping, without retry.
func scenarioWaitHV(t *testing.T, topo *testbed.Topology) {
	b := addSwitch(t, topo, "wh", "", lsp{"wh-b", "0a:00:00:00:09:02", "10.8.0.2/24", 1})[0]
	topo.WaitFor(t, "wh-b up in the NB", 30*time.Second, func() error { return topo.PortUp("wh-b") })
	topo.Sync(t)

	// A frozen chassis holds --wait=hv back; --wait=sb does not wait
	// for it.
	resume := topo.HV(2).PauseController(t)
	topo.NBCtl(t, "--wait=sb", "set", "Logical_Switch", "wh", "external_ids:step=1")
	if _, err := topo.TryNBCtl("--wait=hv", "--timeout=3", "set", "Logical_Switch", "wh", "external_ids:step=2"); err == nil {
		t.Errorf("--wait=hv returned while hv2's controller was frozen")
	}
	resume()
	topo.Sync(t)

	for i := 1; i <= 3; i++ {
		name, mac, ip := fmt.Sprintf("wh-a%d", i), fmt.Sprintf("0a:00:00:00:09:1%d", i), fmt.Sprintf("10.8.0.1%d", i)
		a := topo.HV(2).Plug(t, testbed.VIFSpec{Port: name, MAC: mac, Addrs: []string{ip + "/24"}})
		topo.NBCtl(t, "--wait=hv", "lsp-add", "wh", name, "--", "lsp-set-addresses", name, mac+" "+ip)
		if err := a.Ping(b); err != nil {
			t.Errorf("first ping right after lsp-add --wait=hv: %v", err)
		}
		hv, _ := strconv.Atoi(topo.NBCtl(t, "get", "NB_Global", ".", "hv_cfg"))
		if nb, _ := strconv.Atoi(topo.NBCtl(t, "get", "NB_Global", ".", "nb_cfg")); hv < nb {
			t.Errorf("after --wait=hv: hv_cfg %d, nb_cfg %d", hv, nb)
		}
	}
}

package build

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// nasty are strings that NB columns may hold and that a parser may trip
// over.
var nasty = []string{
	"", " ", "unknown", "router", "dynamic", "0", "-1", "99999999999999999999", "zz:zz:zz:zz:zz:zz",
	"00:00:00:00:00:01", "00:00:00:00:00:01 10.0.0.1", "00:00:00:00:00:01 10.0.0.300", "00:00:00:00:00:01 fd00::1/129",
	"00:00:00:00:00:01 dynamic", "dynamic 10.0.0.9", "10.0.0.0/24", "10.0.0.0/33", "fd00::/64", "::", "0.0.0.0",
	"10.0.0.1:80", "[fd00::1]:80", "10.0.0.1:99999", "10.0.0.1:80,10.0.0.2:80", "10.0.0.1:80,", ",", "[",
	"ip4.src ==", "ip4 && (", "outport == @nosuch", "ip4.src == $nosuch", "inport == \"p1\"", "1", "{",
	"{10.0.0.1, 10.0.0.2}", "a=b", "p1", "p2", "sw0", "\x00", "ü", "tcp", "udp",
}

func nastyPick(r *rand.Rand) string { return nasty[r.IntN(len(nasty))] }

func nastyMap(r *rand.Rand, keys ...string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		if r.IntN(2) == 0 {
			m[k] = nastyPick(r)
		}
	}
	return m
}

// randomNB is a small NB whose string columns come from nasty.
func randomNB(r *rand.Rand) *NB {
	nb := &NB{Global: nbdb.NBGlobal{UUID: "g", Options: nastyMap(r, "svc_monitor_mac", "mac_prefix")},
		Switches: map[string]nbdb.LogicalSwitch{}, Ports: map[string]nbdb.LogicalSwitchPort{},
		PortGroups: map[string]nbdb.PortGroup{}, AddressSets: map[string]nbdb.AddressSet{}, ACLs: map[string]nbdb.ACL{},
		DHCPOptions: map[string]nbdb.DHCPOptions{}, DNS: map[string]nbdb.DNS{}, QoS: map[string]nbdb.QoS{},
		LBs: map[string]nbdb.LoadBalancer{}, LBGroups: map[string]nbdb.LoadBalancerGroup{}}
	types := []string{"", "localnet", "localport", "router", "virtual", "external", "vtep", "l2gateway", "nonsense"}
	var ports, acls, lbs, dhcp, dns, qos []string
	for i := range 3 {
		u := fmt.Sprintf("dh%d", i)
		nb.DHCPOptions[u] = nbdb.DHCPOptions{UUID: u, Cidr: nastyPick(r),
			Options: nastyMap(r, "server_id", "server_mac", "lease_time", "router", "dns_server", "mtu", "netmask")}
		dhcp = append(dhcp, u)
		u = fmt.Sprintf("dns%d", i)
		nb.DNS[u] = nbdb.DNS{UUID: u, Records: map[string]string{nastyPick(r): nastyPick(r)}}
		dns = append(dns, u)
		u = fmt.Sprintf("q%d", i)
		nb.QoS[u] = nbdb.QoS{UUID: u, Direction: []string{"from-lport", "to-lport"}[r.IntN(2)], Match: nastyPick(r),
			Priority: r.IntN(32768), Action: map[string]int{"dscp": r.IntN(64)}}
		qos = append(qos, u)
		u = fmt.Sprintf("lb%d", i)
		proto := []string{"tcp", "udp", "sctp"}[r.IntN(3)]
		nb.LBs[u] = nbdb.LoadBalancer{UUID: u, Name: nastyPick(r), Protocol: &proto, Vips: map[string]string{nastyPick(r): nastyPick(r)},
			Options: nastyMap(r, "reject", "hairpin_snat_ip", "skip_snat")}
		lbs = append(lbs, u)
	}
	for i := range 8 {
		u := fmt.Sprintf("lsp%d", i)
		p := nbdb.LogicalSwitchPort{UUID: u, Name: fmt.Sprintf("p%d", i%6), Type: types[r.IntN(len(types))],
			Addresses: []string{nastyPick(r), nastyPick(r)}, PortSecurity: []string{nastyPick(r)},
			Options: nastyMap(r, "network_name", "router-port", "virtual-ip", "virtual-parents", "requested-chassis")}
		if r.IntN(3) == 0 {
			parent, tag := nastyPick(r), r.IntN(4096)
			p.ParentName, p.TagRequest = &parent, &tag
		}
		if r.IntN(3) == 0 {
			p.Dhcpv4Options, p.Dhcpv6Options = &dhcp[r.IntN(3)], &dhcp[r.IntN(3)]
		}
		if r.IntN(4) == 0 {
			d := nastyPick(r)
			p.DynamicAddresses = &d
		}
		nb.Ports[u] = p
		ports = append(ports, u)
	}
	ports = append(ports, "missing-port")
	for i := range 6 {
		u := fmt.Sprintf("acl%d", i)
		nb.ACLs[u] = nbdb.ACL{UUID: u, Direction: []string{"from-lport", "to-lport"}[r.IntN(2)], Priority: r.IntN(32768),
			Match: nastyPick(r), Action: []string{"allow", "allow-related", "allow-stateless", "drop", "reject", "pass"}[r.IntN(6)],
			Options: nastyMap(r, "apply-after-lb", "log-related")}
		acls = append(acls, u)
	}
	some := func(from []string) []string {
		var out []string
		for _, u := range from {
			if r.IntN(3) == 0 {
				out = append(out, u)
			}
		}
		return out
	}
	for i := range 3 {
		u := fmt.Sprintf("ls%d", i)
		nb.Switches[u] = nbdb.LogicalSwitch{UUID: u, Name: nastyPick(r), Ports: some(ports), ACLs: some(acls), LoadBalancer: some(lbs),
			DNSRecords: some(dns), QOSRules: some(qos), OtherConfig: nastyMap(r, "subnet", "mcast_snoop")}
		u = fmt.Sprintf("pg%d", i)
		nb.PortGroups[u] = nbdb.PortGroup{UUID: u, Name: fmt.Sprintf("pg%d", i), Ports: some(ports), ACLs: some(acls)}
		u = fmt.Sprintf("as%d", i)
		nb.AddressSets[u] = nbdb.AddressSet{UUID: u, Name: nastyPick(r), Addresses: []string{nastyPick(r), nastyPick(r)}}
	}
	return nb
}

// TestBuildSurvivesNastyNB builds many NBs full of malformed values: the
// build never panics, never writes two Port_Bindings with one name, and
// is deterministic.
func TestBuildSurvivesNastyNB(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		nb := randomNB(r)
		var res *Result
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("seed %d: build panicked: %v", seed, p)
				}
			}()
			res = Build(nb, &SB{})
		}()
		names := map[string]bool{}
		for _, p := range res.Ports {
			if names[p.Name] {
				t.Errorf("seed %d: two Port_Bindings named %q", seed, p.Name)
			}
			names[p.Name] = true
		}
		again := Build(randomNB(rand.New(rand.NewPCG(seed, 7))), &SB{})
		if a, b := Render(res.Flows, nil), Render(again.Flows, nil); a != b {
			t.Errorf("seed %d: two builds of the same NB differ", seed)
		}
	}
}

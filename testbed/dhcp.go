package testbed

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Lease holds what dhclient received, by the names dhclient-script gets
// them ("ip_address", "routers", "domain_name_servers", "interface_mtu",
// "subnet_mask", "ip6_address", "dhcp6_name_servers", ...), without the
// "new_" prefix.
type Lease map[string]string

// dhclientScript records the lease and configures eth0 the way
// dhclient-script would, without touching the host's /etc/resolv.conf.
const dhclientScript = `#!/bin/sh
env | grep '^new_' | sort > "%[1]s/$reason.tmp"
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
	[ -n "$new_interface_mtu" ] && ip link set "$interface" mtu "$new_interface_mtu"
	ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
	for r in $new_routers; do ip route replace default via "$r" dev "$interface"; break; done
	;;
BOUND6|RENEW6|REBIND6|REBOOT6)
	ip -6 addr add "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
	;;
esac
# Only now does the lease appear, complete, for the test to read.
mv "%[1]s/$reason.tmp" "%[1]s/$reason.lease"
exit 0
`

const dhclientConf4 = `timeout 20;
retry 2;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, interface-mtu;
`

const dhclientConf6 = `timeout 20;
retry 2;
request dhcp6.name-servers, dhcp6.domain-search;
`

// DHCP runs dhclient for IPv4 on eth0 until it holds a lease (at most 30
// seconds), lets it configure eth0 and returns the lease.
func (v *VIF) DHCP(t testing.TB) Lease {
	t.Helper()
	return v.dhclient(t, "-4", dhclientConf4, "BOUND")
}

// DHCP6 runs dhclient for IPv6 (stateful DHCPv6) the same way.
func (v *VIF) DHCP6(t testing.TB) Lease {
	t.Helper()
	return v.dhclient(t, "-6", dhclientConf6, "BOUND6")
}

func (v *VIF) dhclient(t testing.TB, family, conf, reason string) Lease {
	t.Helper()
	RequireTool(t, "dhclient")
	dir := filepath.Join(v.tb.Dir, "dhcp-"+v.Name+family)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		v.tb.fail(t, "dhclient: %v", err)
	}
	script, cf := filepath.Join(dir, "script"), filepath.Join(dir, "dhclient.conf")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(dhclientScript, dir)), 0o755); err != nil {
		v.tb.fail(t, "dhclient: %v", err)
	}
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		v.tb.fail(t, "dhclient: %v", err)
	}
	d, err := startDaemon(v.Name+"/dhclient"+family, filepath.Join(dir, "dhclient.out"), v.NS, nil,
		"dhclient", family, "-d", "-1", "-v", "-cf", cf, "-sf", script,
		"-lf", filepath.Join(dir, "leases"), "-pf", filepath.Join(dir, "dhclient.pid"), "eth0")
	if err != nil {
		v.tb.fail(t, "dhclient: %v", err)
	}
	v.own(d)
	leaseFile := filepath.Join(dir, reason+".lease")
	v.tb.WaitFor(t, fmt.Sprintf("%s gets a DHCP%s lease", v.Name, strings.TrimPrefix(family, "-")), 30*time.Second, func() error {
		if _, err := os.Stat(leaseFile); err == nil {
			return nil
		}
		if err := d.Alive(); err != nil {
			return fmt.Errorf("%w: %s", err, tail(readFile(d.Output), 5))
		}
		return fmt.Errorf("no lease yet: %s", lastLine(readFile(d.Output)))
	})
	lease := readLease(leaseFile)
	if a := lease.cidr(); a != "" {
		v.mu.Lock()
		v.Spec.Addrs = append(v.Spec.Addrs, a) // so that v.Address() finds it
		v.mu.Unlock()
	}
	return lease
}

// cidr is the leased address with its prefix length, or "".
func (l Lease) cidr() string {
	if ip := net.ParseIP(l["ip_address"]); ip != nil {
		mask := net.ParseIP(l["subnet_mask"]).To4()
		ones, _ := net.IPMask(mask).Size()
		return fmt.Sprintf("%s/%d", ip, ones)
	}
	if ip := net.ParseIP(l["ip6_address"]); ip != nil {
		return fmt.Sprintf("%s/%s", ip, l["ip6_prefixlen"])
	}
	return ""
}

func readLease(path string) Lease {
	l := Lease{}
	f, err := os.Open(path)
	if err != nil {
		return l
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, val, ok := strings.Cut(s.Text(), "=")
		if ok {
			l[strings.TrimPrefix(k, "new_")] = strings.Trim(val, "'")
		}
	}
	return l
}

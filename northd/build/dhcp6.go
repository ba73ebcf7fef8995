package build

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// dhcp6 is a port's usable DHCPv6_Options: a CIDR and a server_id (the
// server's MAC).
type dhcp6 struct {
	cidr      netip.Prefix
	serverMAC string
	serverLL  netip.Addr // the link-local address derived from serverMAC
	stateless bool
	opts      string // sorted, as put_dhcpv6_opts prints them
}

func portDHCP6(nb *NB, p *lport) *dhcp6 {
	if p.nb.Dhcpv6Options == nil {
		return nil
	}
	o, ok := nb.DHCPOptions[*p.nb.Dhcpv6Options]
	if !ok {
		return nil
	}
	cidr, err := netip.ParsePrefix(o.Cidr)
	if err != nil || !cidr.Addr().Is6() {
		return nil
	}
	mac, ok := parseMAC(o.Options["server_id"])
	if !ok {
		return nil
	}
	opts := copyMap(o.Options)
	stateless := opts["dhcpv6_stateless"] == "true"
	delete(opts, "dhcpv6_stateless")
	var names []string
	for k := range opts {
		names = append(names, k)
	}
	slices.Sort(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, k+" = "+opts[k])
	}
	return &dhcp6{cidr: cidr.Masked(), serverMAC: formatMAC(mac), serverLL: linkLocal(mac),
		stateless: stateless, opts: strings.Join(parts, ", ")}
}

// parseMAC parses an Ethernet address written as six hex pairs with colons.
func parseMAC(s string) ([6]byte, bool) {
	var mac [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return mac, false
	}
	for i, p := range parts {
		b, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return mac, false
		}
		mac[i] = byte(b)
	}
	return mac, true
}

func formatMAC(m [6]byte) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// linkLocal is the EUI-64 link-local address of mac.
func linkLocal(mac [6]byte) netip.Addr {
	return netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 8: mac[0] ^ 0x02, 9: mac[1], 10: mac[2],
		11: 0xff, 12: 0xfe, 13: mac[3], 14: mac[4], 15: mac[5]})
}

// dhcp6Flows answers DHCPv6 for the port's address entries that have an
// IPv6 address in the options' CIDR.
func (sw *lswitch) dhcp6Flows(fs *flowSet, nb *NB, p *lport, stateful bool) {
	d := portDHCP6(nb, p)
	if d == nil {
		return
	}
	for _, a := range p.addrs() {
		i := slices.IndexFunc(a.ip6, d.cidr.Contains)
		if i < 0 {
			continue
		}
		opts := d.opts
		if !d.stateless {
			opts = fmt.Sprintf("ia_addr = %s, %s", a.ip6[i], opts)
		}
		m := fmt.Sprintf("inport == %q && eth.src == %s && ip6.dst == ff02::1:2 && udp.src == 546 && udp.dst == 547", p.nb.Name, a.mac)
		fs.add(sw.key, LSInDHCPOptions, 100, m, fmt.Sprintf("reg0[3] = put_dhcpv6_opts(%s); next;", opts))
		fs.add(sw.key, LSInDHCPResponse, 100, m+" && reg0[3]", fmt.Sprintf(
			"eth.dst = eth.src; eth.src = %s; ip6.dst = ip6.src; ip6.src = %s; udp.src = 547; udp.dst = 546; outport = inport; flags.loopback = 1; output;",
			d.serverMAC, d.serverLL))
		reply := "next;"
		if stateful {
			reply = "ct_commit; next;"
		}
		fs.add(sw.key, LSOutACL, 34000, fmt.Sprintf("outport == %q && eth.src == %s && ip6.src == %s && udp && udp.src == 547 && udp.dst == 546",
			p.nb.Name, d.serverMAC, d.serverLL), reply)
	}
}

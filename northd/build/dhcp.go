package build

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// dhcp4 is a port's usable DHCPv4_Options: those with a CIDR and the
// options ovn-northd requires (server_id, server_mac, lease_time).
type dhcp4 struct {
	cidr      netip.Prefix
	serverID  string
	serverMAC string
	// opts is the put_dhcp_opts argument list after offerip, sorted by
	// option name as ovn-northd 23.03 prints it.
	opts string
}

// portDHCP4 returns p's DHCPv4 options, or nil when it has none or they
// are unusable.
func portDHCP4(nb *NB, p *lport) *dhcp4 {
	if p.nb.Dhcpv4Options == nil {
		return nil
	}
	o, ok := nb.DHCPOptions[*p.nb.Dhcpv4Options]
	if !ok {
		return nil
	}
	cidr, err := netip.ParsePrefix(o.Cidr)
	if err != nil || !cidr.Addr().Is4() {
		return nil
	}
	d := &dhcp4{cidr: cidr.Masked(), serverID: o.Options["server_id"], serverMAC: o.Options["server_mac"]}
	if d.serverID == "" || d.serverMAC == "" || o.Options["lease_time"] == "" {
		return nil
	}
	d.opts = dhcpOpts(o, cidr)
	return d
}

func dhcpOpts(o nbdb.DHCPOptions, cidr netip.Prefix) string {
	opts := copyMap(o.Options)
	delete(opts, "server_mac")
	opts["netmask"] = netmask(cidr.Bits())
	var names []string
	for k := range opts {
		names = append(names, k)
	}
	slices.Sort(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, k+" = "+opts[k])
	}
	return strings.Join(parts, ", ")
}

func netmask(bits int) string {
	m := uint32(0xffffffff) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// dhcpFlows answers DHCPv4 for the port's address entries that have an
// IPv4 address in the options' CIDR, and lets the replies through the
// to-lport ACLs (committing them when the switch uses conntrack).
func (sw *lswitch) dhcpFlows(fs *flowSet, nb *NB, p *lport, stateful bool) {
	d := portDHCP4(nb, p)
	if d == nil {
		return
	}
	in := fmt.Sprintf("inport == %q", p.nb.Name)
	for _, a := range p.addrs() {
		i := slices.IndexFunc(a.ip4, d.cidr.Contains)
		if i < 0 {
			continue
		}
		ip := a.ip4[i]
		act := fmt.Sprintf("reg0[3] = put_dhcp_opts(offerip = %s, %s); next;", ip, d.opts)
		src := in + " && eth.src == " + a.mac
		fs.add(sw.key, LSInDHCPOptions, 100, src+" && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67", act)
		fs.add(sw.key, LSInDHCPOptions, 100, fmt.Sprintf("%s && ip4.src == %s && ip4.dst == {%s, 255.255.255.255} && udp.src == 68 && udp.dst == 67", src, ip, d.serverID), act)
		fs.add(sw.key, LSInDHCPResponse, 100, src+" && ip4 && udp.src == 68 && udp.dst == 67 && reg0[3]",
			fmt.Sprintf("eth.dst = eth.src; eth.src = %s; ip4.src = %s; udp.src = 67; udp.dst = 68; outport = inport; flags.loopback = 1; output;", d.serverMAC, d.serverID))
		reply := "next;"
		if stateful {
			reply = "ct_commit; next;"
		}
		fs.add(sw.key, LSOutACL, 34000, fmt.Sprintf("outport == %q && eth.src == %s && ip4.src == %s && udp && udp.src == 67 && udp.dst == 68", p.nb.Name, d.serverMAC, d.serverID), reply)
	}
}

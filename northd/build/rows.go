package build

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Multicast group tunnel keys OVN reserves (ovn-sb(5)).
const (
	mcFloodKey   = 32768
	mcUnknownKey = 32769
	mcFloodL2Key = 32772
)

// Multicast group names.
const (
	mcFlood   = "_MC_flood"
	mcUnknown = "_MC_unknown"
	mcFloodL2 = "_MC_flood_l2"
)

func datapaths(sws []*lswitch) []Datapath {
	var dps []Datapath
	for _, sw := range sws {
		dps = append(dps, Datapath{Key: sw.key, Name: sw.nb.Name, ExternalIDs: map[string]string{
			"logical-switch": sw.nb.UUID,
			"name":           sw.nb.Name,
		}})
	}
	return dps
}

// bindings is the switch's Port_Binding rows: NB columns copied as
// ovn-northd copies them.
func (sw *lswitch) bindings() []Port {
	var out []Port
	for _, p := range sw.ports {
		typ, opts := p.sbType()
		out = append(out, Port{
			Name:         p.nb.Name,
			Datapath:     sw.key,
			Key:          p.key,
			Type:         typ,
			Options:      opts,
			MAC:          slices.Clone(p.nb.Addresses),
			PortSecurity: slices.Clone(p.nb.PortSecurity),
			ExternalIDs:  copyMap(p.nb.ExternalIDs),
			ParentPort:   p.nb.ParentName,
			Tag:          p.tag(),
		})
	}
	return out
}

// mcGroups is the switch's Multicast_Group rows (_MC_flood_l2 leaves out
// router ports). Groups without members are not written, as ovn-northd
// does not write them.
func (sw *lswitch) mcGroups() []MCGroup {
	var flood, floodL2, unknown []string
	for _, p := range sw.ports {
		if !p.enabled() {
			continue
		}
		flood = append(flood, p.nb.Name)
		if p.nb.Type != "router" {
			floodL2 = append(floodL2, p.nb.Name)
		}
		if p.hasUnknown() {
			unknown = append(unknown, p.nb.Name)
		}
	}
	var out []MCGroup
	add := func(name string, key int, ports []string) {
		if len(ports) > 0 {
			out = append(out, MCGroup{Datapath: sw.key, Name: name, Key: key, Ports: ports})
		}
	}
	add(mcFlood, mcFloodKey, flood)
	add(mcUnknown, mcUnknownKey, unknown)
	add(mcFloodL2, mcFloodL2Key, floodL2)
	return out
}

// sbType is the port's Port_Binding type and options: a "router" port
// becomes one end of a patch, peered with its router port; other types
// keep their NB type and options.
func (p *lport) sbType() (string, map[string]string) {
	if p.nb.Type == "router" {
		opts := map[string]string{}
		if rp := p.nb.Options["router-port"]; rp != "" {
			opts["peer"] = rp
		}
		return "patch", opts
	}
	return p.nb.Type, copyMap(p.nb.Options)
}

// tag is the VLAN tag of a container port: the requested tag when one is
// set. Allocation of tags for tag_request=0 is not implemented.
func (p *lport) tag() *int {
	if p.nb.ParentName != nil && p.nb.TagRequest != nil && *p.nb.TagRequest > 0 {
		return p.nb.TagRequest
	}
	return p.nb.Tag
}

func (p *lport) enabled() bool { return p.nb.Enabled == nil || *p.nb.Enabled }

func (p *lport) hasUnknown() bool { return slices.Contains(p.nb.Addresses, "unknown") }

// lportAddrs is one entry of Logical_Switch_Port.addresses: a MAC and the
// IPs that go with it.
type lportAddrs struct {
	mac string
	ip4 []netip.Addr
	ip6 []netip.Addr
}

// addrs parses the port's addresses (and dynamic_addresses for
// "dynamic"), skipping "unknown", "router" and malformed entries.
func (p *lport) addrs() []lportAddrs {
	if p.parsed {
		return p.parsedAddrs
	}
	var out []lportAddrs
	for _, a := range p.nb.Addresses {
		if a == "dynamic" && p.nb.DynamicAddresses != nil {
			a = *p.nb.DynamicAddresses
		}
		if la, ok := parseAddrs(a); ok {
			out = append(out, la)
		}
	}
	p.parsed, p.parsedAddrs = true, out
	return out
}

func parseAddrs(s string) (lportAddrs, bool) {
	f := strings.Fields(s)
	if len(f) == 0 || strings.Count(f[0], ":") != 5 {
		return lportAddrs{}, false
	}
	la := lportAddrs{mac: strings.ToLower(f[0])}
	for _, w := range f[1:] {
		ip, err := netip.ParseAddr(strings.SplitN(w, "/", 2)[0])
		if err != nil {
			return lportAddrs{}, false
		}
		if ip.Is4() {
			la.ip4 = append(la.ip4, ip)
		} else {
			la.ip6 = append(la.ip6, ip)
		}
	}
	return la, true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// portGroupName is the SB Port_Group name for NB port group pg on the
// datapath with tunnel key dp, as ovn-northd 23.03 names it.
func portGroupName(dp int, pg string) string {
	return strconv.Itoa(dp) + "_" + pg
}

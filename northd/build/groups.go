package build

import (
	"cmp"
	"slices"
)

// svcMonitorMAC is the Address_Set that holds SB_Global's svc_monitor_mac.
const svcMonitorMAC = "svc_monitor_mac"

// groups computes SB Port_Group rows (one per port group and datapath it
// has ports on) and Address_Set rows (NB address sets, each port group's
// _ip4/_ip6 sets and svc_monitor_mac).
func groups(nb *NB, sws []*lswitch) (pgs, ass []NamedSet) {
	dpOf := map[string]*lswitch{} // NB port UUID → switch
	portOf := map[string]*lport{}
	for _, sw := range sws {
		for _, p := range sw.ports {
			dpOf[p.nb.UUID], portOf[p.nb.UUID] = sw, p
		}
	}
	for _, pg := range nb.PortGroups {
		pgs = append(pgs, portGroupRows(pg.Name, pg.Ports, dpOf, portOf)...)
		ip4, ip6 := []string{}, []string{}
		for _, u := range pg.Ports {
			if p := portOf[u]; p != nil {
				for _, a := range p.addrs() {
					ip4 = appendIPs(ip4, a.ip4)
					ip6 = appendIPs(ip6, a.ip6)
				}
			}
		}
		ass = append(ass, NamedSet{pg.Name + "_ip4", ip4}, NamedSet{pg.Name + "_ip6", ip6})
	}
	for _, as := range nb.AddressSets {
		ass = append(ass, NamedSet{as.Name, slices.Clone(as.Addresses)})
	}
	if mac := nb.Global.Options[svcMonitorMAC]; mac != "" {
		ass = append(ass, NamedSet{svcMonitorMAC, []string{mac}})
	}
	sortSets(pgs)
	sortSets(ass)
	return pgs, ass
}

func portGroupRows(name string, ports []string, dpOf map[string]*lswitch, portOf map[string]*lport) []NamedSet {
	byDP := map[int][]string{}
	for _, u := range ports {
		if sw := dpOf[u]; sw != nil {
			byDP[sw.key] = append(byDP[sw.key], portOf[u].nb.Name)
		}
	}
	var out []NamedSet
	for dp, names := range byDP {
		out = append(out, NamedSet{portGroupName(dp, name), names})
	}
	return out
}

func appendIPs[T interface{ String() string }](dst []string, ips []T) []string {
	for _, ip := range ips {
		dst = append(dst, ip.String())
	}
	return dst
}

func sortSets(s []NamedSet) {
	for i := range s {
		slices.Sort(s[i].Members)
		s[i].Members = slices.Compact(s[i].Members)
	}
	slices.SortFunc(s, func(a, b NamedSet) int { return cmp.Compare(a.Name, b.Name) })
}

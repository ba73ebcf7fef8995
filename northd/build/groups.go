package build

import (
	"cmp"
	"slices"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
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
	find := func(u string) (*lswitch, *lport) { return dpOf[u], portOf[u] }
	for _, pg := range nb.PortGroups {
		rows, ip4, ip6 := pgSets(pg, find)
		pgs = append(pgs, rows...)
		ass = append(ass, ip4, ip6)
	}
	for _, as := range nb.AddressSets {
		ass = append(ass, NamedSet{as.Name, slices.Clone(as.Addresses)})
	}
	if s, ok := svcMonitorSet(nb); ok {
		ass = append(ass, s)
	}
	sortSets(pgs)
	sortSets(ass)
	return pgs, ass
}

// svcMonitorSet is the svc_monitor_mac Address_Set, when NB_Global has one.
func svcMonitorSet(nb *NB) (NamedSet, bool) {
	mac := nb.Global.Options[svcMonitorMAC]
	return NamedSet{svcMonitorMAC, []string{mac}}, mac != ""
}

// pgSets is one port group's SB rows: a Port_Group per datapath it has
// ports on and its _ip4 and _ip6 address sets, members sorted. find gives
// the switch and port of an NB port UUID (nil when not on a switch).
func pgSets(pg nbdb.PortGroup, find func(string) (*lswitch, *lport)) (rows []NamedSet, ip4, ip6 NamedSet) {
	byDP := map[int][]string{}
	ip4 = NamedSet{pg.Name + "_ip4", []string{}}
	ip6 = NamedSet{pg.Name + "_ip6", []string{}}
	for _, u := range pg.Ports {
		sw, p := find(u)
		if sw == nil {
			continue
		}
		byDP[sw.key] = append(byDP[sw.key], p.nb.Name)
		for _, a := range p.addrs() {
			ip4.Members = appendIPs(ip4.Members, a.ip4)
			ip6.Members = appendIPs(ip6.Members, a.ip6)
		}
	}
	for dp, names := range byDP {
		rows = append(rows, NamedSet{portGroupName(dp, pg.Name), names})
	}
	sortSets(rows)
	sortMembers(&ip4)
	sortMembers(&ip6)
	return rows, ip4, ip6
}

func appendIPs[T interface{ String() string }](dst []string, ips []T) []string {
	for _, ip := range ips {
		dst = append(dst, ip.String())
	}
	return dst
}

func sortSets(s []NamedSet) {
	for i := range s {
		sortMembers(&s[i])
	}
	slices.SortFunc(s, func(a, b NamedSet) int { return cmp.Compare(a.Name, b.Name) })
}

func sortMembers(s *NamedSet) {
	if !slices.IsSorted(s.Members) {
		slices.Sort(s.Members)
	}
	s.Members = slices.Compact(s.Members)
}

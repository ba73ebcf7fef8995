package northd

import (
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// dhcpOption is one row of SB DHCP_Options or DHCPv6_Options: an option
// ovn-controller may put in a DHCP reply. ovn-controller parses the
// put_dhcp_opts / put_dhcpv6_opts actions of logical flows against these
// tables, so without them every DHCP flow is rejected ("expecting DHCPv4
// option name").
type dhcpOption struct {
	name string
	code int
	typ  string
}

// dhcp4Options is the DHCPv4 catalogue of OVN 23.03, as ovn-northd
// publishes it (ovn-sb(5), DHCP_Options). offerip has code 0: it is the
// address offered, not an option on the wire.
var dhcp4Options = []dhcpOption{
	{"offerip", 0, "ipv4"},
	{"netmask", 1, "ipv4"},
	{"router", 3, "ipv4"},
	{"dns_server", 6, "ipv4"},
	{"log_server", 7, "ipv4"},
	{"lpr_server", 9, "ipv4"},
	{"hostname", 12, "str"},
	{"domain_name", 15, "str"},
	{"swap_server", 16, "ipv4"},
	{"ip_forward_enable", 19, "bool"},
	{"policy_filter", 21, "ipv4"},
	{"default_ttl", 23, "uint8"},
	{"mtu", 26, "uint16"},
	{"broadcast_address", 28, "ipv4"},
	{"router_discovery", 31, "bool"},
	{"router_solicitation", 32, "ipv4"},
	{"arp_cache_timeout", 35, "uint32"},
	{"ethernet_encap", 36, "bool"},
	{"tcp_ttl", 37, "uint8"},
	{"tcp_keepalive_interval", 38, "uint32"},
	{"nis_server", 41, "ipv4"},
	{"ntp_server", 42, "ipv4"},
	{"netbios_name_server", 44, "ipv4"},
	{"netbios_node_type", 46, "uint8"},
	{"lease_time", 51, "uint32"},
	{"server_id", 54, "ipv4"},
	{"T1", 58, "uint32"},
	{"T2", 59, "uint32"},
	{"tftp_server", 66, "host_id"},
	{"bootfile_name", 67, "str"},
	{"domain_search_list", 119, "domains"},
	{"classless_static_route", 121, "static_routes"},
	{"tftp_server_address", 150, "ipv4"},
	{"path_prefix", 210, "str"},
	{"ms_classless_static_route", 249, "static_routes"},
	{"wpad", 252, "str"},
	{"next_server", 253, "ipv4"},
	{"bootfile_name_alt", 254, "str"},
}

// dhcp6Options is the DHCPv6 catalogue of OVN 23.03 (ovn-sb(5),
// DHCPv6_Options).
var dhcp6Options = []dhcpOption{
	{"server_id", 2, "mac"},
	{"ia_addr", 5, "ipv6"},
	{"dns_server", 23, "ipv6"},
	{"domain_search", 24, "str"},
}

// dhcpCatalogues syncs DHCP_Options and DHCPv6_Options with the
// catalogues: missing options are added; rows of unknown or changed
// options, and duplicates, are deleted, as ovn-northd does at every run.
func (p *sbPlan) dhcpCatalogues() {
	var cur4, cur6 []dhcpRow
	for _, c := range p.cur.dhcp4 {
		cur4 = append(cur4, dhcpRow{c.UUID, dhcpOption{c.Name, c.Code, c.Type}})
	}
	for _, c := range p.cur.dhcp6 {
		cur6 = append(cur6, dhcpRow{c.UUID, dhcpOption{c.Name, c.Code, c.Type}})
	}
	add4, del4 := catalogueDelta(cur4, dhcp4Options)
	for _, o := range add4 {
		p.insert(&sbdb.DHCPOptions{UUID: p.named(), Name: o.name, Code: o.code, Type: o.typ})
	}
	for _, u := range del4 {
		p.delete(&sbdb.DHCPOptions{UUID: u})
	}
	add6, del6 := catalogueDelta(cur6, dhcp6Options)
	for _, o := range add6 {
		p.insert(&sbdb.DHCPv6Options{UUID: p.named(), Name: o.name, Code: o.code, Type: o.typ})
	}
	for _, u := range del6 {
		p.delete(&sbdb.DHCPv6Options{UUID: u})
	}
}

// dhcpRow is an existing catalogue row.
type dhcpRow struct {
	uuid string
	opt  dhcpOption
}

// catalogueDelta returns the options of want missing from cur, and the
// UUIDs of cur's rows that are not in want or repeat an earlier row.
func catalogueDelta(cur []dhcpRow, want []dhcpOption) (add []dhcpOption, del []string) {
	wanted := map[dhcpOption]bool{}
	for _, o := range want {
		wanted[o] = true
	}
	have := map[dhcpOption]bool{}
	for _, c := range cur {
		if !wanted[c.opt] || have[c.opt] {
			del = append(del, c.uuid)
			continue
		}
		have[c.opt] = true
	}
	for _, o := range want {
		if !have[o] {
			add = append(add, o)
		}
	}
	return add, del
}

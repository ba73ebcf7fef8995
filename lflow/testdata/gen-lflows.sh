#!/bin/sh
# gen-lflows.sh regenerates lflows-23.03.txt: it starts a private OVN
# (NB and SB ovsdb-servers and ovn-northd, all in a temp dir), builds a
# topology with ovn-nbctl that exercises the switch and router pipelines,
# and dumps every Logical_Flow's match and actions as CSV.
#
# Usage: sh lflow/testdata/gen-lflows.sh > lflow/testdata/lflows-23.03.txt
set -eu
dir=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

for db in nb sb; do
	ovsdb-tool create "$dir/$db.db" "/usr/share/ovn/ovn-$db.ovsschema"
	ovsdb-server "$dir/$db.db" --remote="punix:$dir/$db.sock" \
		--unixctl="$dir/$db.ctl" --pidfile="$dir/$db.pid" \
		--log-file="$dir/$db.log" >/dev/null 2>&1 &
	pids="$pids $!"
done
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -S "$dir/nb.sock" ] && [ -S "$dir/sb.sock" ] && break
	sleep 0.2
done
ovn-northd --ovnnb-db="unix:$dir/nb.sock" --ovnsb-db="unix:$dir/sb.sock" \
	--unixctl="$dir/northd.ctl" --pidfile="$dir/northd.pid" \
	--log-file="$dir/northd.log" >/dev/null 2>&1 &
pids="$pids $!"

nb() { ovn-nbctl --db="unix:$dir/nb.sock" "$@"; }

topology() {
# Two switches joined by a router with a gateway-less SNAT/DNAT setup.
nb ls-add sw0
nb ls-add sw1
nb lsp-add sw0 sw0-p1 -- lsp-set-addresses sw0-p1 "50:54:00:00:00:01 10.0.0.11 fd00::11"
nb lsp-set-port-security sw0-p1 "50:54:00:00:00:01 10.0.0.11 fd00::11"
nb lsp-add sw0 sw0-p2 -- lsp-set-addresses sw0-p2 "50:54:00:00:00:02 10.0.0.12"
nb lsp-set-port-security sw0-p2 "50:54:00:00:00:02 10.0.0.12/24"
nb lsp-add sw0 sw0-p3 -- lsp-set-addresses sw0-p3 dynamic
nb lsp-add sw0 sw0-unk -- lsp-set-addresses sw0-unk unknown
nb lsp-add sw1 sw1-p1 -- lsp-set-addresses sw1-p1 "50:54:00:00:01:01 20.0.0.11 fd01::11"
nb lsp-add sw1 sw1-ln -- lsp-set-type sw1-ln localnet -- lsp-set-addresses sw1-ln unknown \
	-- lsp-set-options sw1-ln network_name=phys
nb lsp-add sw1 sw1-vip -- lsp-set-type sw1-vip virtual \
	-- lsp-set-options sw1-vip virtual-ip=20.0.0.100 virtual-parents=sw1-p1
nb set logical_switch sw0 other_config:subnet=10.0.0.0/24 other_config:ipv6_prefix=fd00::
nb set logical_switch sw0 other_config:mcast_snoop=true other_config:mcast_querier=false

nb lr-add lr0
nb lrp-add lr0 lr0-sw0 00:00:00:00:ff:01 10.0.0.1/24 fd00::1/64
nb lrp-add lr0 lr0-sw1 00:00:00:00:ff:02 20.0.0.1/24 fd01::1/64
nb lrp-add lr0 lr0-ext 00:00:00:00:ff:03 172.16.0.1/24
nb lsp-add sw0 sw0-lr0 -- lsp-set-type sw0-lr0 router -- lsp-set-addresses sw0-lr0 router \
	-- lsp-set-options sw0-lr0 router-port=lr0-sw0
nb lsp-add sw1 sw1-lr0 -- lsp-set-type sw1-lr0 router -- lsp-set-addresses sw1-lr0 router \
	-- lsp-set-options sw1-lr0 router-port=lr0-sw1
nb lr-route-add lr0 0.0.0.0/0 172.16.0.254
nb lr-route-add lr0 192.168.0.0/16 20.0.0.254
nb --ecmp lr-route-add lr0 10.10.0.0/16 20.0.0.253
nb --ecmp lr-route-add lr0 10.10.0.0/16 20.0.0.252
nb lr-nat-add lr0 snat 172.16.0.1 10.0.0.0/24
nb lr-nat-add lr0 dnat_and_snat 172.16.0.50 10.0.0.11
nb lr-policy-add lr0 100 "ip4.src == 10.0.0.12" reroute 20.0.0.11
nb lr-policy-add lr0 90 "ip4.dst == 192.168.1.0/24" drop

# Port groups, address sets and ACLs of every verdict.
nb pg-add pg_web sw0-p1 sw0-p2
nb pg-add pg_db sw1-p1
nb create Address_Set name=as_web addresses='"10.0.0.11","10.0.0.12"'
nb create Address_Set name=as_v6 addresses='"fd00::11","fd01::/64"'
nb acl-add pg_web from-lport 1002 "inport == @pg_web && ip4" allow-related
nb acl-add pg_web to-lport 1002 "outport == @pg_web && ip4 && ip4.src == \$as_web && tcp.dst == 80" allow-related
nb acl-add pg_web to-lport 1001 "outport == @pg_web && tcp && tcp.dst >= 8000 && tcp.dst <= 8080" allow
nb acl-add pg_web to-lport 1000 "outport == @pg_web && ip" drop
nb --log --severity=alert --name=deny_db --meter=acl-meter acl-add pg_db to-lport 1000 "outport == @pg_db && ip6 && ip6.src == \$as_v6" reject
nb --log acl-add sw1 from-lport 900 "ip4.dst == {20.0.0.0/8, 30.0.0.0/8} && udp.dst == 53" allow-stateless
nb acl-add sw1 from-lport 800 "icmp4.type == 8 && ip4.src != 20.0.0.11" allow
nb --apply-after-lb acl-add sw1 from-lport 700 "arp" allow
nb acl-add sw0 to-lport 600 "eth.src == 50:54:00:00:00:00/ff:ff:ff:00:00:00 && vlan.present" drop
nb acl-add sw0 from-lport 500 "inport == \"sw0-p3\" && (tcp.flags == 0x2 || tcp.src[0..3] == 5 || !(udp.dst <= 1024))" drop
nb acl-add sw0 from-lport 400 "ip6.dst == fd00::/64 && 1024 <= udp.dst <= 49151 && !ct.new" reject
nb meter-add acl-meter drop 10 pktps

# A load balancer with a health check, on the switch and the router.
nb lb-add lb0 10.0.0.100:80 10.0.0.11:8080,10.0.0.12:8080 tcp
nb lb-add lb1 "[fd00::100]:80" "[fd00::11]:8080" tcp
nb lb-add lb2 172.16.0.100 10.0.0.11
nb lb-add lb3 10.0.0.200:53 "" udp
nb lb-add lb4 10.0.0.201:443 10.0.0.11:443,10.0.0.12:443 tcp
nb set load_balancer lb4 selection_fields=ip_src,ip_dst options:affinity_timeout=60
nb set NB_Global . options:controller_event=true
nb ls-lb-add sw0 lb0
nb ls-lb-add sw0 lb3
nb ls-lb-add sw0 lb4
nb lr-lb-add lr0 lb4
nb ls-lb-add sw0 lb1
nb lr-lb-add lr0 lb2
uuid=$(nb --bare --columns=_uuid find load_balancer name=lb0)
nb -- --id=@hc create Load_Balancer_Health_Check vip='"10.0.0.100:80"' \
	options:interval=5 -- add Load_Balancer "$uuid" health_check @hc
nb set Load_Balancer "$uuid" ip_port_mappings:10.0.0.11=sw0-p1:10.0.0.2

# DHCPv4/v6 options on a port, and a DNS record.
nb dhcp-options-create 10.0.0.0/24
v4=$(nb --bare --columns=_uuid find DHCP_Options cidr=10.0.0.0/24)
nb dhcp-options-set-options "$v4" lease_time=3600 router=10.0.0.1 \
	server_id=10.0.0.1 server_mac=c0:ff:ee:00:00:01 dns_server='{8.8.8.8}'
nb dhcp-options-create fd00::/64
v6=$(nb --bare --columns=_uuid find DHCP_Options 'cidr="fd00::/64"')
nb dhcp-options-set-options "$v6" server_id=00:00:00:10:00:01
nb lsp-set-dhcpv4-options sw0-p1 "$v4"
nb lsp-set-dhcpv6-options sw0-p1 "$v6"
dns=$(nb create DNS records='{"vm1.ovn.org"="10.0.0.11"}')
nb add Logical_Switch sw0 dns_records "$dns"

# A gateway router port, IPv6 router advertisements, and a QoS rule.
nb lrp-set-gateway-chassis lr0-ext hv1 10
nb set Logical_Router_Port lr0-sw0 ipv6_ra_configs:address_mode=slaac \
	ipv6_ra_configs:send_periodic=true
nb qos-add sw0 from-lport 100 "ip4.src == 10.0.0.11" dscp=12 rate=1000 burst=100

# More router features: gateway MTU, NAT port ranges and stateless NAT,
# load-balancer SNAT options, policy routes, multicast relay, a gateway
# router, and switch port types with their own pipelines.
nb set Logical_Router_Port lr0-ext options:gateway_mtu=1400
nb --portrange lr-nat-add lr0 snat 172.16.0.2 10.0.1.0/24 1000-2000
nb --stateless lr-nat-add lr0 dnat_and_snat 172.16.0.60 10.0.0.12
nb set Logical_Router lr0 options:lb_force_snat_ip=router_ip options:mcast_relay=true
nb set load_balancer lb0 options:skip_snat=true
nb set load_balancer lb2 options:hairpin_snat_ip=169.254.0.1
nb lr-policy-add lr0 80 "ip6.dst == fd01::/64" allow
nb --policy=src-ip lr-route-add lr0 10.0.0.0/24 20.0.0.250
nb lr-add gw0 -- set Logical_Router gw0 options:chassis=hv1 options:dynamic_neigh_routers=true
nb lrp-add gw0 gw0-ext 00:00:00:00:fe:01 192.168.100.1/24
nb lr-nat-add gw0 dnat 192.168.100.10 10.0.0.11
nb lsp-add sw1 sw1-local -- lsp-set-type sw1-local localport -- lsp-set-addresses sw1-local "50:54:00:00:01:99 20.0.0.99"
nb lsp-add sw1 sw1-ext -- lsp-set-type sw1-ext external -- lsp-set-addresses sw1-ext "50:54:00:00:01:98 20.0.0.98"
nb fwd-group-add fwd0 sw0 10.0.0.50 00:00:00:00:00:50 sw0-p1 sw0-p2 2>/dev/null || true
nb acl-add sw1 to-lport 650 "tcp && tcp.dst == 22" reject
nb --label=1234 acl-add sw1 from-lport 640 "udp" allow-related 2>/dev/null || true
nb set logical_switch sw1 other_config:vlan-passthru=true
nb lsp-set-options sw0-p1 requested-chassis=hv1
nb set Logical_Switch_Port sw0-p2 options:pkt_clone_type=mc_unknown 2>/dev/null || true

}
topology >/dev/null
ovn-nbctl --db="unix:$dir/nb.sock" --timeout=30 --wait=sb sync
ovn-sbctl --db="unix:$dir/sb.sock" --format=csv --columns=match,actions list Logical_Flow |
	grep -v "^match,actions$" | LC_ALL=C sort -u

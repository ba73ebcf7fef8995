# Oracle topology: logical switches, VIF ports with port security, a
# localport, a port with unknown addresses, port groups, address sets,
# stateful/stateless/reject/logged ACLs, DHCPv4/v6 options.
# Run by oracle_test.go with $N (ovn-nbctl) and $V (ovs-vsctl) set.
$N ls-add sw0
$N lsp-add sw0 sw0-p1 -- lsp-set-addresses sw0-p1 "00:00:00:00:00:01 10.0.0.11 fd00::11" -- lsp-set-port-security sw0-p1 "00:00:00:00:00:01 10.0.0.11 fd00::11"
$N lsp-add sw0 sw0-p2 -- lsp-set-addresses sw0-p2 "00:00:00:00:00:02 10.0.0.12" -- lsp-set-port-security sw0-p2 "00:00:00:00:00:02 10.0.0.12"
$N lsp-add sw0 sw0-p3 -- lsp-set-addresses sw0-p3 "00:00:00:00:00:03 10.0.0.13"
$N lsp-add sw0 sw0-lp -- lsp-set-type sw0-lp localport -- lsp-set-addresses sw0-lp "00:00:00:00:00:09 10.0.0.9"
$N lsp-add sw0 sw0-unk -- lsp-set-addresses sw0-unk unknown
$N ls-add sw1
$N lsp-add sw1 sw1-p1 -- lsp-set-addresses sw1-p1 "00:00:00:00:01:01 10.1.0.11"
$N lsp-add sw1 sw1-p2 -- lsp-set-addresses sw1-p2 "00:00:00:00:01:02 10.1.0.12"
$N pg-add pg1 sw0-p1 sw0-p2 sw1-p1
$N pg-add pg2 sw0-p3
$N create Address_Set name=as1 addresses='"10.0.0.11","10.0.0.12","10.2.0.0/16"'
$N create Address_Set name=as2 addresses='"10.9.0.1"'
$N acl-add pg1 from-lport 1002 'inport == @pg1 && ip4' allow-related
$N acl-add pg1 to-lport 1002 'outport == @pg1 && ip4 && ip4.src == $as1 && tcp.dst == {22, 80, 443}' allow-related
$N acl-add pg1 to-lport 1001 'outport == @pg1 && ip4' drop
$N acl-add pg2 to-lport 1003 'outport == @pg2 && udp && udp.dst == 53' reject
$N acl-add pg2 from-lport 1000 'inport == @pg2 && ip4.dst == $as2' allow-stateless
$N --log --severity=info --name=acl_log acl-add sw1 to-lport 900 'ip4 && icmp4' allow
$N acl-add sw1 from-lport 800 'ip6' drop
$N acl-add sw1 from-lport 700 'tcp && tcp.dst >= 1000 && tcp.dst <= 1010' reject
D1=$($N create DHCP_Options cidr=10.0.0.0/24 options='"lease_time"="3600" "router"="10.0.0.1" "server_id"="10.0.0.1" "server_mac"="c0:ff:ee:00:00:01" "dns_server"="{8.8.8.8, 8.8.4.4}" "mtu"="1400" "domain_name"="\"ovn.test\"" "classless_static_route"="{30.0.0.0/24,10.0.0.10, 0.0.0.0/0,10.0.0.1}"')
$N lsp-set-dhcpv4-options sw0-p1 $D1
D6=$($N create DHCP_Options cidr='"fd00::/64"' options='"server_id"="00:00:00:10:00:01" "dns_server"="fd00::53"')
$N lsp-set-dhcpv6-options sw0-p1 $D6
$V add-port br-int vif1 -- set interface vif1 type=internal external_ids:iface-id=sw0-p1
$V add-port br-int vif2 -- set interface vif2 type=internal external_ids:iface-id=sw0-p2
$V add-port br-int vif3 -- set interface vif3 type=internal external_ids:iface-id=sw1-p1
$V add-port br-int vif4 -- set interface vif4 type=internal external_ids:iface-id=sw0-p3
$V add-port br-int vif5 -- set interface vif5 type=internal external_ids:iface-id=sw0-unk

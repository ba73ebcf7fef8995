# Oracle topology, added to switch.sh's: a gateway router lr0 on this
# chassis joining sw0 and sw1 and an external switch with a localnet
# port; SNAT, DNAT, a load balancer on sw0 and lr0, static routes.
$N lr-add lr0 -- set logical_router lr0 options:chassis=hv1
$N lrp-add lr0 lr0-sw0 00:00:00:00:ff:01 10.0.0.1/24 fd00::1/64
$N lsp-add sw0 sw0-lr0 -- lsp-set-type sw0-lr0 router -- lsp-set-addresses sw0-lr0 router -- lsp-set-options sw0-lr0 router-port=lr0-sw0
$N lrp-add lr0 lr0-sw1 00:00:00:00:ff:02 10.1.0.1/24
$N lsp-add sw1 sw1-lr0 -- lsp-set-type sw1-lr0 router -- lsp-set-addresses sw1-lr0 router -- lsp-set-options sw1-lr0 router-port=lr0-sw1
$N ls-add public
$N lrp-add lr0 lr0-public 00:00:00:00:ff:03 172.16.0.1/24
$N lsp-add public public-lr0 -- lsp-set-type public-lr0 router -- lsp-set-addresses public-lr0 router -- lsp-set-options public-lr0 router-port=lr0-public
$N lsp-add public ln-public -- lsp-set-type ln-public localnet -- lsp-set-addresses ln-public unknown -- lsp-set-options ln-public network_name=phys
$N lr-nat-add lr0 snat 172.16.0.1 10.0.0.0/24
$N lr-nat-add lr0 dnat_and_snat 172.16.0.100 10.0.0.11
$N lb-add lb0 10.0.0.250:80 10.0.0.11:80,10.0.0.12:80 tcp
$N lb-add lb1 172.16.0.200 10.1.0.11
$N ls-lb-add sw0 lb0
$N lr-lb-add lr0 lb0
$N lr-lb-add lr0 lb1
$N lr-route-add lr0 0.0.0.0/0 172.16.0.254
$N lr-route-add lr0 192.168.0.0/16 10.1.0.254

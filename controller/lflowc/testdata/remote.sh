# Added to switch.sh and router.sh: a second chassis (registered only;
# no ovn-controller runs for it) with a port bound there, in a port
# group and named by ACLs, so that the lflows and port-group members
# that are not this chassis's are compiled as ovn-controller does.
$S chassis-add hv2 geneve 127.0.0.2
$S lsp-bind sw1-p2 hv2
$N pg-set-ports pg1 sw0-p1 sw0-p2 sw1-p1 sw1-p2
$N acl-add sw1 to-lport 950 'outport == "sw1-p2" && ip4 && udp' allow-related
$N acl-add sw1 from-lport 951 'inport == "sw1-p2" && is_chassis_resident("sw1-p2")' drop
$N acl-add sw1 from-lport 952 'inport == "sw1-p2" && ip4 && tcp' allow
$N acl-add sw1 to-lport 953 'outport == "sw1-p1" && ip4 && tcp' allow
$N acl-add sw1 to-lport 954 '(outport == "sw1-p2" || outport == "sw1-p1") && ip4 && sctp' allow

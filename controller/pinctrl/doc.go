// Package pinctrl answers the packets that logical flows send to the
// controller: ovn-controller's pinctrl, for ovnd.
//
// A logical action such as put_dhcp_opts, arp { ... } or icmp4 { ... }
// compiles (in controller/lflowc) to an OpenFlow controller action whose
// userdata names the action (an lflowc.Opcode) and carries its
// arguments. The switch sends the packet as an NXT_PACKET_IN2; Handler
// decodes it, runs the action and answers with either
//
//   - an NXT_RESUME of the paused pipeline, with the packet replaced and a
//     result bit written into the registers (put_dhcp_opts,
//     put_dhcpv6_opts, dns_lookup from the SB DNS table, put_nd_ra_opts;
//     the frag_mtu actions inside icmp4_error / icmp6_error), or
//   - a packet-out of a packet built from the current one (arp, nd_na,
//     nd_ns, icmp4, icmp6, tcp_reset, reject...), whose actions are the
//     nested actions from the userdata preceded by loads that restore the
//     logical metadata and registers of the packet-in, from in_port
//     CONTROLLER, as ovn-controller does.
//
// Handler.Handle is the deterministic core: one packet-in in, the
// messages to send out and what was learned, no I/O of its own (DNS
// records come through the DNS interface it is given). Serve is the thin shell around it that reads a
// switch connection's asynchronous messages, sends the answers and logs
// (rate limited) what went wrong; it runs on the goroutine of its caller,
// never on the controller's main loop, and the connection's own bounded
// queue (openflow.Conn.Async) drops packet-ins that arrive faster than
// they are answered.
//
// put_arp and put_nd learn a neighbor and put_fdb a MAC's port, which
// Serve records in the SB MAC_Binding and FDB tables (SB) from a
// goroutine and bounded queue of its own. The packet arp { } or nd_ns { }
// was sent for is held until the SB knows the next hop's MAC, then sent
// on (ovn-controller's buffered packets). log() writes an ACL log line
// at the ACL's severity.
//
// A malformed packet or an opcode ovnd does not handle is logged and
// dropped; nothing a guest sends can stop the handler. Not handled yet:
// the periodic router advertisements ovn-controller sends on its own
// (ipv6_ra_configs send_periodic), igmp, bind_vport, handle_svc_check
// (load-balancer health checks), handle_dhcpv6_reply (DHCPv6 prefix
// delegation) and trigger_event (Controller_Event).
//
// The DHCP packet logic lives in the leaf package dhcp.
package pinctrl

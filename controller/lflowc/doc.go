// Package lflowc compiles southbound Logical_Flow rows to OpenFlow flows
// the way ovn-controller 23.03 does, so that the flows ovnd installs on
// br-int forward packets as ovn-controller's would. The oracle tests
// (oracle_test.go) run a real ovn-northd and ovn-controller and find
// every flow of the logical tables identical, for switches, ACLs,
// DHCP, a gateway router with NAT and load balancers, and hand-written
// lflows using the remaining actions.
//
// lflow does the language (parsing, normalisation); this package maps
// the result onto OVN's OpenFlow pipeline: logical tables to OpenFlow
// tables (controller/oftable), logical fields to registers and packet fields,
// port names to tunnel keys through an Env, sets of alternatives to
// OpenFlow conjunctive matches, and actions to OpenFlow actions,
// including the controller(userdata=...) actions that hand packets to
// the controller's packet-in handler (userdata.go decodes them).
//
// Compile is pure: it reads the world only through Env and allocates
// conjunction ids and groups through the Compiler; the controller loop
// does the I/O.
//
//	cc := lflowc.NewCompiler()
//	flows, refs, err := cc.Compile(lf, dpKeys, env) // recompile when refs change
//	groups := cc.Groups()                           // install before the flows
//	cc.Release(lf.UUID)                             // when the row goes
//
// What a Compiler keeps between compiles is bounded and only speeds
// them up: recently used parsed actions and normalised matches (by
// count and by the matches they hold), each address set's members
// parsed once per content, and the normal form of each shape of match
// (lflow.Normalizer: the per-port lflows ovn-northd writes differ only
// in the names and addresses they compare fields with). Scratch is
// reused from one compile to the next: the arena matches and values are
// built in (reset after each datapath), the buffer an lflow's own
// normalised match is put in (lflow.TermBuf, reset after each lflow),
// the index of a datapath's flows by match; flows own their match
// values, and an lflow's flows on all its datapaths are one slice.
//
// What the rest of the controller must do with the result:
//
//   - Flows are per lflow and datapath; their Actions slices may be
//     shared between flows and must not be modified.
//   - Conjunction clause flows (actions only conjunction(...), cookie 0)
//     can have the same table, priority and match for several lflows;
//     the flow table must install one flow carrying all their
//     conjunction actions, as ovn-controller does, not let one replace
//     the other.
//   - Groups (load balancer backends) must exist before flows that
//     name them; Groups lists the desired ones.
//   - Meter ids come from Env.Meter. A name "__string: <spec>" (from
//     set_meter) is an OVS meter written in ovs-ofctl syntax that the
//     caller installs under the id it returned; other names are SB
//     Meter rows.
//   - The lookup actions resubmit to tables other producers fill and
//     read the answer from a logical flag bit (controller/oftable): 66/67 MAC
//     bindings (eth.dst, flags[6]), 68/69 LB hairpin (flags[7]), 70
//     hairpin SNAT, 71/72 FDB (outport, flags[8]), 73/74/75 port
//     security (flags[12] set when the packet fails), 78 LB affinity
//     (flags[14]). The arguments are in inport (reg14), outport (reg15),
//     eth.src/eth.dst and reg0 (IPv4) or xxreg0 (IPv6), moved there
//     through the stack around the resubmit.
//   - Env.Local decides which ports are local for the lflows tagged
//     in_out_port (others are skipped) and which port-group members
//     matches see: ovn-controller considers only local ports there.
//
// Where ovnd knowingly differs from ovn-controller 23.03:
//
//   - fwd_group(liveness="true", ...) is refused (it needs the tunnels'
//     BFD state); ovn-controller installs it (oracle_test.go allow-list).
//   - commit_lb_aff and commit_ecmp_nh add their address family and
//     protocol to the match, where ovn-controller emits a twin flow of
//     the other family that OVS refuses (failing its whole bundle).
//
// Actions not supported return an error naming them: push and pop
// (which ovn-northd does not emit).
package lflowc

// Package controller is the controller role: the drop-in for
// ovn-controller that runs on every hypervisor.
//
// The pieces, each its own package so that each can be tested alone:
//
//   - chassis: reads the chassis configuration from the local
//     Open_vSwitch external_ids (system-id, ovn-remote, ovn-encap-*,
//     ovn-bridge*, ...), keeps the integration bridge, the tunnel ports and
//     the localnet patch ports in the local OVS, registers Chassis, Encap
//     and Chassis_Private in the SB, claims and releases Port_Bindings for
//     local interfaces (external_ids:iface-id), allocates conntrack zones,
//     and marks ports installed (Port_Binding.up, ovn-installed).
//   - lflowc: compiles SB Logical_Flow rows to OpenFlow flows (lflow does
//     the language; lflowc maps logical tables, ports, multicast groups and
//     actions to OpenFlow).
//   - physical: the flows that are not logical flows: VIF and tunnel
//     ingress (table 0), remote and local output, loopback check, egress to
//     VIFs, tunnels and localnet, port-security tables.
//   - flowtable: the desired flow table keyed by owner and the installer
//     that sends only the difference to br-int in bundles.
//   - openflow: the OpenFlow 1.5 codec.
//
// This package runs the loop: it keeps replicas of the local OVS database
// and of the SB through monitors, and on every change reconciles the
// chassis, recomputes the flows that depend on what changed and installs
// the difference.
//
// The SB comes over two connections to the same remote: libovsdb's
// client for the tables the chassis manager and pinctrl read (and for
// every write), and sbreplica for the big read-only tables the flows come
// from (Logical_Flow, Logical_DP_Group, Multicast_Group, Port_Group,
// Address_Set, Load_Balancer...). Both record which rows changed, by
// table and UUID. A round does only what those changes call for, in the
// manner of OVN's incremental engine: the chassis is reconciled only
// when a row the manager reads changed in a way that matters to it
// (chassis.Manager.Affected); the SB
// view (sbView) updates the changed rows' indexes; an lflow is compiled
// again only when its row changed, its datapath or datapath group
// changed or became local or not, or something it referred to (a port,
// port group, address set or multicast group, found through a reverse
// index) changed; the physical flows' Builder is handed only the rows
// and chassis state that changed and recomputes only the owners that
// read them (physical.Builder.Apply).
// Anything it cannot handle incrementally (a new connection, a replica
// or cache rebuilt after a reconnect, an event libovsdb dropped) is a
// Full change: the view is loaded anew and every lflow compiled, and a
// test checks that both ways give the same flow table. A full compile
// streams its flows to br-int as they are set (flowtable's
// Installer.Stream and Feed), into the one bundle the round commits,
// so that ovs-vswitchd parses them while the rest compiles.
//
// A new connection's monitor reply is a Full change; libovsdb hands
// its rows over as events afterwards, and those are not changes (the
// view loaded from the cache has them). Nor is the SB's echo of what
// this chassis wrote: its claims (Port_Binding.chassis, up), which the
// compiler counted from the chassis state already, and its Chassis row.
//
// OpenFlow tables are OVN 23.03's, so that ovs-ofctl dump-flows output
// reads the same as with ovn-controller: 0 physical-to-logical, 8..36 the
// logical ingress pipeline (table 8+N is ingress stage N), 37/38 large
// packet detection, 39 remote output, 40 local output, 41 loopback check,
// 42.. the logical egress pipeline, 64 save in_port, 65 logical-to-physical,
// 66/67 MAC bindings, 71/72 FDB, 73-75 port security.
//
// Registers as in ovn-architecture(7): metadata holds the datapath tunnel
// key, reg14 the logical input port, reg15 the logical output port, reg10
// the logical flags, reg13 the conntrack zone of the logical port, reg11 /
// reg12 the DNAT / SNAT zones of a router.
package controller

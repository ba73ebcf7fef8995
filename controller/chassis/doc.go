// Package chassis owns what ovn-controller does to the local
// Open_vSwitch database and to the chassis-owned SB rows: it reads the
// chassis configuration from the Open_vSwitch row's external_ids
// (ReadConfig), creates and keeps the integration bridge, registers the
// Chassis, Encap and Chassis_Private rows, claims and releases the
// Port_Bindings of local interfaces (external_ids:iface-id) and of the
// gateway ports assigned to this chassis, keeps a tunnel port to every
// other chassis and the patch ports of localnet ports, allocates
// conntrack zones persisted in the bridge's external_ids
// (ct-zone-<name>), and marks ports installed (ovn-installed,
// Port_Binding.up) and nb_cfg applied (Chassis_Private.nb_cfg) when the
// controller loop says so.
//
// Manager.Reconcile is the one entry point the loop calls when either
// database changed in a way that matters to it: it reads both clients'
// caches, diffs them against what should be, writes only the difference
// (no transaction at all when nothing changed) and returns the State the
// flow builders need. It always computes in full, reading the libovsdb
// caches without copying rows: a no-op Reconcile against an SB of 5,000
// Port_Bindings and 100 chassis makes about 3,200 allocations (1.1 MB)
// and takes 6-30ms on the shared 2-core test machine (more under heavy
// load). Manager.Affected tells the loop which changes matter: it
// compares each changed row with what the last Reconcile read of it (the
// columns the Manager reads, and its own writes as they will come back),
// so that SB_Global's nb_cfg, other chassis' nb_cfg and ports, interface
// statistics and the echo of ovn-installed, up and claims reconcile
// nothing.
//
// Names, keys and values are those ovn-controller 23.03 writes, so that
// a chassis can move between ovn-controller and ovnd in either
// direction: the oracle test runs both on the same inputs through a
// series of changes and compares the rows after each, the handover tests
// stop one and start the other on the same databases, and Cleanup is
// compared with ovn-controller's exit. Where this package differs, on
// purpose:
//
//   - Without ovn-bridge-datapath-type, a new integration bridge gets the
//     datapath the host offers (netdev where DPDK is initialised or the
//     kernel has no openvswitch datapath) rather than always "system".
//   - A datapath that stops being local frees its localnet ports' zones;
//     ovn-controller keeps them until it restarts.
//   - A system-id change replaces the old Chassis and Chassis_Private
//     rows in one transaction; ovn-controller 23.03 fails on the Encap
//     (type, ip) index there.
//   - There is no BFD: in an HA chassis group of more than one chassis
//     the member with the highest priority is taken to be active (the
//     steady-state choice of ovn-controller, without failover), and
//     tunnel interfaces get no bfd settings.
//
// Not done: Port_Binding.encap for interfaces with external_ids:encap-ip
// (one encap IP per chassis only), additional_chassis (live migration),
// virtual, vtep and l2gateway ports, and the Chassis.other_config keys
// of features ovnd does not have.
package chassis

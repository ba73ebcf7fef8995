// Package chassis owns what ovn-controller does to the local
// Open_vSwitch database and to the chassis-owned SB rows: it reads the
// chassis configuration from the Open_vSwitch row's external_ids
// (ReadConfig), creates and keeps the integration bridge, registers the
// Chassis, Encap and Chassis_Private rows, claims and releases the
// Port_Bindings of local interfaces (external_ids:iface-id), keeps a
// tunnel port to every other chassis and the patch ports of localnet
// ports, allocates conntrack zones persisted in the bridge's external_ids
// (ct-zone-<name>), and marks ports installed (ovn-installed,
// Port_Binding.up) and nb_cfg applied (Chassis_Private.nb_cfg) when the
// controller loop says so.
//
// Manager.Reconcile is the one entry point the loop calls on every change
// of either database: it reads both clients' caches, diffs them against
// what should be, writes only the difference (no transaction at all when
// nothing changed) and returns the State the flow builders need.
// Names, keys and values are those ovn-controller 23.03 writes, so a
// chassis can move between ovn-controller and ovnd in either direction.
package chassis

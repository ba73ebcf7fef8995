// Package lflowc compiles southbound Logical_Flow rows to OpenFlow flows
// the way ovn-controller 23.03 does, so that the flows ovnd installs on
// br-int forward packets as ovn-controller's would.
//
// lflow does the language (parsing, normalisation); this package maps
// the result onto OVN's OpenFlow pipeline: logical tables to OpenFlow
// tables (tables.go), logical fields to registers and packet fields,
// port names to tunnel keys through an Env, sets of alternatives to
// OpenFlow conjunctive matches, and actions to OpenFlow actions,
// including the controller(userdata=...) actions that hand packets to
// the controller's packet-in handler (userdata.go decodes them).
//
// Compile is pure: it reads the world only through Env and allocates
// conjunction ids through ConjIDs; the controller loop does the I/O.
//
//	flows, refs, err := lflowc.Compile(lf, []uint32{dpKey}, env, conj)
//
// Where ovnd knowingly differs from ovn-controller 23.03 is listed in
// the doc comments of the functions concerned and in oracle_test.go's
// allow-list.
package lflowc

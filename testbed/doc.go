// Package testbed owns the scenario test bed: a central node (NB and SB
// databases, northd) and simulated hypervisors, each a network namespace
// with its own ovsdb-server, ovs-vswitchd on the userspace (netdev)
// datapath, br-int, an underlay bridge carrying the tunnel IP, and a
// controller; VIFs are namespaces plugged into br-int.
//
// Every component is either ovnd or the real OVN, chosen per run from the
// environment (see Config). Scenarios use the sentence-like helpers on
// Topology and VIF and judge by packets only.
//
// Everything the test bed creates carries the run's prefix ("ovt" + a short
// run id), is removed in t.Cleanup also after a failure or a panic, and is
// swept at the start of a later run if the owning process died.
package testbed

package controller

import (
	"fmt"
	"testing"

	"github.com/ovnd/ovnd/controller/chassis"
)

// physicalSig is compared in every round to tell whether the physical
// flows must be looked at again: any change of what they read of the
// chassis state changes it, and the same state built again does not.
func TestPhysicalSig(t *testing.T) {
	state := func() *chassis.State {
		st := &chassis.State{Chassis: "hv1", LocalDatapaths: map[string]chassis.LocalDatapath{},
			LocalPorts: map[string]chassis.LocalPort{"p1": {Name: "p1", OFPort: 3, Zone: 7}},
			Gateways:   map[string]chassis.GatewayPort{"cr1": {Name: "cr1", Zone: 9}},
			Localnet:   map[string]chassis.LocalnetPort{"ln1": {Name: "ln1", OFPort: 4, Zone: 8, Tag: 100}},
			Tunnels:    map[string]chassis.Tunnel{"hv2": {Chassis: "hv2", Type: "geneve", OFPort: 5}}}
		for i := range 600 {
			st.LocalDatapaths[fmt.Sprint("dp", i)] = chassis.LocalDatapath{Key: int64(i + 1), DNATZone: 2*i + 10, SNATZone: 2*i + 11}
		}
		return st
	}
	base := physicalSig(state())
	if got := physicalSig(state()); got != base {
		t.Fatalf("the same state signs differently: %q, %q", got, base)
	}
	for _, c := range []struct {
		what string
		edit func(st *chassis.State)
	}{
		{"chassis name", func(st *chassis.State) { st.Chassis = "hv9" }},
		{"a datapath's key", func(st *chassis.State) {
			st.LocalDatapaths["dp5"] = chassis.LocalDatapath{Key: 999, DNATZone: 20, SNATZone: 21}
		}},
		{"a datapath's zone", func(st *chassis.State) {
			st.LocalDatapaths["dp5"] = chassis.LocalDatapath{Key: 6, DNATZone: 20, SNATZone: 22}
		}},
		{"a datapath gone", func(st *chassis.State) { delete(st.LocalDatapaths, "dp0") }},
		{"a port's ofport", func(st *chassis.State) { st.LocalPorts["p1"] = chassis.LocalPort{Name: "p1", OFPort: 4, Zone: 7} }},
		{"a port added", func(st *chassis.State) { st.LocalPorts["p2"] = chassis.LocalPort{Name: "p2", OFPort: 6, Zone: 12} }},
		{"a gateway's zone", func(st *chassis.State) { st.Gateways["cr1"] = chassis.GatewayPort{Name: "cr1", Zone: 10} }},
		{"a localnet tag", func(st *chassis.State) {
			st.Localnet["ln1"] = chassis.LocalnetPort{Name: "ln1", OFPort: 4, Zone: 8, Tag: 101}
		}},
		{"a tunnel's type", func(st *chassis.State) { st.Tunnels["hv2"] = chassis.Tunnel{Chassis: "hv2", Type: "vxlan", OFPort: 5} }},
		{"a tunnel's ofport", func(st *chassis.State) { st.Tunnels["hv2"] = chassis.Tunnel{Chassis: "hv2", Type: "geneve", OFPort: 6} }},
	} {
		st := state()
		c.edit(st)
		if physicalSig(st) == base {
			t.Errorf("%s changed, the signature did not", c.what)
		}
	}
}

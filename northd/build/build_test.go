package build

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// twoPorts is one switch with two VIF ports that have addresses and port
// security: the topology testdata/two-ports.lflows was dumped from, with a
// real ovn-northd 23.03.
func twoPorts() *NB {
	return &NB{
		Global:   nbdb.NBGlobal{UUID: "g", NbCfg: 3, Options: map[string]string{"svc_monitor_mac": "fe:10:75:0a:e9:5d"}},
		Switches: map[string]nbdb.LogicalSwitch{"s0": {UUID: "s0", Name: "sw0", Ports: []string{"p1", "p2"}}},
		Ports: map[string]nbdb.LogicalSwitchPort{
			"p1": {UUID: "p1", Name: "p1", Addresses: []string{"00:00:00:00:00:01 10.0.0.1"}, PortSecurity: []string{"00:00:00:00:00:01 10.0.0.1"}},
			"p2": {UUID: "p2", Name: "p2", Addresses: []string{"00:00:00:00:00:02 10.0.0.2"}, PortSecurity: []string{"00:00:00:00:00:02 10.0.0.2"}},
		},
	}
}

func TestTwoPortsLflows(t *testing.T) {
	want, err := os.ReadFile("testdata/two-ports.lflows")
	if err != nil {
		t.Fatal(err)
	}
	r := Build(twoPorts(), &SB{})
	got := Render(r.Flows, map[int]string{1: "sw0"})
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("lflows (-real ovn-northd +ovnd):\n%s", diff)
	}
}

func TestTunnelKeysSurviveRestart(t *testing.T) {
	nb := twoPorts()
	nb.Switches["s1"] = nbdb.LogicalSwitch{UUID: "s1", Name: "a-first"}
	sb := &SB{
		Datapaths:    []sbdb.DatapathBinding{{UUID: "d0", TunnelKey: 7, ExternalIDs: map[string]string{"logical-switch": "s0"}}},
		PortBindings: []sbdb.PortBinding{{Datapath: "d0", LogicalPort: "p2", TunnelKey: 1}},
	}
	r := Build(nb, sb)
	keys := map[string]int{}
	for _, d := range r.Datapaths {
		keys[d.Name] = d.Key
	}
	for _, p := range r.Ports {
		keys[p.Name] = p.Key
	}
	want := map[string]int{"sw0": 7, "a-first": 1, "p2": 1, "p1": 2}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestMulticastGroups(t *testing.T) {
	nb := twoPorts()
	p := nb.Ports["p2"]
	p.Addresses = []string{"unknown"}
	nb.Ports["p2"] = p
	got := Build(nb, &SB{}).MCGroups
	want := []MCGroup{
		{1, "_MC_flood", 32768, []string{"p1", "p2"}},
		{1, "_MC_unknown", 32769, []string{"p2"}},
		{1, "_MC_flood_l2", 32772, []string{"p1", "p2"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

// A bad ACL match is reported and its flows left out; the switch's other
// flows are built as usual.
func TestBadACLSkipped(t *testing.T) {
	nb := twoPorts()
	nb.ACLs = map[string]nbdb.ACL{
		"a1": {UUID: "a1", Direction: nbdb.ACLDirectionToLport, Priority: 10, Match: "ip4.src == ", Action: nbdb.ACLActionDrop},
		"a2": {UUID: "a2", Direction: nbdb.ACLDirectionToLport, Priority: 20, Match: "ip4.src == $nosuch", Action: nbdb.ACLActionDrop},
		"a3": {UUID: "a3", Direction: nbdb.ACLDirectionToLport, Priority: 30, Match: "ip4.src == $as1", Action: nbdb.ACLActionDrop},
	}
	nb.AddressSets = map[string]nbdb.AddressSet{"s": {UUID: "s", Name: "as1"}}
	sw := nb.Switches["s0"]
	sw.ACLs = []string{"a1", "a2", "a3"}
	nb.Switches["s0"] = sw
	r := Build(nb, &SB{})
	if len(r.Problems) != 2 || !strings.HasPrefix(r.Problems[0], `acl (a1, to-lport priority 10): match`) ||
		!strings.HasPrefix(r.Problems[1], `acl (a2, to-lport priority 20): match`) {
		t.Errorf("problems = %q, want a1 and a2 reported", r.Problems)
	}
	var acls []string
	for _, f := range r.Flows {
		if f.Stage == LSOutACL && f.Priority > 1000 && f.Priority < 2000 {
			acls = append(acls, f.Match)
		}
	}
	if diff := cmp.Diff([]string{"ip4.src == $as1"}, acls); diff != "" {
		t.Errorf("ACL flows (-want +got):\n%s", diff)
	}
}

// Build is deterministic: the same input gives the same flows.
func TestBuildDeterministic(t *testing.T) {
	a := Render(Build(twoPorts(), &SB{}).Flows, map[int]string{1: "sw0"})
	for range 20 {
		if b := Render(Build(twoPorts(), &SB{}).Flows, map[int]string{1: "sw0"}); b != a {
			t.Fatal("two builds of the same NB differ")
		}
	}
}

package build

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// flowLines renders r's flows as "stage match => actions".
func flowLines(r *Result) []string {
	var out []string
	for _, f := range r.Flows {
		out = append(out, f.Stage.Name+" "+f.Match+" => "+f.Actions)
	}
	return out
}

func hasFlow(r *Result, stage Stage, match string) bool {
	return slices.ContainsFunc(r.Flows, func(f Flow) bool { return f.Stage == stage && f.Match == match })
}

func problemsWith(r *Result, substrs ...string) int {
	n := 0
	for _, p := range r.Problems {
		all := true
		for _, s := range substrs {
			all = all && strings.Contains(p, s)
		}
		if all {
			n++
		}
	}
	return n
}

// Address entries that do not parse are reported with the port and
// switch, and left out; the port's good entries and the other ports are
// built as usual.
func TestInvalidAddressesSkipped(t *testing.T) {
	nb := twoPorts()
	p := nb.Ports["p2"]
	p.Addresses = []string{"zz:00:00:00:00:02 10.0.0.2", "00:00:00:00:00:12 10.0.0.300", "00:00:00:00:00:22 10.0.0.22/40",
		"00:00:00:00:00:32", "00:00:00:00:00:42 10.0.0.42"}
	nb.Ports["p2"] = p
	r := Build(nb, &SB{})
	for _, bad := range []string{`"zz:00:00:00:00:02 10.0.0.2": invalid MAC`, `"00:00:00:00:00:12 10.0.0.300": invalid IP address`,
		`"00:00:00:00:00:22 10.0.0.22/40": invalid prefix length`} {
		if problemsWith(r, `logical switch port "p2" (p2) on switch "sw0"`, bad) != 1 {
			t.Errorf("no problem reported for %s; problems:\n%s", bad, strings.Join(r.Problems, "\n"))
		}
	}
	if len(r.Problems) != 3 {
		t.Errorf("problems = %q, want 3", r.Problems)
	}
	for _, m := range []string{"eth.dst == 00:00:00:00:00:01", "eth.dst == 00:00:00:00:00:32", "eth.dst == 00:00:00:00:00:42"} {
		if !hasFlow(r, LSInL2Lkup, m) {
			t.Errorf("no L2 lookup flow %q", m)
		}
	}
	for _, f := range flowLines(r) {
		if strings.Contains(f, "zz:") || strings.Contains(f, "10.0.0.300") || strings.Contains(f, "00:00:00:00:00:22") {
			t.Errorf("flow built from a skipped entry: %s", f)
		}
	}
	var mac []string
	for _, pb := range r.Ports {
		if pb.Name == "p2" {
			mac = pb.MAC
		}
	}
	if diff := cmp.Diff([]string{"00:00:00:00:00:32", "00:00:00:00:00:42 10.0.0.42"}, mac); diff != "" {
		t.Errorf("Port_Binding p2 mac (-want +got):\n%s", diff)
	}
	if nb.Ports["p2"].Addresses[0] != "zz:00:00:00:00:02 10.0.0.2" {
		t.Error("the build changed the NB snapshot")
	}
}

// A MAC or IP that another port of the switch already has is reported and
// left out of the later port (by name); the first keeps it, and a second
// switch may reuse it.
func TestDuplicateAddressesSkipped(t *testing.T) {
	nb := twoPorts()
	nb.Ports["p3"] = nbdb.LogicalSwitchPort{UUID: "p3", Name: "p3", Addresses: []string{"00:00:00:00:00:01 10.0.0.3"}}
	nb.Ports["p4"] = nbdb.LogicalSwitchPort{UUID: "p4", Name: "p4", Addresses: []string{"00:00:00:00:00:04 10.0.0.2", "00:00:00:00:00:44 10.0.0.44"}}
	nb.Ports["q1"] = nbdb.LogicalSwitchPort{UUID: "q1", Name: "q1", Addresses: []string{"00:00:00:00:00:01 10.0.0.1"}}
	sw := nb.Switches["s0"]
	sw.Ports = []string{"p1", "p2", "p3", "p4"}
	nb.Switches["s0"] = sw
	nb.Switches["s1"] = nbdb.LogicalSwitch{UUID: "s1", Name: "sw1", Ports: []string{"q1"}}
	r := Build(nb, &SB{})
	if problemsWith(r, `port "p3" (p3) on switch "sw0"`, `mac 00:00:00:00:00:01 is already port "p1"'s`) != 1 ||
		problemsWith(r, `port "p4" (p4) on switch "sw0"`, `ip 10.0.0.2 is already port "p2"'s`) != 1 || len(r.Problems) != 2 {
		t.Errorf("problems:\n%s", strings.Join(r.Problems, "\n"))
	}
	var l2 []string
	for _, f := range r.Flows {
		if f.Stage == LSInL2Lkup && f.Priority == 50 {
			l2 = append(l2, f.Match+" => "+f.Actions)
		}
	}
	want := []string{
		`eth.dst == 00:00:00:00:00:01 => outport = "p1"; output;`,
		`eth.dst == 00:00:00:00:00:01 => outport = "q1"; output;`,
		`eth.dst == 00:00:00:00:00:02 => outport = "p2"; output;`,
		`eth.dst == 00:00:00:00:00:44 => outport = "p4"; output;`,
	}
	slices.Sort(l2)
	if diff := cmp.Diff(want, l2); diff != "" {
		t.Errorf("L2 lookup flows (-want +got):\n%s", diff)
	}
}

// A port listed by two switches, or two ports with one name, would make
// two Port_Bindings with one logical_port, which SB refuses: the port
// stays on the first switch only, and the problem names the other.
func TestPortInTwoSwitches(t *testing.T) {
	nb := twoPorts()
	nb.Ports["x"] = nbdb.LogicalSwitchPort{UUID: "x", Name: "p1", Addresses: []string{"00:00:00:00:00:09"}}
	nb.Ports["q1"] = nbdb.LogicalSwitchPort{UUID: "q1", Name: "q1", Addresses: []string{"00:00:00:00:00:11"}}
	nb.Switches["s1"] = nbdb.LogicalSwitch{UUID: "s1", Name: "sw1", Ports: []string{"p2", "x", "q1"}}
	r := Build(nb, &SB{})
	names := map[string]int{}
	for _, p := range r.Ports {
		names[p.Name]++
	}
	if diff := cmp.Diff(map[string]int{"p1": 1, "p2": 1, "q1": 1}, names); diff != "" {
		t.Errorf("Port_Binding names (-want +got):\n%s", diff)
	}
	if problemsWith(r, `"p2" (p2) on switch "sw1": port name already on switch "sw0"`) != 1 ||
		problemsWith(r, `"p1" (x) on switch "sw1": port name already on switch "sw0"`) != 1 || len(r.Problems) != 2 {
		t.Errorf("problems:\n%s", strings.Join(r.Problems, "\n"))
	}
	if !hasFlow(r, LSInL2Lkup, "eth.dst == 00:00:00:00:00:11") {
		t.Error("sw1's remaining port q1 has no L2 lookup flow")
	}
}

// A port group naming ports that are on no switch, and ACLs naming
// address sets and port groups that do not exist, build without a panic:
// the bad ACL is reported, the rest built.
func TestDanglingReferences(t *testing.T) {
	nb := twoPorts()
	nb.PortGroups = map[string]nbdb.PortGroup{"g": {UUID: "g", Name: "pg1", Ports: []string{"p1", "nosuch"}, ACLs: []string{"a1", "a2"}}}
	name := "web-in"
	nb.ACLs = map[string]nbdb.ACL{
		"a1": {UUID: "a1", Name: &name, Direction: nbdb.ACLDirectionToLport, Priority: 10, Match: "outport == @pg1 && ip4.src == $nosuch", Action: nbdb.ACLActionAllowRelated},
		"a2": {UUID: "a2", Direction: nbdb.ACLDirectionToLport, Priority: 20, Match: "outport == @pg1 && ip4.src == $pg1_ip4", Action: nbdb.ACLActionAllowRelated},
	}
	r := Build(nb, &SB{})
	if problemsWith(r, `acl "web-in" (a1, to-lport priority 10): match`) != 1 || len(r.Problems) != 1 {
		t.Errorf("problems:\n%s", strings.Join(r.Problems, "\n"))
	}
	if !slices.ContainsFunc(r.Flows, func(f Flow) bool {
		return f.Stage == LSOutACL && strings.Contains(f.Match, "outport == @pg1 && ip4.src == $pg1_ip4")
	}) {
		t.Error("the good ACL was not built")
	}
}

// Between two ports with one address, the one whose Port_Binding already
// carries it keeps it, whatever the names: adding a port never takes an
// address from a working one, and the choice holds from round to round.
func TestDuplicateAddressKeepsHolder(t *testing.T) {
	nb := twoPorts()
	nb.Ports["a0"] = nbdb.LogicalSwitchPort{UUID: "a0", Name: "a0", Addresses: []string{"00:00:00:00:00:02 10.0.0.99"}}
	sw := nb.Switches["s0"]
	sw.Ports = []string{"p1", "p2", "a0"}
	nb.Switches["s0"] = sw
	sb := &SB{
		Datapaths: []sbdb.DatapathBinding{{UUID: "d0", TunnelKey: 1, ExternalIDs: map[string]string{"logical-switch": "s0"}}},
		PortBindings: []sbdb.PortBinding{
			{Datapath: "d0", LogicalPort: "p2", TunnelKey: 2, MAC: []string{"00:00:00:00:00:02 10.0.0.2"}},
			{Datapath: "d0", LogicalPort: "a0", TunnelKey: 3},
		},
	}
	r := Build(nb, sb)
	if problemsWith(r, `port "a0" (a0) on switch "sw0"`, `mac 00:00:00:00:00:02 is already port "p2"'s`) != 1 || len(r.Problems) != 1 {
		t.Errorf("problems:\n%s", strings.Join(r.Problems, "\n"))
	}
	if !slices.ContainsFunc(r.Flows, func(f Flow) bool {
		return f.Stage == LSInL2Lkup && f.Match == "eth.dst == 00:00:00:00:00:02" && f.Actions == `outport = "p2"; output;`
	}) {
		t.Error("p2 lost its MAC to the new port a0")
	}
}

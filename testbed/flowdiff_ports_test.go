package testbed

import (
	"maps"
	"testing"
)

// Port labels come from one bridge's interfaces only (port numbers are
// per bridge): a VIF by its iface-id, a tunnel by its remote IP, a patch
// port by its peer, anything else by its name.
func TestParsePortLabels(t *testing.T) {
	out := `{"data":[` +
		`[1,"ul0","",["map",[]],["map",[]]],` +
		`[1,"ovn-hv2-0","geneve",["map",[["ovn-chassis-id","hv2@172.31.0.2"]]],["map",[["csum","true"],["key","flow"],["remote_ip","172.31.0.2"]]]],` +
		`[2,"vif1","",["map",[["iface-id","nat-a"]]],["map",[]]],` +
		`[3,"patch-ln-to-br-int","patch",["map",[]],["map",[["peer","patch-br-int-to-ln"]]]],` +
		`[65534,"br-int","internal",["map",[]],["map",[]]],` +
		`[["set",[]],"vif9","",["map",[["iface-id","gone"]]],["map",[]]]` +
		`],"headings":["ofport","name","type","external_ids","options"]}`
	got, err := parsePortLabels(out, []string{"ovn-hv2-0", "vif1", "patch-ln-to-br-int", "br-int", "vif9"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{1: "tun:172.31.0.2", 2: "vif:nat-a", 3: "patch:patch-br-int-to-ln", 65534: "port:br-int"}
	if !maps.Equal(got, want) {
		t.Errorf("labels = %v, want %v", got, want)
	}
	if _, err := parsePortLabels(`{"data":[[1,"x"]]}`, nil); err == nil {
		t.Error("a row with 2 columns: no error")
	}
	if _, err := parsePortLabels(`not json`, nil); err == nil {
		t.Error("not JSON: no error")
	}
}

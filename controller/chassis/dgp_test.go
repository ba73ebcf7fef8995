package chassis

import (
	"slices"
	"sort"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// dgpView is switch "in" -- router "nat" -- switch "out", nat-out a
// distributed gateway port whose chassisredirect port cr-nat-out has an
// HA group holding only hv1.
func dgpView(alwaysRedirect bool) *sbView {
	v := &sbView{pbs: map[string]*sbdb.PortBinding{}, pbsByDP: map[string][]*sbdb.PortBinding{},
		dps: map[string]*sbdb.DatapathBinding{
			"dp-in":  {UUID: "dp-in", ExternalIDs: map[string]string{"logical-switch": "1", "name": "in"}},
			"dp-nat": {UUID: "dp-nat", ExternalIDs: map[string]string{"logical-router": "1", "name": "nat"}},
			"dp-out": {UUID: "dp-out", ExternalIDs: map[string]string{"logical-switch": "1", "name": "out"}},
		},
		ha: haView{groups: map[string]*sbdb.HAChassisGroup{"g": {UUID: "g", HaChassis: []string{"m1"}}},
			members: map[string]*sbdb.HAChassis{"m1": {UUID: "m1", Chassis: ptr("ch-hv1"), Priority: 10}}}}
	crOpts := map[string]string{"distributed-port": "nat-out"}
	if alwaysRedirect {
		crOpts["always-redirect"] = "true"
	}
	for _, pb := range []*sbdb.PortBinding{
		{LogicalPort: "a", Type: "", Datapath: "dp-in"},
		{LogicalPort: "ext", Type: "", Datapath: "dp-out"},
		{LogicalPort: "in-nat", Type: "patch", Datapath: "dp-in", Options: map[string]string{"peer": "nat-in"}},
		{LogicalPort: "nat-in", Type: "patch", Datapath: "dp-nat", Options: map[string]string{"peer": "in-nat"}},
		{LogicalPort: "nat-out", Type: "patch", Datapath: "dp-nat",
			Options: map[string]string{"peer": "out-nat", "chassis-redirect-port": "cr-nat-out"}},
		{LogicalPort: "out-nat", Type: "patch", Datapath: "dp-out", Options: map[string]string{"peer": "nat-out"}},
		{LogicalPort: "cr-nat-out", Type: "chassisredirect", Datapath: "dp-nat", Options: crOpts, HaChassisGroup: ptr("g")},
	} {
		v.pbs[pb.LogicalPort] = pb
		v.pbsByDP[pb.Datapath] = append(v.pbsByDP[pb.Datapath], pb)
	}
	return v
}

func ptr(s string) *string { return &s }

// localDatapaths expands from VIFs bound on chassis chUUID.
func localDatapaths(v *sbView, chUUID string, vifs ...string) []string {
	b := &binding{local: map[string]*LocalPort{}, gateway: map[string]*sbdb.PortBinding{}, datapath: map[string]bool{}}
	for _, p := range vifs {
		b.local[p] = &LocalPort{Name: p, Type: typeVIF, Datapath: v.pbs[p].Datapath}
	}
	b.expandDatapaths(v, chUUID)
	var out []string
	for dp := range b.datapath {
		out = append(out, dp)
	}
	sort.Strings(out)
	return out
}

// The walk over local datapaths stops at a distributed gateway port, on
// its way out of the router, on a chassis that is not in its HA group
// (as ovn-controller 23.03 on the NAT_LB scenario: the chassis with VIFs
// only behind the router has no flows for the external switch), and
// crosses it on the gateway chassis or when the port does not always
// redirect. From the outside switch into the router it always crosses
// (ovn-controller 23.03 with the outside VIF on a chassis that is not
// the gateway: testbed TestFlowDiff/DGPOutside).
func TestExpandDatapathsDGP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		always  bool
		chassis string
		vifs    []string
		want    []string
	}{
		{"not gateway, VIF inside", true, "ch-hv2", []string{"a"}, []string{"dp-in", "dp-nat"}},
		{"gateway, VIF inside", true, "ch-hv1", []string{"a"}, []string{"dp-in", "dp-nat", "dp-out"}},
		{"not gateway, VIF outside", true, "ch-hv2", []string{"ext"}, []string{"dp-in", "dp-nat", "dp-out"}},
		{"gateway, VIF outside", true, "ch-hv1", []string{"ext"}, []string{"dp-in", "dp-nat", "dp-out"}},
		{"not gateway, no always-redirect", false, "ch-hv2", []string{"a"}, []string{"dp-in", "dp-nat", "dp-out"}},
	} {
		if got := localDatapaths(dgpView(tc.always), tc.chassis, tc.vifs...); !slices.Equal(got, tc.want) {
			t.Errorf("%s: local datapaths %v, want %v", tc.name, got, tc.want)
		}
	}
	// Plain patch ports always lead on.
	v := dgpView(true)
	delete(v.pbs["nat-out"].Options, "chassis-redirect-port")
	if got, want := localDatapaths(v, "ch-hv2", "a"), []string{"dp-in", "dp-nat", "dp-out"}; !slices.Equal(got, want) {
		t.Errorf("without a chassisredirect port: %v, want %v", got, want)
	}
}

package physical

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

func TestPortFromBinding(t *testing.T) {
	ch, parent, tag := "ch-uuid", "vm1", 42
	names := func(u string) string { return map[string]string{"ch-uuid": "hv1"}[u] }
	for _, c := range []struct {
		what string
		pb   sbdb.PortBinding
		want Port
	}{
		{"VIF", sbdb.PortBinding{UUID: "u1", LogicalPort: "a", TunnelKey: 3, Chassis: &ch,
			MAC: []string{"00:00:00:00:00:01 10.0.0.1"}, PortSecurity: []string{"00:00:00:00:00:01"}},
			Port{UUID: "u1", Name: "a", Key: 3, Chassis: "hv1", MAC: []string{"00:00:00:00:00:01 10.0.0.1"},
				PortSecurity: []string{"00:00:00:00:00:01"}}},
		{"container", sbdb.PortBinding{UUID: "u2", LogicalPort: "c", TunnelKey: 4, Chassis: &ch, ParentPort: &parent, Tag: &tag},
			Port{UUID: "u2", Name: "c", Key: 4, Chassis: "hv1", Parent: "vm1", Tag: 42}},
		{"l3gateway: pinned by option", sbdb.PortBinding{UUID: "u3", LogicalPort: "g", TunnelKey: 1, Type: "l3gateway",
			Options: map[string]string{"peer": "r", "l3gateway-chassis": "hv2"}},
			Port{UUID: "u3", Name: "g", Key: 1, Type: TypeL3Gateway, Chassis: "hv2", Peer: "r"}},
		{"chassisredirect", sbdb.PortBinding{UUID: "u4", LogicalPort: "cr-lrp", TunnelKey: 5, Type: "chassisredirect", Chassis: &ch,
			Options: map[string]string{"distributed-port": "lrp"}},
			Port{UUID: "u4", Name: "cr-lrp", Key: 5, Type: TypeChassisRedirect, Chassis: "hv1", DistributedPort: "lrp"}},
	} {
		if diff := cmp.Diff(c.want, PortFromBinding(&c.pb, names)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, diff)
		}
	}
}

func TestNeighbourRows(t *testing.T) {
	mb, err := StaticMACBindingFromSB(&sbdb.StaticMACBinding{UUID: "s", LogicalPort: "lrp", IP: "fd00::1", MAC: "00:00:00:00:00:09",
		OverrideDynamicMAC: true})
	want := MACBinding{UUID: "s", Port: "lrp", IP: netip.MustParseAddr("fd00::1"), MAC: net.HardwareAddr{0, 0, 0, 0, 0, 9},
		Static: true, Override: true}
	if err != nil || !cmp.Equal(want, mb, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
		t.Errorf("static mac binding: %+v %v", mb, err)
	}
	if _, err := MACBindingFromSB(&sbdb.MACBinding{UUID: "m", LogicalPort: "lrp", IP: "10.0.0.300", MAC: "00:00:00:00:00:09"}); err == nil {
		t.Error("a bad IP address converted without error")
	}
	if _, err := FDBFromSB(&sbdb.FDB{UUID: "f", MAC: "zz", DpKey: 1, PortKey: 1}); err == nil {
		t.Error("a bad MAC converted without error")
	}
	e, err := FDBFromSB(&sbdb.FDB{UUID: "f", MAC: "00:00:00:00:0f:01", DpKey: 2, PortKey: 3})
	if err != nil || e.Datapath != 2 || e.Port != 3 || e.MAC.String() != "00:00:00:00:0f:01" {
		t.Errorf("fdb: %+v %v", e, err)
	}
}

package build

import (
	"fmt"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// bigNB is n switches with m VIF ports each, every port in one port group
// that carries a stateful ACL.
func bigNB(n, m int) *NB {
	nb := &NB{
		Switches: map[string]nbdb.LogicalSwitch{}, Ports: map[string]nbdb.LogicalSwitchPort{},
		PortGroups: map[string]nbdb.PortGroup{}, ACLs: map[string]nbdb.ACL{
			"a": {UUID: "a", Direction: nbdb.ACLDirectionToLport, Priority: 1, Match: "outport == @pg && ip4.src == $pg_ip4", Action: nbdb.ACLActionAllowRelated},
		},
	}
	pg := nbdb.PortGroup{UUID: "pg", Name: "pg", ACLs: []string{"a"}}
	for i := range n {
		sw := nbdb.LogicalSwitch{UUID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("sw%d", i)}
		for j := range m {
			u := fmt.Sprintf("p%d_%d", i, j)
			nb.Ports[u] = nbdb.LogicalSwitchPort{UUID: u, Name: u,
				Addresses: []string{fmt.Sprintf("00:00:00:00:%02x:%02x 10.%d.%d.1", i%256, j%256, i%256, j%256)}}
			sw.Ports = append(sw.Ports, u)
			pg.Ports = append(pg.Ports, u)
		}
		nb.Switches[sw.UUID] = sw
	}
	nb.PortGroups[pg.UUID] = pg
	return nb
}

func BenchmarkBuild100x20(b *testing.B) {
	nb := bigNB(100, 20)
	for b.Loop() {
		Build(nb, &SB{})
	}
}

package northd

import (
	"fmt"
	"testing"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// bulkDelta is the engine's delta for the benchmark's bulk load: n
// switches of m ports, every port in a port group with stateful ACLs,
// added at once to an empty NB. The sets and SB_Global are left out
// (planned through libovsdb's API, which needs a connected client).
func bulkDelta(n, m int) *build.Delta {
	nb := &build.NB{Switches: map[string]nbdb.LogicalSwitch{}, Ports: map[string]nbdb.LogicalSwitchPort{},
		PortGroups: map[string]nbdb.PortGroup{}, ACLs: map[string]nbdb.ACL{}}
	e := build.NewEngine(nb, &build.SB{})
	ch := build.Changes{Switches: map[string]bool{}, Ports: map[string]bool{}, PortGroups: map[string]bool{"pg": true}, ACLs: map[string]bool{}}
	pg := nbdb.PortGroup{UUID: "pg", Name: "pg_all"}
	for i, match := range []string{"inport == @pg_all && ip4", "outport == @pg_all && ip4 && ip4.src == $pg_all_ip4", "outport == @pg_all && ip4 && tcp.dst == 22"} {
		u := fmt.Sprint("acl", i)
		dir := nbdb.ACLDirectionToLport
		if i == 0 {
			dir = nbdb.ACLDirectionFromLport
		}
		nb.ACLs[u] = nbdb.ACL{UUID: u, Direction: dir, Priority: 1000 + i, Match: match, Action: nbdb.ACLActionAllowRelated}
		pg.ACLs = append(pg.ACLs, u)
		ch.ACLs[u] = true
	}
	for i := range n {
		sw := nbdb.LogicalSwitch{UUID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("sw%d", i)}
		for j := range m {
			u := fmt.Sprintf("p%d_%d", i, j)
			nb.Ports[u] = nbdb.LogicalSwitchPort{UUID: u, Name: u,
				Addresses: []string{fmt.Sprintf("0a:00:00:00:%02x:%02x 10.%d.%d.%d", i%256, j, i/256, i%256, j+2)}}
			sw.Ports = append(sw.Ports, u)
			pg.Ports = append(pg.Ports, u)
			ch.Ports[u] = true
		}
		nb.Switches[sw.UUID] = sw
		ch.Switches[sw.UUID] = true
	}
	nb.PortGroups[pg.UUID] = pg
	d := e.Update(ch)
	d.Global, d.PortGroups, d.AddressSets = nil, nil, nil
	return d
}

func emptyIndex() *sbIndex {
	return &sbIndex{dp: map[int]string{}, pb: map[string]string{}, mc: map[mcKey]string{}, pg: map[string]string{},
		as: map[string]string{}, flow: map[contentKey]string{}, groups: map[string]*dpGroup{}}
}

// BenchmarkPlanBulk plans the bulk load's SB transaction.
func BenchmarkPlanBulk(b *testing.B) {
	d := bulkDelta(500, 20)
	for b.Loop() {
		p := planDelta(nil, emptyIndex(), d)
		if p.err != nil || p.len() < 40000 {
			b.Fatalf("%d operations, %v", p.len(), p.err)
		}
	}
}

package northd

import (
	"context"
	"fmt"
	"testing"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// A chassis reporting the nb_cfg it has applied (Chassis_Private) is on
// the path of every `ovn-nbctl --wait=hv`: the round it starts reports
// hv_cfg and revisits no port, since a port's up does not depend on
// Chassis_Private. A Chassis change (its port-up-notif flag) still
// revisits every port.
func TestChassisPrivateRoundRevisitsNoPort(t *testing.T) {
	ctx := context.Background()
	tr := newTracker(make(chan struct{}, 1))
	s := &incState{nb: &nbState{NB: build.NB{Ports: map[string]nbdb.LogicalSwitchPort{}}, hasGlobal: true},
		byName: map[string][]string{}, pbsGone: map[string]string{}}
	for i := range 1000 {
		u := fmt.Sprintf("lsp-%d", i)
		s.nb.Ports[u] = nbdb.LogicalSwitchPort{UUID: u, Name: fmt.Sprintf("p%d", i)}
	}

	tr.sbRow(sbdb.ChassisPrivateTable, &sbdb.ChassisPrivate{UUID: "cp1", Name: "hv1", NbCfg: 3}, false, false)
	c := tr.collect(ctx)
	if !c.priv || c.chassis || c.sbReset {
		t.Fatalf("a Chassis_Private update collected as priv=%v chassis=%v sbReset=%v, want priv only", c.priv, c.chassis, c.sbReset)
	}
	if sub := s.feedbackPorts(build.Changes{}, c, nil); len(sub.Ports) != 0 || !sub.hasGlobal {
		t.Errorf("a Chassis_Private round plans %d ports (global %v), want none and NB_Global", len(sub.Ports), sub.hasGlobal)
	}

	tr.sbRow(sbdb.ChassisTable, &sbdb.Chassis{UUID: "ch1", Name: "hv1"}, false, false)
	c = tr.collect(ctx)
	if !c.chassis {
		t.Fatal("a Chassis update not collected as a chassis change")
	}
	if sub := s.feedbackPorts(build.Changes{}, c, nil); len(sub.Ports) != len(s.nb.Ports) {
		t.Errorf("a Chassis round plans %d ports, want all %d", len(sub.Ports), len(s.nb.Ports))
	}
}

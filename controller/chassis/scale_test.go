package chassis

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// TestReconcileScale measures Reconcile against an SB of a realistic
// size: 100 other chassis, 200 datapaths, 5,000 port bindings, 20 of
// them bound here. It asserts what must hold at any size (every tunnel,
// every claim, no transaction when nothing changed) and logs the times,
// which depend on the machine.
func TestReconcileScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	h := startHost(t)
	h.configure("hv1", "geneve", "192.168.77.1")
	var txns int
	m := h.countingManager(&txns)
	reconcile(t, m)

	const chassisN, dpN, pbN, localN = 100, 200, 5000, 20
	tx := &txn{c: m.sb}
	for i := range chassisN {
		e, c := fmt.Sprintf("e%d", i), fmt.Sprintf("c%d", i)
		tx.create(&sbdb.Encap{UUID: e, ChassisName: fmt.Sprintf("hv-%d", i+2), Type: "geneve",
			IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), Options: map[string]string{"csum": "true"}})
		tx.create(&sbdb.Chassis{UUID: c, Name: fmt.Sprintf("hv-%d", i+2), Encaps: []string{e}})
	}
	for i := range dpN {
		tx.create(&sbdb.DatapathBinding{UUID: fmt.Sprintf("dp%d", i), TunnelKey: i + 1})
	}
	for i := range pbN {
		tx.create(&sbdb.PortBinding{UUID: fmt.Sprintf("pb%d", i), LogicalPort: fmt.Sprintf("lp%d", i),
			Datapath: fmt.Sprintf("dp%d", i%dpN), TunnelKey: i/dpN + 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := tx.commit(ctx); err != nil {
		t.Fatal(err)
	}
	var args []string
	for i := range localN {
		name := fmt.Sprintf("vif%d", i)
		args = append(args, "--", "add-port", "br-int", name, "--", "set", "Interface", name, "type=internal",
			fmt.Sprintf("external_ids:iface-id=lp%d", i*7))
	}
	h.vsctl(args...)

	start := time.Now()
	st := eventually(t, m, "all bound and tunnels up", func(s *State) bool {
		if len(s.Tunnels) != chassisN || len(s.LocalPorts) != localN {
			return false
		}
		for _, tu := range s.Tunnels {
			if tu.OFPort <= 0 {
				return false
			}
		}
		return true
	})
	t.Logf("converged in %v: %d tunnels, %d local ports, %d local datapaths, %d zones",
		time.Since(start).Round(time.Millisecond), len(st.Tunnels), len(st.LocalPorts), len(st.LocalDatapaths), len(st.Zones))

	txns = 0
	const rounds = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	for range rounds {
		reconcile(t, m)
	}
	per := time.Since(start) / rounds
	runtime.ReadMemStats(&after)
	if txns != 0 {
		t.Errorf("%d transactions in %d no-op reconciles", txns, rounds)
	}
	// Allocations include libovsdb's own (monitor updates), but there
	// are none while nothing changes; they do not depend on the load.
	t.Logf("no-op Reconcile: %v each (wall clock, load-dependent), %d allocations, %d KiB each",
		per.Round(time.Microsecond), (after.Mallocs-before.Mallocs)/rounds, (after.TotalAlloc-before.TotalAlloc)/rounds/1024)
}

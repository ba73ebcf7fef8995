package northd_test

import (
	"testing"
	"time"

	"github.com/ovnd/ovnd/northd/difftest"
)

// A port whose binding loses its chassis goes down in NB, and comes
// back up when bound again: northd monitors only the bound
// Port_Binding rows, and a row that loses its chassis leaves the
// monitor. On ovsdb-server and on ovnd's database.
func TestUnboundPortGoesDown(t *testing.T) {
	t.Run("ovsdb-server", func(t *testing.T) { nb, sb := dbs(t); testUnbound(t, nb, sb) })
	t.Run("ovnd", func(t *testing.T) {
		if err := difftest.Available(); err != nil {
			t.Skip(err)
		}
		nb, sb := ovndDBs(t)
		testUnbound(t, nb, sb)
	})
}

func testUnbound(t *testing.T, nb, sb string) {
	start := time.Now()
	startNorthd(t, nb, sb)
	setup(t, nb)
	up := func(port string) func() bool {
		return func() bool { return ctl(t, difftest.NBCtl, nb, "get", "Logical_Switch_Port", port, "up") == "true" }
	}
	down := func(port string) func() bool {
		return func() bool { return ctl(t, difftest.NBCtl, nb, "get", "Logical_Switch_Port", port, "up") == "false" }
	}
	eventually(t, "p1 down before it is bound", down("p1"))
	ctl(t, difftest.SBCtl, sb, "chassis-add", "hv1", "geneve", "127.0.0.1")
	ctl(t, difftest.SBCtl, sb, "lsp-bind", "p1", "hv1")
	eventually(t, "p1 up once bound", up("p1"))
	ctl(t, difftest.SBCtl, sb, "lsp-unbind", "p1")
	eventually(t, "p1 down once unbound", down("p1"))
	ctl(t, difftest.SBCtl, sb, "lsp-bind", "p1", "hv1")
	eventually(t, "p1 up once bound again", up("p1"))
	// A port deleted while bound and added again: its new binding is
	// unbound, so down.
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-del", "p1")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw0", "p1")
	eventually(t, "p1 down when added again", down("p1"))
	// Each step takes milliseconds; a northd that fails to set up its
	// incremental state (it waited 10 s for the echo of bindings it is
	// not sent) holds the first ones back for seconds.
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the steps took %v", d)
	}
}

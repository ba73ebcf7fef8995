package chassis

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// TestHandoverFromOVNController stops the real ovn-controller on a
// chassis it ran and starts a Manager on the same databases: the Manager
// takes the chassis over as it is (same rows, same zones, ports still
// installed) and writes nothing but its own start time.
func TestHandoverFromOVNController(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ovn-controller"); err != nil {
		t.Skip("ovn-controller not installed")
	}
	h := startHost(t)
	var oc *daemon
	oracleSetup(h, func() {
		oc = h.daemon("ovn-controller", "unix:"+h.path("db.sock"), "--log-file="+h.path("ovn-controller.log"), "--no-chdir")
		h.waitBridge("br-int")
	})
	h.waitSB("true", "--bare", "--columns=up", "find", "Port_Binding", "logical_port=lp1")
	h.waitSB("true", "--bare", "--columns=up", "find", "Port_Binding", "logical_port=lpc")
	if err := oc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-oc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("ovn-controller did not exit on SIGTERM")
	}

	ovs := h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions())
	sb := h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor())
	before := render(t, ovs, sb)
	var txns int
	m := New(countingClient{ovs, &txns}, countingClient{sb, &txns}, Options{KernelDatapath: func() (bool, error) { return false, nil }})
	st := reconcile(t, m)
	after := render(t, ovs, sb)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("handover changed rows (-ovn-controller's +after the Manager's first Reconcile):\n%s", diff)
	}
	if txns != 1 {
		t.Errorf("handover issued %d transactions, want 1 (ovn-startup-ts)", txns)
	}
	// (A localport has nothing that says it was installed; the loop
	// marks it again, which writes nothing.)
	for _, name := range []string{"lp1", "lpc"} {
		if !st.LocalPorts[name].Installed {
			t.Errorf("%s not installed after handover: %+v", name, st.LocalPorts[name])
		}
	}
	if len(st.Tunnels) != 3 || len(st.Localnet) != 1 {
		t.Errorf("handover state: tunnels %v, localnet %v", st.Tunnels, st.Localnet)
	}
	t.Logf("taken over:\n%s", strings.Join(after, "\n"))
}

// TestHandoverToOVNController is the other direction: a chassis the
// Manager ran is taken over by the real ovn-controller, which finds
// nothing to change.
func TestHandoverToOVNController(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ovn-controller"); err != nil {
		t.Skip("ovn-controller not installed")
	}
	h := startHost(t)
	m := h.manager()
	oracleSetup(h, func() { reconcile(t, m) })
	eventually(t, m, "settled", func(s *State) bool {
		settle(t, m)
		return len(s.Tunnels) == 3 && s.LocalPorts["lp1"].Installed && s.LocalPorts["lpc"].Installed
	})
	before := render(t, m.ovs, m.sb)
	installedTS := h.vsctl("get", "Interface", "vif1", "external_ids:ovn-installed-ts")
	oc := h.daemon("ovn-controller", "unix:"+h.path("db.sock"), "--log-file="+h.path("ovn-controller.log"), "--no-chdir")
	// Wait until ovn-controller is connected to br-int (it has read both
	// databases by then), then give it time to change anything it would.
	for i := 0; ; i++ {
		log, _ := os.ReadFile(h.path("ovn-controller.log"))
		if strings.Contains(string(log), "br-int.mgmt: connected") {
			break
		}
		if i == 200 {
			t.Fatalf("ovn-controller did not connect (%s):\n%s", oc.exited(), log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	if got := h.vsctl("get", "Interface", "vif1", "external_ids:ovn-installed-ts"); got != installedTS {
		t.Errorf("ovn-controller re-installed vif1: ovn-installed-ts %s, was %s", got, installedTS)
	}
	after := render(t, m.ovs, m.sb)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("ovn-controller changed the Manager's rows (-Manager's +after ovn-controller):\n%s", diff)
	}
}

// TestCleanupLikeExit compares Cleanup with what ovn-controller leaves
// behind after `ovn-appctl exit`.
func TestCleanupLikeExit(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("ovn-controller"); err != nil {
		t.Skip("ovn-controller not installed")
	}
	real := startHost(t)
	var oc *daemon
	oracleSetup(real, func() {
		oc = real.daemon("ovn-controller", "unix:"+real.path("db.sock"), "--log-file="+real.path("ovn-controller.log"), "--no-chdir")
		real.waitBridge("br-int")
	})
	real.waitSB("true", "--bare", "--columns=up", "find", "Port_Binding", "logical_port=lp1")
	real.appctl(oc, "exit")
	select {
	case <-oc.done:
	case <-time.After(20 * time.Second):
		t.Fatal("ovn-controller did not exit")
	}
	realOVS := real.connect(vswitch.FullDatabaseModel, real.path("db.sock"), OVSMonitorOptions())
	realSB := real.connect(sbdb.FullDatabaseModel, real.sbSock, sbTestMonitor())

	ours := startHost(t)
	m := ours.manager()
	oracleSetup(ours, func() { reconcile(t, m) })
	eventually(t, m, "settled", func(s *State) bool {
		settle(t, m)
		return len(s.Tunnels) == 3 && s.LocalPorts["lp1"].Installed
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	want, got := render(t, realOVS, realSB), render(t, m.ovs, m.sb)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after exit: ovn-controller (-) vs Cleanup (+):\n%s", diff)
	}
}

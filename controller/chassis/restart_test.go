package chassis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRestartKeepsZonesAndInstalled(t *testing.T) {
	h := startHost(t)
	h.configure("hv1", "geneve", "192.168.77.1")
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1", "up=false")
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp2", "tunnel_key=2", "up=false")
	m1 := h.manager()
	reconcile(t, m1)
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	h.vsctl("add-port", "br-int", "vif2", "--", "set", "Interface", "vif2", "type=internal", "external_ids:iface-id=lp2")
	st1 := eventually(t, m1, "both ports bound", func(s *State) bool { return len(s.LocalPorts) == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m1.MarkInstalled(ctx, []string{"lp1"}); err != nil {
		t.Fatal(err)
	}

	// Someone changed br-int's fail mode while the controller was down.
	h.vsctl("set", "Bridge", "br-int", "fail_mode=standalone")

	// A new manager on fresh connections, as after a restart.
	var txns int
	m2 := h.countingManager(&txns)
	st2 := reconcile(t, m2)
	if st2.ChassisUUID != st1.ChassisUUID {
		t.Errorf("chassis re-created: %s, was %s", st2.ChassisUUID, st1.ChassisUUID)
	}
	if diff := cmp.Diff(st1.Zones, st2.Zones); diff != "" {
		t.Errorf("zones changed across restart (-before +after):\n%s", diff)
	}
	if !st2.LocalPorts["lp1"].Installed || st2.LocalPorts["lp2"].Installed {
		t.Errorf("installed after restart: lp1 %v lp2 %v, want true false",
			st2.LocalPorts["lp1"].Installed, st2.LocalPorts["lp2"].Installed)
	}
	if got := h.vsctl("get", "Interface", "vif1", "external_ids:ovn-installed"); strings.TrimSpace(got) != `"true"` {
		t.Errorf("restart removed ovn-installed: %q", got)
	}
	if n := strings.Count(h.sbctl("--bare", "--columns=name", "list", "Chassis"), "hv1"); n != 1 {
		t.Errorf("%d Chassis rows named hv1", n)
	}
	if got := strings.TrimSpace(h.vsctl("get", "Bridge", "br-int", "fail_mode")); got != "secure" {
		t.Errorf("fail_mode after restart: %s", got)
	}
	// Only the bridge is written: the new ovn-startup-ts and fail_mode.
	if txns != 1 {
		t.Errorf("restart reconcile issued %d transactions, want 1", txns)
	}
}

func TestTakeOverAndReconfigure(t *testing.T) { testTakeOverAndReconfigure(t, startHost(t)) }

// The same against ovnd's own database role as the SB.
func TestTakeOverAndReconfigureOVNDSB(t *testing.T) {
	testTakeOverAndReconfigure(t, startHostOVNDSB(t))
}

func testTakeOverAndReconfigure(t *testing.T, h *host) {
	// A previous run (or a different controller) left hv1 with other encaps.
	h.sbctl("chassis-add", "hv1", "vxlan", "10.9.9.9")
	old := h.sbGet("Chassis", "name=hv1", "_uuid")
	h.configure("hv1", "geneve", "192.168.77.1", "ovn-bridge-mappings=physnet1:br-phy")
	h.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev")
	h.vsctl("add-br", "br-phy2", "--", "set", "bridge", "br-phy2", "datapath_type=netdev")
	m := h.manager()
	st := reconcile(t, m)
	if st.ChassisUUID != old {
		t.Errorf("chassis not taken over: %s, was %s", st.ChassisUUID, old)
	}
	if got := h.sbctl("--bare", "--columns=type,ip", "list", "Encap"); strings.Join(strings.Fields(got), " ") != "geneve 192.168.77.1" {
		t.Errorf("encaps after takeover: %q", got)
	}

	// Change the encap IP and types, with no restart.
	h.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-encap-ip=192.168.77.9", "external_ids:ovn-encap-type=vxlan,geneve")
	eventually(t, m, "new encap config read", func(s *State) bool {
		return s.Config.EncapIP == "192.168.77.9" && len(s.Config.EncapTypes) == 2
	})
	if got := h.sbGet("Encap", "ip=192.168.77.9", "type"); !strings.Contains(got, "geneve") || !strings.Contains(got, "vxlan") {
		t.Errorf("encaps after reconfigure: %q", got)
	}
	if n := len(strings.Fields(h.sbctl("--bare", "--columns=_uuid", "list", "Encap"))); n != 2 {
		t.Errorf("%d Encap rows, want 2 (the old one collected)", n)
	}

	// Checksums off: the same Encap rows get the new option.
	encaps := h.sbctl("--bare", "--columns=_uuid", "list", "Encap")
	h.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-encap-csum=false")
	eventually(t, m, "csum off read", func(s *State) bool { return !s.Config.EncapCsum })
	if got := h.sbctl("--bare", "--columns=_uuid", "list", "Encap"); got != encaps {
		t.Errorf("encap rows replaced for an option change: %q, were %q", got, encaps)
	}
	if got := h.sbGet("Encap", "type=geneve", "options"); got != "csum=false" {
		t.Errorf("geneve encap options %q", got)
	}

	// Bridge mappings move the localnet patch ports.
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1")
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=ln1", "tunnel_key=2", "type=localnet",
		"options:network_name=physnet1")
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	eventually(t, m, "patch to br-phy", func(s *State) bool { return s.Localnet["ln1"].Bridge == "br-phy" })
	h.vsctl("set", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings=physnet1:br-phy2")
	eventually(t, m, "patch to br-phy2", func(s *State) bool { return s.Localnet["ln1"].Bridge == "br-phy2" })
	if got := portsOn(h, "br-phy"); strings.Contains(got, "patch") {
		t.Errorf("br-phy kept its patch port: %s", got)
	}
	if got := portsOn(h, "br-phy2"); got != "patch-ln1-to-br-int" {
		t.Errorf("br-phy2 ports: %q", got)
	}

	// A new system-id: the old rows go, the new ones take the claims.
	h.vsctl("set", "Open_vSwitch", ".", "external_ids:system-id=hv1b")
	st = eventually(t, m, "renamed chassis", func(s *State) bool { return s.Chassis == "hv1b" })
	if got := h.sbctl("--bare", "--columns=name", "list", "Chassis"); strings.TrimSpace(got) != "hv1b" {
		t.Errorf("chassis after rename: %q", got)
	}
	if got := h.sbctl("--bare", "--columns=name", "list", "Chassis_Private"); strings.TrimSpace(got) != "hv1b" {
		t.Errorf("chassis_private after rename: %q", got)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != st.ChassisUUID {
		t.Errorf("lp1 on %q after rename, want %q", got, st.ChassisUUID)
	}
	if got := strings.TrimSpace(h.vsctl("get", "Open_vSwitch", ".", "other_config")); got != `{ovn-chassis-idx-hv1b="", vlan-limit="0"}` {
		t.Errorf("other_config after rename: %s", got)
	}

	// Cleanup removes the chassis and its tunnels, as ovn-controller's
	// exit does, and nothing else.
	h.sbctl("chassis-add", "hv2", "geneve", "192.168.77.2")
	eventually(t, m, "tunnel to hv2", func(s *State) bool { _, ok := s.Tunnels["hv2"]; return ok })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.sbctl("--bare", "--columns=name", "list", "Chassis"); strings.TrimSpace(got) != "hv2" {
		t.Errorf("chassis after cleanup: %q", got)
	}
	if got := h.sbGet("Encap", "chassis_name=hv1b", "_uuid"); got != "" {
		t.Errorf("encaps left after cleanup: %q", got)
	}
	if got := h.sbctl("--bare", "--columns=name", "list", "Chassis_Private"); strings.TrimSpace(got) != "" {
		t.Errorf("chassis_private after cleanup: %q", got)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != "" {
		t.Errorf("lp1 still bound: %q", got)
	}
	if got := portsOn(h, "br-int"); got != "patch-br-int-to-ln1\nvif1" {
		t.Errorf("br-int ports after cleanup: %q", got)
	}
	if got := portsOn(h, "br-phy2"); got != "patch-ln1-to-br-int" {
		t.Errorf("br-phy2 ports after cleanup: %q", got)
	}
}

// A host that ran under another system-id left its chassis behind, with
// the encap this one wants: a clear error until the old one is removed.
func TestEncapInUse(t *testing.T) {
	h := startHost(t)
	h.sbctl("chassis-add", "old-name", "geneve", "192.168.77.1")
	h.configure("hv1", "geneve", "192.168.77.1")
	m := h.manager()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := m.Reconcile(ctx)
	if !errors.Is(err, ErrEncapInUse) || !strings.Contains(err.Error(), `"old-name"`) {
		t.Fatalf("err %v, want ErrEncapInUse naming old-name", err)
	}
	h.sbctl("chassis-del", "old-name")
	for i := 0; ; i++ { // until the monitor has seen the deletion
		if _, err = m.Reconcile(ctx); err == nil {
			break
		}
		if !errors.Is(err, ErrEncapInUse) || i == 200 {
			t.Fatalf("after removing old-name: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := h.sbGet("Encap", "ip=192.168.77.1", "chassis_name"); got != "hv1" {
		t.Errorf("encap owner %q, want hv1", got)
	}
}

package chassis

import (
	"context"
	"strings"
	"testing"
	"time"
)

// portsOn lists the ports of a bridge.
func portsOn(h *host, br string) string {
	return strings.TrimSpace(h.vsctl("list-ports", br))
}

func TestReconcileRegistersAndBinds(t *testing.T) { testRegistersAndBinds(t, startHost(t)) }

// The same against ovnd's own database role as the SB.
func TestReconcileRegistersAndBindsOVNDSB(t *testing.T) { testRegistersAndBinds(t, startHostOVNDSB(t)) }

func testRegistersAndBinds(t *testing.T, h *host) {
	h.configure("hv1", "geneve,vxlan", "192.168.77.1", "ovn-bridge-mappings=physnet1:br-phy")
	h.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev")
	var txns int
	m := h.countingManager(&txns)
	st := reconcile(t, m)
	if st.DatapathType != DatapathNetdev {
		t.Errorf("datapath type %q, want netdev (no kernel datapath)", st.DatapathType)
	}
	if got := strings.TrimSpace(h.vsctl("get", "Bridge", "br-int", "fail_mode")); got != "secure" {
		t.Errorf("br-int fail_mode %s", got)
	}
	if got := h.sbGet("Encap", "chassis_name=hv1", "type"); !strings.Contains(got, "geneve") || !strings.Contains(got, "vxlan") {
		t.Errorf("encaps: %q", got)
	}
	if got := h.sbGet("Chassis_Private", "name=hv1", "chassis"); got != st.ChassisUUID {
		t.Errorf("Chassis_Private.chassis %q, want %q", got, st.ChassisUUID)
	}

	// A second chassis appears: a tunnel to it.
	h.sbctl("chassis-add", "hv2", "geneve", "192.168.77.2")
	h.sbctl("chassis-add", "hv3", "vxlan", "192.168.77.3")
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5", "external_ids:name=ls1"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1", "up=false")
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=ln1", "tunnel_key=2", "type=localnet",
		"options:network_name=physnet1")
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	st = eventually(t, m, "lp1 bound, tunnels and patch with ofports", func(s *State) bool {
		return s.LocalPorts["lp1"].OFPort > 0 && s.Tunnels["hv2"].OFPort > 0 && s.Tunnels["hv3"].OFPort > 0 &&
			s.Localnet["ln1"].OFPort > 0
	})
	if tu := st.Tunnels["hv2"]; tu.Port != "ovn-hv2-0" || tu.Type != "geneve" || tu.RemoteIP != "192.168.77.2" {
		t.Errorf("tunnel to hv2: %+v", tu)
	}
	if tu := st.Tunnels["hv3"]; tu.Type != "vxlan" {
		t.Errorf("tunnel to hv3 (vxlan only): %+v", tu)
	}
	if got := h.vsctl("--bare", "--columns=external_ids", "list", "Port", "ovn-hv2-0"); !strings.Contains(got, "ovn-chassis-id=hv2@192.168.77.2") {
		t.Errorf("tunnel port external_ids: %q", got)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != st.ChassisUUID {
		t.Errorf("lp1 chassis %q, want %q", got, st.ChassisUUID)
	}
	lp := st.LocalPorts["lp1"]
	if lp.DatapathKey != 5 || lp.PortKey != 1 || lp.Zone == 0 || lp.Installed {
		t.Errorf("lp1: %+v", lp)
	}
	if ln := st.Localnet["ln1"]; ln.Network != "physnet1" || ln.Bridge != "br-phy" || ln.Zone == 0 {
		t.Errorf("ln1: %+v", ln)
	}
	if !strings.Contains(portsOn(h, "br-phy"), "patch-ln1-to-br-int") {
		t.Errorf("br-phy ports: %s", portsOn(h, "br-phy"))
	}
	if d := st.LocalDatapaths[dp]; d.Key != 5 || d.DNATZone == 0 || d.SNATZone == 0 || d.DNATZone == d.SNATZone {
		t.Errorf("local datapath: %+v", d)
	}

	// Steady state: reconciling again writes nothing.
	txns = 0
	for range 3 {
		reconcile(t, m)
	}
	if txns != 0 {
		t.Errorf("no-op reconciles issued %d transactions", txns)
	}

	// Flows installed: ovn-installed and up.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.MarkInstalled(ctx, []string{"lp1", "nosuchport"}); err != nil {
		t.Fatal(err)
	}
	if got := h.vsctl("get", "Interface", "vif1", "external_ids:ovn-installed"); strings.TrimSpace(got) != `"true"` {
		t.Errorf("ovn-installed %q", got)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "up"); got != "true" {
		t.Errorf("up %q", got)
	}
	if !reconcile(t, m).LocalPorts["lp1"].Installed {
		t.Error("lp1 not Installed after MarkInstalled")
	}
	txns = 0
	if err := m.MarkInstalled(ctx, []string{"lp1"}); err != nil {
		t.Fatal(err)
	}
	reconcile(t, m)
	if txns != 0 {
		t.Errorf("marking an installed port again issued %d transactions", txns)
	}

	// A localport with an interface is local, not claimed; marking it
	// installed writes nothing but is remembered.
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lpl", "tunnel_key=7", "type=localport")
	h.vsctl("add-port", "br-int", "vif7", "--", "set", "Interface", "vif7", "type=internal", "external_ids:iface-id=lpl")
	st = eventually(t, m, "localport local", func(s *State) bool { return s.LocalPorts["lpl"].OFPort > 0 })
	if lp := st.LocalPorts["lpl"]; lp.Type != "localport" || lp.Installed || lp.Zone == 0 {
		t.Errorf("lpl: %+v", lp)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lpl", "chassis"); got != "" {
		t.Errorf("localport claimed: %q", got)
	}
	txns = 0
	if err := m.MarkInstalled(ctx, []string{"lpl"}); err != nil {
		t.Fatal(err)
	}
	if !reconcile(t, m).LocalPorts["lpl"].Installed || txns != 0 {
		t.Errorf("localport after MarkInstalled: installed %v, %d transactions", m.state.LocalPorts["lpl"].Installed, txns)
	}
	if got := h.vsctl("--bare", "--columns=external_ids", "list", "Interface", "vif7"); strings.Contains(got, "ovn-installed") {
		t.Errorf("localport interface got ovn-installed: %q", got)
	}

	// nb_cfg.
	if err := m.ReportNbCfg(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if got := h.sbGet("Chassis_Private", "name=hv1", "nb_cfg"); got != "7" {
		t.Errorf("nb_cfg %q", got)
	}
	if ts := h.sbGet("Chassis_Private", "name=hv1", "nb_cfg_timestamp"); ts == "0" || ts == "" {
		t.Errorf("nb_cfg_timestamp %q", ts)
	}
	if got := strings.TrimSpace(h.vsctl("get", "Bridge", "br-int", "external_ids:ovn-nb-cfg")); got != `"7"` {
		t.Errorf("br-int ovn-nb-cfg %s", got)
	}
	txns = 0
	if err := m.ReportNbCfg(ctx, 7); err != nil || txns != 0 {
		t.Errorf("reporting nb_cfg 7 again: %v, %d transactions", err, txns)
	}

	// The other chassis goes: its tunnel goes.
	h.sbctl("chassis-del", "hv2")
	st = eventually(t, m, "tunnel to hv2 removed", func(s *State) bool { _, ok := s.Tunnels["hv2"]; return !ok })
	if strings.Contains(portsOn(h, "br-int"), "ovn-hv2") {
		t.Errorf("br-int still has the hv2 tunnel: %s", portsOn(h, "br-int"))
	}

	// The interface goes: the port is released, its zone freed, and the
	// datapath is no longer local, so the patch ports go.
	h.vsctl("del-port", "br-int", "vif1")
	st = eventually(t, m, "lp1 released", func(s *State) bool { _, ok := s.LocalPorts["lp1"]; return !ok })
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != "" {
		t.Errorf("lp1 still on chassis %q", got)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "up"); got != "false" {
		t.Errorf("released lp1 up %q", got)
	}
	if _, ok := st.Zones["lp1"]; ok || len(st.LocalDatapaths) != 0 || len(st.Localnet) != 0 {
		t.Errorf("after release: zones %v, datapaths %v, localnet %v", st.Zones, st.LocalDatapaths, st.Localnet)
	}
	if strings.Contains(portsOn(h, "br-phy"), "patch") {
		t.Errorf("br-phy still has patch ports: %s", portsOn(h, "br-phy"))
	}
}

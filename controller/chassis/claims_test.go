package chassis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// claimGate holds back, or fails, the transactions match picks (the
// SB's claims, the OVS's conntrack zone writes) while it is shut.
type claimGate struct {
	client.Client
	match func(ovsdb.Operation) bool
	mu    sync.Mutex
	shut  chan struct{} // closed to open the gate; nil when open
	fail  error         // returned instead of sending, when set
}

// writesChassis picks the Port_Binding writes of claims and releases.
func writesChassis(op ovsdb.Operation) bool {
	_, ok := op.Row["chassis"]
	return op.Table == sbdb.PortBindingTable && op.Op == ovsdb.OperationUpdate && ok
}

// writesBridgeKeys picks the mutations of a bridge's external_ids.
func writesBridgeKeys(op ovsdb.Operation) bool {
	return op.Table == vswitch.BridgeTable && op.Op == ovsdb.OperationMutate
}

func (g *claimGate) Transact(ctx context.Context, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	claim := false
	for _, op := range ops {
		claim = claim || g.match(op)
	}
	g.mu.Lock()
	shut, fail := g.shut, g.fail
	if claim {
		g.fail = nil // one failure
	}
	g.mu.Unlock()
	if claim && shut != nil {
		select {
		case <-shut:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if claim && fail != nil {
		return nil, fail
	}
	return g.Client.Transact(ctx, ops...)
}

// A claim is sent without waiting for the SB's answer, and the new
// port's conntrack zone without waiting for the OVS's: ReconcileStart
// returns the port bound here (with its OpenFlow port and zone, all the
// flows need) while both still have their writes to commit. Nothing is
// reported for the port before they are in: MarkInstalled waits for
// them. A claim the SB refuses is reported by Settle (and
// MarkInstalled), and the next Reconcile claims again.
func TestClaimDoesNotHoldBackTheState(t *testing.T) {
	h := startHost(t)
	h.configure("hv1", "geneve", "192.168.77.1")
	zoneGate := &claimGate{Client: h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions()), match: writesBridgeKeys}
	gate := &claimGate{Client: h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor()), match: writesChassis}
	m := New(zoneGate, gate, Options{KernelDatapath: func() (bool, error) { return false, nil }})
	reconcile(t, m)
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5", "external_ids:name=ls1"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1", "up=false")
	eventually(t, m, "lp1 in the cache", func(*State) bool { return m.sb.Cache().Table(sbdb.PortBindingTable).Len() == 1 })

	for _, g := range []*claimGate{gate, zoneGate} {
		g.mu.Lock()
		g.shut = make(chan struct{})
		g.mu.Unlock()
	}
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var st *State
	for deadline := time.Now().Add(20 * time.Second); st == nil || st.LocalPorts["lp1"].OFPort <= 0; {
		var err error
		if st, err = m.ReconcileStart(ctx); err != nil {
			t.Fatalf("reconcile with the claim held back: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("lp1 never bound while its claim was held back: %+v", st.LocalPorts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lp := st.LocalPorts["lp1"]; lp.Zone == 0 || lp.DatapathKey != 5 || lp.PortKey != 1 {
		t.Errorf("lp1 while its claim is held back: %+v", lp)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != "" {
		t.Fatalf("the claim is in the SB already (%q): the gate did not hold it", got)
	}
	zoneKey := "external_ids:" + ZoneKeyPrefix + "lp1"
	if got := h.vsctl("--if-exists", "get", "Bridge", "br-int", zoneKey); strings.TrimSpace(got) != "" {
		t.Fatalf("lp1's zone is on br-int already (%q): the gate did not hold it", got)
	}
	marked := make(chan error, 1)
	go func() { marked <- m.MarkInstalled(ctx, []string{"lp1"}) }()
	select {
	case err := <-marked:
		t.Fatalf("MarkInstalled returned (%v) before the claim was answered", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(gate.shut)
	select {
	case err := <-marked:
		t.Fatalf("MarkInstalled returned (%v) before the zone write was answered", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(zoneGate.shut)
	if err := <-marked; err != nil {
		t.Fatalf("mark installed: %v", err)
	}
	if got := strings.Trim(strings.TrimSpace(h.vsctl("get", "Bridge", "br-int", zoneKey)), `"`); got != fmt.Sprint(st.LocalPorts["lp1"].Zone) {
		t.Errorf("lp1's zone on br-int %q, want the State's %d", got, st.LocalPorts["lp1"].Zone)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "chassis"); got != st.ChassisUUID {
		t.Errorf("lp1 chassis %q after the claim, want %q", got, st.ChassisUUID)
	}
	if got := h.sbGet("Port_Binding", "logical_port=lp1", "up"); got != "true" {
		t.Errorf("lp1 up %q, want true", got)
	}

	// A refused claim: Settle says so, the next Reconcile claims again.
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp2", "tunnel_key=2", "up=false")
	refused := errors.New("refused by the test")
	gate.mu.Lock()
	gate.shut, gate.fail = nil, refused
	gate.mu.Unlock()
	h.vsctl("add-port", "br-int", "vif2", "--", "set", "Interface", "vif2", "type=internal", "external_ids:iface-id=lp2")
	var err error
	for deadline := time.Now().Add(20 * time.Second); ; {
		if st, err = m.ReconcileStart(ctx); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		if st.LocalPorts["lp2"].OFPort > 0 {
			break
		}
		if err := m.Settle(); err != nil {
			t.Fatalf("settle before lp2 was claimed: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("lp2 never bound: %+v", st.LocalPorts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := m.Settle(); !errors.Is(err, refused) {
		t.Fatalf("settle after a refused claim: %v, want %v", err, refused)
	}
	eventually(t, m, "lp2 claimed again", func(s *State) bool {
		return h.sbGet("Port_Binding", "logical_port=lp2", "chassis") == s.ChassisUUID
	})
}

// writesIfaceKeys picks the mutations of an interface's external_ids.
func writesIfaceKeys(op ovsdb.Operation) bool {
	return op.Table == vswitch.InterfaceTable && op.Op == ovsdb.OperationMutate
}

// MarkInstalled writes ovn-installed to the local OVS and up to the SB
// at the same time: up is in the SB while the OVS still has the mark to
// commit, and MarkInstalled returns once both are in.
func TestMarkInstalledWritesBothAtOnce(t *testing.T) {
	h := startHost(t)
	h.configure("hv1", "geneve", "192.168.77.1")
	gate := &claimGate{Client: h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions()), match: writesIfaceKeys}
	sb := h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor())
	m := New(gate, sb, Options{KernelDatapath: func() (bool, error) { return false, nil }})
	reconcile(t, m)
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5", "external_ids:name=ls1"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1", "up=false")
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	eventually(t, m, "lp1 bound", func(s *State) bool { return s.LocalPorts["lp1"].OFPort > 0 })
	gate.mu.Lock()
	gate.shut = make(chan struct{})
	gate.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	marked := make(chan error, 1)
	go func() { marked <- m.MarkInstalled(ctx, []string{"lp1"}) }()
	deadline := time.Now().Add(10 * time.Second)
	for h.sbGet("Port_Binding", "logical_port=lp1", "up") != "true" {
		if time.Now().After(deadline) {
			t.Fatal("up not written while the OVS's ovn-installed was held back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-marked:
		t.Fatalf("MarkInstalled returned (%v) before ovn-installed was in the OVS", err)
	default:
	}
	close(gate.shut)
	if err := <-marked; err != nil {
		t.Fatalf("mark installed: %v", err)
	}
	if got := h.vsctl("get", "Interface", "vif1", "external_ids"); !strings.Contains(got, `ovn-installed="true"`) {
		t.Errorf("vif1 external_ids %s, want ovn-installed", got)
	}
}

package chassis

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// recorder collects the rows a client's cache reports changed, by table
// and UUID, as the controller loop's change log does.
type recorder struct {
	mu   sync.Mutex
	rows map[string]map[string]struct{}
}

func record(c client.Client) *recorder {
	r := &recorder{rows: map[string]map[string]struct{}{}}
	note := func(table string, m model.Model) {
		id := reflect.ValueOf(m).Elem().FieldByName("UUID").String()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.rows[table] == nil {
			r.rows[table] = map[string]struct{}{}
		}
		r.rows[table][id] = struct{}{}
	}
	c.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    note,
		UpdateFunc: func(table string, _, m model.Model) { note(table, m) },
		DeleteFunc: note,
	})
	return r
}

// take returns the rows recorded since the last take, once the cache has
// been quiet for a moment (the updates of one command come together).
func (r *recorder) take() map[string]map[string]struct{} {
	n := -1
	for range 50 {
		time.Sleep(60 * time.Millisecond)
		r.mu.Lock()
		now := 0
		for _, ids := range r.rows {
			now += len(ids)
		}
		r.mu.Unlock()
		if now == n {
			break
		}
		n = now
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.rows
	r.rows = map[string]map[string]struct{}{}
	return out
}

// TestAffected runs a chassis through changes that matter to Reconcile
// and changes that do not (nb_cfg moving, other chassis' ports and
// nb_cfg, the Manager's own writes coming back) and checks that
// Affected tells them apart: after each change, when Affected says no,
// Reconcile writes nothing and returns the same State.
func TestAffected(t *testing.T) {
	h := startHost(t)
	h.configure("hv1", "geneve", "192.168.77.1", "ovn-bridge-mappings=physnet1:br-phy")
	h.vsctl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev")
	var txns int
	ovs := h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions())
	sb := h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor())
	ovsRec, sbRec := record(ovs), record(sb)
	m := New(countingClient{ovs, &txns}, countingClient{sb, &txns}, Options{KernelDatapath: func() (bool, error) { return false, nil }})
	if !m.Affected(nil, map[string]map[string]struct{}{sbdb.SBGlobalTable: {"x": {}}}) {
		t.Error("before any Reconcile, a change is not reported as mattering")
	}
	h.sbctl("chassis-add", "hv2", "geneve", "192.168.77.2")
	hv2 := h.sbGet("Chassis", "name=hv2", "_uuid")
	h.sbctl("create", "Chassis_Private", "name=hv2", "chassis="+hv2)
	dp := strings.TrimSpace(h.sbctl("create", "Datapath_Binding", "tunnel_key=5", "external_ids:name=ls1"))
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp1", "tunnel_key=1", "up=false")
	h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=far", "tunnel_key=2", "up=false", "chassis="+hv2)
	reconcile(t, m) // creates br-int
	h.vsctl("add-port", "br-int", "vif1", "--", "set", "Interface", "vif1", "type=internal", "external_ids:iface-id=lp1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Settle: Reconcile until a round writes nothing and its own writes
	// have come back.
	var prev *State
	for range 20 {
		txns = 0
		prev = reconcile(t, m)
		ovsRec.take()
		sbRec.take()
		if txns == 0 && prev.LocalPorts["lp1"].OFPort > 0 {
			break
		}
	}
	if prev.LocalPorts["lp1"].OFPort == 0 || h.sbGet("Port_Binding", "logical_port=lp1", "chassis") != prev.ChassisUUID {
		t.Fatalf("lp1 not bound: %+v", prev.LocalPorts)
	}
	steps := []struct {
		what   string
		change func()
		want   bool
	}{
		{"SB_Global nb_cfg moves", func() { h.sbctl("set", "SB_Global", ".", "nb_cfg=5") }, false},
		{"another chassis reports nb_cfg", func() { h.sbctl("set", "Chassis_Private", "hv2", "nb_cfg=5") }, false},
		{"another chassis' port goes up", func() { h.sbctl("set", "Port_Binding", "far", "up=true") }, false},
		{"a port of another chassis is added", func() {
			h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=far2", "tunnel_key=3", "chassis="+hv2)
		}, false},
		{"it is deleted", func() { h.sbctl("destroy", "Port_Binding", h.sbGet("Port_Binding", "logical_port=far2", "_uuid")) }, false},
		{"the flows of lp1 are installed", func() {
			if err := m.MarkInstalled(ctx, []string{"lp1"}); err != nil {
				t.Fatal(err)
			}
			// As the loop does with the State it holds.
			lp := prev.LocalPorts["lp1"]
			lp.Installed = true
			prev.LocalPorts["lp1"] = lp
		}, false},
		{"nb_cfg is reported", func() {
			if err := m.ReportNbCfg(ctx, 5); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"another chassis claims lp1", func() { h.sbctl("set", "Port_Binding", "lp1", "chassis="+hv2) }, true},
		{"a port gets an interface here", func() {
			h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=lp3", "tunnel_key=4", "up=false")
			h.vsctl("add-port", "br-int", "vif3", "--", "set", "Interface", "vif3", "type=internal", "external_ids:iface-id=lp3")
		}, true},
		{"a localnet port on a local datapath", func() {
			h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=ln1", "tunnel_key=5", "type=localnet",
				"options:network_name=physnet1")
		}, true},
		{"the interface of lp3 leaves", func() { h.vsctl("del-port", "br-int", "vif3") }, true},
		{"a port requested by another chassis is added", func() {
			h.sbctl("create", "Port_Binding", "datapath="+dp, "logical_port=req", "tunnel_key=6", "chassis="+hv2,
				"options:requested-chassis=hv2")
		}, false},
		{"it gets an interface here", func() {
			h.vsctl("add-port", "br-int", "vif6", "--", "set", "Interface", "vif6", "type=internal", "external_ids:iface-id=req")
		}, true},
		{"it goes up", func() { h.sbctl("set", "Port_Binding", "req", "up=true") }, true},
		{"a chassis comes", func() { h.sbctl("chassis-add", "hv3", "vxlan", "192.168.77.3") }, true},
		// ovs-vswitchd cannot configure a geneve interface without a
		// remote_ip: it never gets an OpenFlow port.
		{"a port is plugged whose interface has no OpenFlow port (yet)", func() {
			h.vsctl("add-port", "br-int", "vif7", "--", "set", "Interface", "vif7", "type=geneve", "external_ids:iface-id=lp7")
		}, false},
		{"it gets one", func() { h.vsctl("set", "Interface", "vif7", "type=internal") }, true},
	}
	for _, s := range steps {
		s.change()
		o, sbc := ovsRec.take(), sbRec.take()
		if len(o)+len(sbc) == 0 {
			t.Fatalf("%s: no change recorded", s.what)
		}
		got := m.Affected(o, sbc)
		if got != s.want {
			t.Errorf("%s: Affected %v, want %v (changed: ovs %v, sb %v)", s.what, got, s.want, keys(o), keys(sbc))
		}
		// Whatever Affected says, Reconcile until settled; a "no" must
		// mean that the first Reconcile changes nothing.
		for i := range 20 {
			txns = 0
			st := reconcile(t, m)
			if i == 0 && !got && (txns > 0 || !reflect.DeepEqual(st, prev)) {
				t.Errorf("%s: Affected said no, but Reconcile wrote %d transactions and returned\n%+v\nafter\n%+v", s.what, txns, st, prev)
			}
			prev = st
			echo := m.Affected(ovsRec.take(), sbRec.take())
			checkIndex(t, s.what, &m.pbx, sb)
			if txns == 0 && !echo {
				// Settled: the bindings followed, kept up to date
				// from one Reconcile to the next, are those a first
				// Reconcile would follow.
				if got, want := m.seen.pbs, followedAnew(t, m, sb); !maps.Equal(got, want) {
					t.Errorf("%s: bindings followed %v, anew %v", s.what, keysOf(got), keysOf(want))
				}
				break
			}
		}
	}
}

// followedAnew is what a first Reconcile would follow of the bindings
// in c's cache, with m's last chassis and interfaces.
func followedAnew(t *testing.T, m *Manager, c client.Client) map[string]string {
	t.Helper()
	x := &pbIndex{}
	if err := x.update(c); err != nil {
		t.Fatal(err)
	}
	s := &seen{chUUID: m.seen.chUUID, ifaceIDs: m.seen.ifaceIDs, pbs: map[string]string{}}
	sbv := &sbView{pbs: x.byName}
	for _, pb := range x.byName {
		s.rememberPB(pb.UUID, pb, sbv, nil)
	}
	return s.pbs
}

// checkIndex brings the Port_Binding index kept between Reconciles up
// to date with the (quiet) cache and compares it with one built anew.
func checkIndex(t *testing.T, what string, x *pbIndex, c client.Client) {
	t.Helper()
	if err := x.update(c); err != nil {
		t.Fatal(err)
	}
	fresh := &pbIndex{}
	if err := fresh.update(c); err != nil {
		t.Fatal(err)
	}
	if len(fresh.rows) != len(x.rows) || !maps.Equal(fresh.byName, x.byName) {
		t.Errorf("%s: kept index has %d rows, names %v; anew %d rows, names %v", what, len(x.rows), keysOf(x.byName), len(fresh.rows), keysOf(fresh.byName))
	}
	for dp, l := range fresh.byDP {
		if !sameRows(l, x.byDP[dp]) {
			t.Errorf("%s: datapath %s: kept index has %d ports, anew %d", what, dp, len(x.byDP[dp]), len(l))
		}
	}
	if len(fresh.byDP) != len(x.byDP) {
		t.Errorf("%s: kept index has %d datapaths, anew %d", what, len(x.byDP), len(fresh.byDP))
	}
}

func sameRows(a, b []*sbdb.PortBinding) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(p *sbdb.PortBinding) bool { return !slices.Contains(b, p) })
}

func keysOf[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func keys(m map[string]map[string]struct{}) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

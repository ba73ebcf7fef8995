package controller

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// lflowTemplates are switch-pipeline lflows over ports, port groups,
// address sets and multicast groups; %d is the switch number.
var lflowTemplates = []struct{ match, actions string }{
	{`inport == "sw%d-p1"`, `next;`},
	{`inport == @pg1 && ip4`, `reg0[0] = 1; next;`},
	{`outport == @pg1 && ip4.src == $as1`, `ct_commit; next;`},
	{`ip4.dst == $as2 && tcp.dst == {80, 443}`, `ct_next;`},
	{`outport == "sw%d-p2"`, `output;`},
	{`eth.dst == 00:00:00:00:00:0%d`, `outport = "sw%d-p3"; output;`},
	{`is_chassis_resident("sw%d-p4")`, `next;`},
	{`eth.mcast`, `outport = "_MC_flood"; output;`},
	{`inport == "sw4-p1"`, `outport = "sw%d-p1"; output;`},
}

func (w *world) addFlow(r *rand.Rand, id int) {
	t := lflowTemplates[r.IntN(len(lflowTemplates))]
	d := 1 + r.IntN(4)
	sub := func(s string) string {
		if n := strings.Count(s, "%d"); n > 0 {
			args := make([]any, n)
			for i := range args {
				args[i] = d
			}
			return fmt.Sprintf(s, args...)
		}
		return s
	}
	lf := &sbdb.LogicalFlow{Pipeline: "ingress", TableID: r.IntN(5), Priority: 10 * r.IntN(10),
		Match: sub(t.match), Actions: sub(t.actions)}
	if r.IntN(4) == 0 {
		grp := "grp"
		lf.LogicalDpGroup = &grp
	} else {
		dp := fmt.Sprintf("dp%d", d)
		lf.LogicalDatapath = &dp
	}
	if r.IntN(5) == 0 {
		lf.Tags = map[string]string{"in_out_port": fmt.Sprintf("sw%d-p%d", d, 1+r.IntN(4))}
	}
	w.flow(fmt.Sprintf("%08x-0000-0000-0000-000000000000", id), lf)
}

// randomRow returns the UUID of a random row of table, or "".
func (w *world) randomRow(r *rand.Rand, table string) string {
	ids := make([]string, 0, len(w.sb.tables[table]))
	for id := range w.sb.tables[table] {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return ""
	}
	slices.Sort(ids)
	return ids[r.IntN(len(ids))]
}

// toggle adds s to set or removes it, in a new slice.
func toggle(set []string, s string) []string {
	if i := slices.Index(set, s); i >= 0 {
		return slices.Delete(slices.Clone(set), i, i+1)
	}
	return append(slices.Clone(set), s)
}

// mutate makes one random change to the SB or the chassis state.
func (w *world) mutate(r *rand.Rand, next *int) string {
	d := 1 + r.IntN(4)
	port := fmt.Sprintf("sw%d-p%d", d, 1+r.IntN(4))
	switch r.IntN(19) {
	case 13, 14, 15, 16, 17, 18:
		return w.mutatePhys(r, next, d, port)
	case 0:
		*next++
		w.addFlow(r, *next)
		return "add lflow"
	case 1:
		if id := w.randomRow(r, sbdb.LogicalFlowTable); id != "" {
			w.sb.del(sbdb.LogicalFlowTable, id)
		}
		return "delete lflow"
	case 2:
		if id := w.randomRow(r, sbdb.LogicalFlowTable); id != "" {
			lf := *w.sb.tables[sbdb.LogicalFlowTable][id].(*sbdb.LogicalFlow)
			lf.Priority++
			if r.IntN(3) == 0 {
				dp := fmt.Sprintf("dp%d", d)
				lf.LogicalDatapath, lf.LogicalDpGroup = &dp, nil
			}
			w.sb.put(sbdb.LogicalFlowTable, &lf)
		}
		return "change lflow"
	case 3:
		name := fmt.Sprintf("as%d", 1+r.IntN(2))
		as := &sbdb.AddressSet{UUID: "as-" + name, Name: name}
		if m, ok := w.sb.Get(sbdb.AddressSetTable, as.UUID); ok {
			as.Addresses = m.(*sbdb.AddressSet).Addresses
			if r.IntN(8) == 0 {
				w.sb.del(sbdb.AddressSetTable, as.UUID)
				return "delete address set " + name
			}
		}
		as.Addresses = toggle(as.Addresses, fmt.Sprintf("10.0.0.%d", r.IntN(6)))
		w.sb.put(sbdb.AddressSetTable, as)
		return "address set " + name
	case 4:
		name := fmt.Sprintf("%d_pg1", d)
		pg := &sbdb.PortGroup{UUID: "pg-" + name, Name: name}
		if m, ok := w.sb.Get(sbdb.PortGroupTable, pg.UUID); ok {
			pg.Ports = m.(*sbdb.PortGroup).Ports
		}
		pg.Ports = toggle(pg.Ports, port)
		w.sb.put(sbdb.PortGroupTable, pg)
		return "port group " + name + " member " + port
	case 5:
		// Move a port between this chassis, another and none.
		pb := w.port(port)
		if pb == nil {
			return "no port " + port
		}
		switch r.IntN(3) {
		case 0:
			pb.Chassis = nil
		case 1:
			c := "ch-hv1"
			pb.Chassis = &c
		default:
			c := "ch-hv2"
			pb.Chassis = &c
		}
		w.sb.put(sbdb.PortBindingTable, pb)
		return "bind " + port
	case 6:
		id := fmt.Sprintf("dp%d", d)
		if _, ok := w.st.LocalDatapaths[id]; ok {
			delete(w.st.LocalDatapaths, id)
		} else {
			w.local(id, d)
		}
		return "local datapath " + id
	case 7:
		// Datapath 4 comes and goes, with its ports or, as a replica
		// lagging behind may show it, without them.
		if _, ok := w.sb.Get(sbdb.DatapathBindingTable, "dp4"); ok {
			w.sb.del(sbdb.DatapathBindingTable, "dp4")
			if r.IntN(2) == 0 {
				for p := 1; p <= 4; p++ {
					w.sb.del(sbdb.PortBindingTable, fmt.Sprintf("pb-sw4-p%d", p))
				}
				w.sb.del(sbdb.MulticastGroupTable, "mc4")
			}
			return "delete datapath dp4"
		}
		w.addDatapath(4)
		return "add datapath dp4"
	case 8:
		// A datapath group gains or loses dp4.
		g := *w.sb.tables[sbdb.LogicalDPGroupTable]["grp"].(*sbdb.LogicalDPGroup)
		g.Datapaths = toggle(g.Datapaths, "dp4")
		w.sb.put(sbdb.LogicalDPGroupTable, &g)
		return "group toggles dp4"
	case 9:
		id := fmt.Sprintf("mc%d", d)
		m, ok := w.sb.Get(sbdb.MulticastGroupTable, id)
		if !ok {
			return "no multicast group " + id
		}
		mc := *m.(*sbdb.MulticastGroup)
		switch r.IntN(3) {
		case 0:
			mc.Ports = toggle(mc.Ports, "pb-"+port)
		case 1:
			mc.TunnelKey = 32768 + r.IntN(4)
		default:
			w.sb.del(sbdb.MulticastGroupTable, id)
			return "delete multicast group " + id
		}
		w.sb.put(sbdb.MulticastGroupTable, &mc)
		return "multicast group " + id
	case 10:
		// A port changes type (a patch port is always related).
		pb := w.port(port)
		if pb == nil {
			return "no port " + port
		}
		switch r.IntN(3) {
		case 0:
			if pb.Type == "" {
				pb.Type = "localport"
			} else {
				pb.Type = ""
			}
		case 1:
			// A column neither the compiler nor the physical flows
			// read.
			up := pb.Up == nil || !*pb.Up
			pb.Up = &up
		default:
			// One only the physical flows read.
			pb.PortSecurity = toggle(pb.PortSecurity, fmt.Sprintf("00:00:00:00:00:0%d", d))
		}
		w.sb.put(sbdb.PortBindingTable, pb)
		return "port column " + port
	case 11:
		// A port becomes the localnet port of its datapath here, or
		// stops being it.
		if _, ok := w.st.Localnet[port]; ok {
			delete(w.st.Localnet, port)
		} else {
			w.st.Localnet[port] = chassis.LocalnetPort{Name: port, Datapath: fmt.Sprintf("dp%d", d)}
		}
		return "localnet " + port
	default:
		// A datapath's key changes and back.
		id := fmt.Sprintf("dp%d", d)
		m, ok := w.sb.Get(sbdb.DatapathBindingTable, id)
		if !ok {
			return "no datapath " + id
		}
		dp := *m.(*sbdb.DatapathBinding)
		if dp.TunnelKey == d {
			dp.TunnelKey = 10 + d
		} else {
			dp.TunnelKey = d
		}
		w.sb.put(sbdb.DatapathBindingTable, &dp)
		return "datapath key " + id
	}
}

// mutatePhys makes one random change to what the physical flows read:
// bindings added, removed and renamed,
// patch ports to a datapath that is not local, containers, tunnels and
// the chassis they lead to, the chassis state of ports (OpenFlow port,
// zone, gateway zone, localnet patch port and VLAN), MAC bindings and
// FDB entries.
func (w *world) mutatePhys(r *rand.Rand, next *int, d int, port string) string {
	dp := fmt.Sprintf("dp%d", d)
	switch r.IntN(12) {
	case 0:
		*next++
		name := fmt.Sprintf("sw%d-n%d", d, *next)
		pb := &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Datapath: dp, TunnelKey: 10 + *next%100}
		if r.IntN(2) == 0 {
			c := []string{"ch-hv1", "ch-hv2", "ch-hv3"}[r.IntN(3)]
			pb.Chassis = &c
		}
		w.sb.put(sbdb.PortBindingTable, pb)
		if r.IntN(2) == 0 {
			w.st.LocalPorts[name] = chassis.LocalPort{Name: name, OFPort: int32(100 + *next), Zone: 100 + *next}
		}
		if m, ok := w.sb.Get(sbdb.MulticastGroupTable, fmt.Sprintf("mc%d", d)); ok && r.IntN(2) == 0 {
			mc := *m.(*sbdb.MulticastGroup)
			mc.Ports = append(slices.Clone(mc.Ports), pb.UUID)
			w.sb.put(sbdb.MulticastGroupTable, &mc)
		}
		return "add binding " + name
	case 1:
		// Gone, possibly still listed by its group.
		if id := w.randomRow(r, sbdb.PortBindingTable); id != "" {
			w.sb.del(sbdb.PortBindingTable, id)
			return "delete binding " + id
		}
		return "no binding"
	case 2:
		pb := w.port(port)
		if pb == nil {
			return "no port " + port
		}
		// The SB keeps logical_port unique (and addDatapath brings
		// the old names back): a new name.
		*next++
		pb.LogicalPort = fmt.Sprintf("sw%d-m%d", d, *next)
		w.sb.put(sbdb.PortBindingTable, pb)
		return "rename " + port + " to " + pb.LogicalPort
	case 3:
		// A router port on datapath dp9, local or not, patched to
		// port's switch.
		if _, ok := w.sb.Get(sbdb.DatapathBindingTable, "dp9"); !ok {
			w.sb.put(sbdb.DatapathBindingTable, &sbdb.DatapathBinding{UUID: "dp9", TunnelKey: 9,
				ExternalIDs: map[string]string{"logical-router": "r9"}})
		}
		rp := fmt.Sprintf("r9-sw%d", d)
		w.sb.put(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "pb-" + rp, LogicalPort: rp, Datapath: "dp9",
			TunnelKey: d, Type: "patch", Options: map[string]string{"peer": fmt.Sprintf("sw%d-r9", d)}})
		sp := fmt.Sprintf("sw%d-r9", d)
		w.sb.put(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "pb-" + sp, LogicalPort: sp, Datapath: dp,
			TunnelKey: 20 + r.IntN(2), Type: "patch", Options: map[string]string{"peer": rp}})
		if r.IntN(3) == 0 {
			if _, ok := w.st.LocalDatapaths["dp9"]; ok {
				delete(w.st.LocalDatapaths, "dp9")
			} else {
				w.local("dp9", 9)
			}
		}
		return "patch " + sp + " to " + rp
	case 4:
		// A container in port's VLAN 5, or no longer.
		pb := w.port(port)
		if pb == nil {
			return "no port " + port
		}
		if pb.ParentPort == nil {
			parent, tag := fmt.Sprintf("sw%d-p%d", d, 1+r.IntN(4)), 5
			pb.ParentPort, pb.Tag = &parent, &tag
		} else {
			pb.ParentPort, pb.Tag = nil, nil
		}
		w.sb.put(sbdb.PortBindingTable, pb)
		return "container " + port
	case 5:
		c := []string{"hv2", "hv3"}[r.IntN(2)]
		if _, ok := w.st.Tunnels[c]; ok && r.IntN(2) == 0 {
			delete(w.st.Tunnels, c)
			return "no tunnel to " + c
		}
		w.st.Tunnels[c] = chassis.Tunnel{Chassis: c, Type: []string{"geneve", "vxlan"}[r.IntN(2)], OFPort: int32(10 + r.IntN(3))}
		return "tunnel to " + c
	case 6:
		// The Chassis row of hv3 comes, goes or is renamed.
		if m, ok := w.sb.Get(sbdb.ChassisTable, "ch-hv3"); ok {
			if r.IntN(2) == 0 {
				w.sb.del(sbdb.ChassisTable, "ch-hv3")
				return "chassis hv3 gone"
			}
			ch := *m.(*sbdb.Chassis)
			ch.Name = map[string]string{"hv3": "hv2", "hv2": "hv3"}[ch.Name]
			w.sb.put(sbdb.ChassisTable, &ch)
			return "chassis ch-hv3 named " + ch.Name
		}
		w.sb.put(sbdb.ChassisTable, &sbdb.Chassis{UUID: "ch-hv3", Name: "hv3"})
		return "chassis hv3"
	case 7:
		// port's interface here: comes, goes, changes OpenFlow port
		// or zone.
		if _, ok := w.st.LocalPorts[port]; ok && r.IntN(3) == 0 {
			delete(w.st.LocalPorts, port)
			return "no interface for " + port
		}
		w.st.LocalPorts[port] = chassis.LocalPort{Name: port, OFPort: int32(r.IntN(3)), Zone: r.IntN(4)}
		return "interface for " + port
	case 8:
		if w.st.Gateways == nil {
			w.st.Gateways = map[string]chassis.GatewayPort{}
		}
		if _, ok := w.st.Gateways[port]; ok {
			delete(w.st.Gateways, port)
			return "no gateway " + port
		}
		w.st.Gateways[port] = chassis.GatewayPort{Name: port, Zone: 30 + r.IntN(3)}
		return "gateway " + port
	case 9:
		// A localnet port with its patch port and VLAN.
		pb := w.port(port)
		if pb == nil {
			return "no port " + port
		}
		pb.Type = "localnet"
		w.sb.put(sbdb.PortBindingTable, pb)
		w.st.Localnet[port] = chassis.LocalnetPort{Name: port, Datapath: dp, OFPort: int32(r.IntN(2) * 40), Zone: 7, Tag: r.IntN(2) * 3}
		return "localnet with patch port " + port
	case 10:
		id := fmt.Sprintf("mb-%d", r.IntN(3))
		if r.IntN(4) == 0 {
			w.sb.del(sbdb.MACBindingTable, id)
			w.sb.del(sbdb.StaticMACBindingTable, "s"+id)
			return "no mac binding " + id
		}
		w.sb.put(sbdb.MACBindingTable, &sbdb.MACBinding{UUID: id, Datapath: dp, LogicalPort: port,
			IP: fmt.Sprintf("10.0.0.%d", 1+r.IntN(3)), MAC: "00:00:00:00:01:0" + fmt.Sprint(r.IntN(9))})
		w.sb.put(sbdb.StaticMACBindingTable, &sbdb.StaticMACBinding{UUID: "s" + id, Datapath: dp, LogicalPort: port,
			IP: "fd00::1", MAC: []string{"00:00:00:00:02:01", "bad"}[r.IntN(2)], OverrideDynamicMAC: r.IntN(2) == 0})
		return "mac binding " + id + " of " + port
	default:
		id := fmt.Sprintf("fdb-%d", r.IntN(3))
		if r.IntN(4) == 0 {
			w.sb.del(sbdb.FDBTable, id)
			return "no fdb " + id
		}
		w.sb.put(sbdb.FDBTable, &sbdb.FDB{UUID: id, DpKey: d, PortKey: 1 + r.IntN(4), MAC: "00:00:00:00:03:01"})
		return "fdb " + id
	}
}

// TestIncrementalEqualsFull applies random sequences of SB and chassis
// changes (lflows added, modified and deleted, port group and address
// set members, port bindings added, removed, renamed and moved between
// chassis, datapaths added and removed, multicast groups, patch ports,
// containers, tunnels, localnet, MAC bindings, FDB...) and checks after each that the loop
// that applies only the changes has the same desired flows as a loop
// that computes everything from scratch.
func TestIncrementalEqualsFull(t *testing.T) {
	inPlace, steps := 0, 0
	for seed := uint64(1); seed <= 30; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		w := newWorld()
		w.local("dp1", 1)
		next := 0
		for ; next < 16; next++ {
			w.addFlow(r, next)
		}
		inc := testLoop()
		if err := inc.step(w, changeSet{Full: true}); err != nil {
			t.Fatal(err)
		}
		w.sb.take()
		seen := 0
		var log []string
		for step := 0; step < 60; step++ {
			n := 1 + r.IntN(3) // several changes in one round, as a busy SB gives them
			var what []string
			for range n {
				what = append(what, w.mutate(r, &next))
			}
			log = append(log, strings.Join(what, ", "))
			phys := inc.phys
			errInc := inc.step(w, w.sb.take())
			if errInc == nil && inc.phys == phys {
				inPlace++
			}
			steps++
			want, errFull := fullTable(w)
			if fmt.Sprint(errInc) != fmt.Sprint(errFull) {
				t.Fatalf("seed %d step %d: errors differ: incremental %v, full %v", seed, step, errInc, errFull)
			}
			got := table(inc.desired)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d (%s): incremental differs from full recompute\nsteps:\n%s\nincremental:\n%s\nfull:\n%s",
					seed, step, log[len(log)-1], strings.Join(log, "\n"), strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			seen += len(got)
		}
		if seen == 0 {
			t.Errorf("seed %d: no flows at all; the test exercises nothing", seed)
		}
	}
	// Most rounds update the physical flows' Builder in place; the
	// rest (local datapaths, Datapath_Binding changes) build it anew.
	t.Logf("physical flows updated in place in %d rounds of %d", inPlace, steps)
	if inPlace < steps/2 {
		t.Errorf("the physical flows were updated in place in %d rounds of %d", inPlace, steps)
	}
}

// TestLateReference: an lflow that names a port the view does not have
// yet (the lflows and the ports arrive on two connections that are not
// mutually consistent) compiles once the port arrives.
func TestLateReference(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	dp := "dp1"
	w.flow("00000001-0000-0000-0000-000000000000", &sbdb.LogicalFlow{Pipeline: "ingress", Priority: 50,
		Match: `eth.src == 00:00:00:00:00:01`, Actions: `outport = "late"; output;`, LogicalDatapath: &dp})
	l := testLoop()
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	w.sb.take()
	setsLate := func(s string) bool { return strings.Contains(s, "set_field:0x9->reg15") }
	if flows := table(l.desired); slices.ContainsFunc(flows, setsLate) {
		t.Fatalf("flows for a port that does not exist:\n%s", strings.Join(flows, "\n"))
	}
	w.sb.put(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "pb-late", LogicalPort: "late", Datapath: "dp1", TunnelKey: 9})
	if err := l.step(w, w.sb.take()); err != nil {
		t.Fatal(err)
	}
	flows := table(l.desired)
	if !slices.ContainsFunc(flows, setsLate) {
		t.Errorf("the port arrived, still no flow sets it as outport:\n%s", strings.Join(flows, "\n"))
	}
	if want, _ := fullTable(w); !slices.Equal(flows, want) {
		t.Errorf("incremental differs from full:\n%s\nfull:\n%s", strings.Join(flows, "\n"), strings.Join(want, "\n"))
	}
}

// TestMissingDatapath: a Port_Binding whose datapath the replica does not
// have (a row that raced its datapath's deletion) costs only the flows that
// name it; the rest still compile and the physical flows still build.
func TestMissingDatapath(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	w.sb.put(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "pb-orphan", LogicalPort: "orphan", Datapath: "dp-gone", TunnelKey: 9})
	pb := w.port("sw1-p1")
	here := "ch-hv1"
	pb.Chassis = &here
	w.sb.put(sbdb.PortBindingTable, pb)
	dp := "dp1"
	w.flow("00000001-0000-0000-0000-000000000000", &sbdb.LogicalFlow{Pipeline: "ingress", TableID: 0, Priority: 50,
		Match: `inport == "orphan"`, Actions: "next;", LogicalDatapath: &dp})
	w.flow("00000002-0000-0000-0000-000000000000", &sbdb.LogicalFlow{Pipeline: "ingress", TableID: 0, Priority: 50,
		Match: `inport == "sw1-p1"`, Actions: "next;", LogicalDatapath: &dp})
	l := testLoop()
	l.pendSB = changeSet{Full: true}
	l.updateView(w.sb, w.st)
	var lflows []string
	for _, f := range table(l.desired) {
		if strings.HasPrefix(f, "table=8 ") {
			lflows = append(lflows, f)
		}
	}
	if len(lflows) != 1 || !strings.Contains(lflows[0], "reg14=0x1") {
		t.Errorf("flows = %q, want only the one for sw1-p1", lflows)
	}
	if err := l.physicalFlows(l.view, w.st); err != nil {
		t.Errorf("physical flows: %v", err)
	}
}

// TestSameDatapathIsNoChange: Datapath_Binding rows the view already
// holds, handed over again as changes (a new SB connection's rows
// arriving as events after the view was loaded from its cache), as the
// same rows or equal copies, invalidate nothing; a changed key does.
func TestSameDatapathIsNoChange(t *testing.T) {
	w := newWorld()
	w.local("dp1", 1)
	r := rand.New(rand.NewPCG(1, 0))
	for i := range 8 {
		w.addFlow(r, i)
	}
	l := testLoop()
	if err := l.step(w, changeSet{Full: true}); err != nil {
		t.Fatal(err)
	}
	w.sb.take()
	all := map[string]struct{}{}
	for id, m := range w.sb.Table(sbdb.DatapathBindingTable) {
		all[id] = struct{}{}
		if id == "dp2" {
			dp := *m.(*sbdb.DatapathBinding) // an equal copy
			w.sb.put(sbdb.DatapathBindingTable, &dp)
		}
	}
	d := l.view.apply(w.sb, changeSet{Tables: map[string]map[string]struct{}{sbdb.DatapathBindingTable: all}})
	if len(d.dps) != 0 || len(d.groups) != 0 || len(d.refs) != 0 || d.phys {
		t.Errorf("unchanged datapaths invalidate dps %v, groups %v, refs %v, phys %v", d.dps, d.groups, d.refs, d.phys)
	}
	w.sb.put(sbdb.DatapathBindingTable, &sbdb.DatapathBinding{UUID: "dp3", TunnelKey: 33})
	d = l.view.apply(w.sb, w.sb.take())
	if _, ok := d.dps["dp3"]; !ok || !d.phys {
		t.Errorf("a datapath's new key invalidates dps %v, phys %v", d.dps, d.phys)
	}
}

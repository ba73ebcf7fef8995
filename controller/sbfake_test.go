package controller

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// fakeSB is an in-memory southbound database that records what changed,
// as the controller's clients do: the loop reads it through sbSource.
type fakeSB struct {
	tables  map[string]map[string]model.Model
	changes changeSet
}

func newFakeSB() *fakeSB {
	return &fakeSB{tables: map[string]map[string]model.Model{}}
}

func (f *fakeSB) Table(name string) map[string]model.Model { return f.tables[name] }

func (f *fakeSB) Get(table, uuid string) (model.Model, bool) {
	m, ok := f.tables[table][uuid]
	return m, ok
}

// put inserts or replaces row m (never modify a row already put).
func (f *fakeSB) put(table string, m model.Model) {
	id := m.(uuider).GetUUID()
	if f.tables[table] == nil {
		f.tables[table] = map[string]model.Model{}
	}
	f.tables[table][id] = m
	f.changes.add(table, id)
}

func (f *fakeSB) del(table, id string) {
	delete(f.tables[table], id)
	f.changes.add(table, id)
}

// take returns the changes since the last take.
func (f *fakeSB) take() changeSet {
	cs := f.changes
	f.changes = changeSet{}
	return cs
}

// world is a small SB and chassis state the tests mutate.
type world struct {
	sb *fakeSB
	st *chassis.State
}

const testChassis = "hv1"

func newWorld() *world {
	sb := newFakeSB()
	st := &chassis.State{Chassis: testChassis, LocalDatapaths: map[string]chassis.LocalDatapath{},
		LocalPorts: map[string]chassis.LocalPort{}, Localnet: map[string]chassis.LocalnetPort{}}
	// Two VIFs with interfaces here and a tunnel to hv2, so that port
	// security, bindings and remote output make physical flows.
	st.LocalPorts["sw1-p1"] = chassis.LocalPort{Name: "sw1-p1", OFPort: 1, Zone: 1}
	st.LocalPorts["sw2-p2"] = chassis.LocalPort{Name: "sw2-p2", OFPort: 2, Zone: 2}
	st.Tunnels = map[string]chassis.Tunnel{"hv2": {Chassis: "hv2", Type: "geneve", OFPort: 10}}
	w := &world{sb: sb, st: st}
	sb.put(sbdb.ChassisTable, &sbdb.Chassis{UUID: "ch-hv1", Name: "hv1"})
	sb.put(sbdb.ChassisTable, &sbdb.Chassis{UUID: "ch-hv2", Name: "hv2"})
	for d := 1; d <= 3; d++ {
		w.addDatapath(d)
	}
	sb.put(sbdb.LogicalDPGroupTable, &sbdb.LogicalDPGroup{UUID: "grp", Datapaths: []string{"dp1", "dp2", "dp3"}})
	sb.take()
	return w
}

// addDatapath adds datapath d with its four ports and flood group.
func (w *world) addDatapath(d int) {
	id := fmt.Sprintf("dp%d", d)
	w.sb.put(sbdb.DatapathBindingTable, &sbdb.DatapathBinding{UUID: id, TunnelKey: d})
	for p := 1; p <= 4; p++ {
		name := fmt.Sprintf("sw%d-p%d", d, p)
		w.sb.put(sbdb.PortBindingTable, &sbdb.PortBinding{UUID: "pb-" + name, LogicalPort: name, Datapath: id, TunnelKey: p})
	}
	w.sb.put(sbdb.MulticastGroupTable, &sbdb.MulticastGroup{UUID: fmt.Sprintf("mc%d", d), Datapath: id, Name: "_MC_flood",
		TunnelKey: 32768, Ports: []string{fmt.Sprintf("pb-sw%d-p1", d), fmt.Sprintf("pb-sw%d-p2", d)}})
}

// port returns a copy of the Port_Binding named name, to modify and put.
func (w *world) port(name string) *sbdb.PortBinding {
	m, ok := w.sb.Get(sbdb.PortBindingTable, "pb-"+name)
	if !ok {
		return nil
	}
	pb := *m.(*sbdb.PortBinding)
	return &pb
}

func (w *world) flow(id string, lf *sbdb.LogicalFlow) {
	lf.UUID = id
	w.sb.put(sbdb.LogicalFlowTable, lf)
}

func (w *world) local(id string, key int) {
	w.st.LocalDatapaths[id] = chassis.LocalDatapath{UUID: id, Key: int64(key)}
}

var conjRE = regexp.MustCompile(`conj_id=\d+|conjunction\(\d+`)

// table renders the desired table with conjunction ids blanked: ids
// depend on allocation history, not on what the flows mean.
func table(d *flowtable.Desired) []string {
	var out []string
	for _, f := range d.Flows() {
		acts := make([]string, len(f.Actions))
		for i, a := range f.Actions {
			acts[i] = fmt.Sprint(a)
		}
		s := fmt.Sprintf("table=%d priority=%d %s actions=%s", f.Table, f.Priority, f.Match, strings.Join(acts, ","))
		out = append(out, conjRE.ReplaceAllString(s, "conj#"))
	}
	slices.Sort(out)
	return out
}

func testLoop() *loop {
	return newLoop(&Controller{log: slog.New(slog.DiscardHandler)}, nil, newChangeLog(), nil)
}

// step gives l the changes of w since the last step and computes the
// flows as a round does, without the I/O.
func (l *loop) step(w *world, cs changeSet) error {
	l.pendSB.merge(cs)
	l.updateView(w.sb, w.st)
	if err := l.physicalFlows(l.view, w.st); err != nil {
		return err
	}
	l.lbHairpinFlows(l.view, w.st)
	return nil
}

// fullTable computes w's flows from scratch.
func fullTable(w *world) ([]string, error) {
	l := testLoop()
	err := l.step(w, changeSet{Full: true})
	return table(l.desired), err
}

package chassis

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	libcache "github.com/ovn-kubernetes/libovsdb/cache"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// pbTable returns an empty cached Port_Binding table.
func pbTable(t *testing.T) *libcache.RowCache {
	t.Helper()
	rc := cachetest.New(t, sbdb.Schema(), sbdb.FullDatabaseModel, nil).Table(sbdb.PortBindingTable)
	if rc == nil {
		t.Fatal("no Port_Binding table in the cache")
	}
	return rc
}

// randomPB is a binding of a random type, parent, chassis and datapath,
// named from a small pool so that names move between rows.
func randomPB(r *rand.Rand, uuid string) *sbdb.PortBinding {
	pb := &sbdb.PortBinding{UUID: uuid, LogicalPort: fmt.Sprintf("lp%d", r.IntN(40)),
		Type:     []string{"", "", "", "patch", "localnet", "chassisredirect", "localport"}[r.IntN(7)],
		Datapath: fmt.Sprintf("dp%d", r.IntN(4)), TunnelKey: 1 + r.IntN(100)}
	if pb.Type == "" && r.IntN(4) == 0 {
		pb.ParentPort = ptr(fmt.Sprintf("lp%d", r.IntN(40)))
	}
	if r.IntN(2) == 0 {
		pb.Chassis = ptr(fmt.Sprintf("ch%d", r.IntN(3)))
	}
	return pb
}

// sameIndex compares every index of got with want, row by row.
func sameIndex(t *testing.T, what string, got, want *pbIndex) {
	t.Helper()
	ids := func(m map[string]*sbdb.PortBinding) []string { return slices.Sorted(maps.Keys(m)) }
	if !maps.EqualFunc(got.rows, want.rows, samePB) {
		t.Fatalf("%s: rows %v, anew %v", what, ids(got.rows), ids(want.rows))
	}
	if !maps.EqualFunc(got.nonVIF, want.nonVIF, samePB) || !maps.EqualFunc(got.containers, want.containers, samePB) {
		t.Fatalf("%s: non-VIF %v / containers %v, anew %v / %v", what, ids(got.nonVIF), ids(got.containers), ids(want.nonVIF), ids(want.containers))
	}
	if !maps.EqualFunc(got.byChassis, want.byChassis, func(a, b map[string]*sbdb.PortBinding) bool { return maps.EqualFunc(a, b, samePB) }) {
		t.Fatalf("%s: by chassis differs from the index built anew", what)
	}
	if len(got.byDP) != len(want.byDP) {
		t.Fatalf("%s: %d datapaths, anew %d", what, len(got.byDP), len(want.byDP))
	}
	for dp, l := range want.byDP {
		a, b := uuidsOf(got.byDP[dp]), uuidsOf(l)
		if !slices.Equal(a, b) {
			t.Fatalf("%s: datapath %s has %v, anew %v", what, dp, a, b)
		}
	}
	// With names shared by several rows the one byName picks may
	// differ; it must be one of the rows with that name.
	for name, pb := range got.byName {
		if w := want.byName[name]; w == nil || pb.LogicalPort != name || got.rows[pb.UUID] == nil {
			t.Fatalf("%s: name %s maps to %s, anew to %v", what, name, pb.UUID, w)
		}
	}
	if len(got.byName) != len(want.byName) {
		t.Fatalf("%s: %d names, anew %d", what, len(got.byName), len(want.byName))
	}
}

func samePB(a, b *sbdb.PortBinding) bool { return a.Equals(b) }

func uuidsOf(l []*sbdb.PortBinding) []string {
	var out []string
	for _, pb := range l {
		out = append(out, pb.UUID)
	}
	slices.Sort(out)
	return out
}

// An index fed with the changed rows ends up as one built by scanning
// the table anew, through random inserts, updates and deletes; a full
// report makes it scan again; rows nobody reported are not read.
func TestPBIndexFedEqualsScan(t *testing.T) {
	rc := pbTable(t)
	r := rand.New(rand.NewPCG(7, 11))
	fed, scanned := &pbIndex{}, &pbIndex{}
	if err := fed.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	fed.note(nil, false)
	next := 0
	for round := range 300 {
		changed := map[string]struct{}{}
		for range 1 + r.IntN(5) {
			existing := slices.Sorted(maps.Keys(rc.RowsShallow()))
			switch op := r.IntN(3); {
			case op == 0 || len(existing) == 0:
				next++
				id := fmt.Sprintf("00000000-0000-0000-0000-%012d", next)
				if err := rc.Create(id, randomPB(r, id), false); err != nil {
					t.Fatal(err)
				}
				changed[id] = struct{}{}
			case op == 1:
				id := existing[r.IntN(len(existing))]
				if _, err := rc.Update(id, randomPB(r, id), false); err != nil {
					t.Fatal(err)
				}
				changed[id] = struct{}{}
			default:
				id := existing[r.IntN(len(existing))]
				if err := rc.Delete(id); err != nil {
					t.Fatal(err)
				}
				changed[id] = struct{}{}
			}
		}
		full := round%50 == 49
		if full {
			// Changes lost: only a full report follows them.
			fed.note(nil, true)
		} else {
			fed.note(changed, false)
		}
		if err := fed.updateTable(rc); err != nil {
			t.Fatal(err)
		}
		if err := scanned.updateTable(rc); err != nil {
			t.Fatal(err)
		}
		sameIndex(t, fmt.Sprintf("round %d (full %v)", round, full), fed, scanned)
		sameIndex(t, fmt.Sprintf("round %d, index built anew", round), scanned, func() *pbIndex {
			x := &pbIndex{}
			if err := x.updateTable(rc); err != nil {
				t.Fatal(err)
			}
			return x
		}())
	}

	// A report of many rows (a new connection's initial load) scans.
	many := map[string]struct{}{}
	for range scanFrom + 10 {
		next++
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", next)
		if err := rc.Create(id, randomPB(r, id), false); err != nil {
			t.Fatal(err)
		}
		many[id] = struct{}{}
	}
	fed.note(many, false)
	if err := fed.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	fresh := &pbIndex{}
	if err := fresh.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	sameIndex(t, "many rows reported", fed, fresh)

	// A change nobody reported stays unseen until it is reported.
	id := slices.Sorted(maps.Keys(rc.RowsShallow()))[0]
	moved := randomPB(r, id)
	moved.Datapath = "dp-elsewhere"
	if _, err := rc.Update(id, moved, false); err != nil {
		t.Fatal(err)
	}
	if err := fed.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	if fed.rows[id].Datapath == "dp-elsewhere" {
		t.Fatal("the fed index read a row nobody reported")
	}
	fed.touch(id)
	if err := fed.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	if fed.rows[id].Datapath != "dp-elsewhere" {
		t.Fatal("a touched row was not read again")
	}
}

// computeBinding over the indexes decides as a look at every binding
// would: claims are the bound ports held elsewhere, releases the ports
// held here and no longer bound.
func TestComputeBindingClaimsAndReleases(t *testing.T) {
	rc := pbTable(t)
	const here = "ch-here"
	pbs := []*sbdb.PortBinding{
		{UUID: "00000000-0000-0000-0000-000000000001", LogicalPort: "vif-new", Datapath: "dp1", TunnelKey: 1},
		{UUID: "00000000-0000-0000-0000-000000000002", LogicalPort: "vif-held", Datapath: "dp1", TunnelKey: 2, Chassis: ptr(here)},
		{UUID: "00000000-0000-0000-0000-000000000003", LogicalPort: "vif-gone", Datapath: "dp1", TunnelKey: 3, Chassis: ptr(here)},
		{UUID: "00000000-0000-0000-0000-000000000004", LogicalPort: "vif-other", Datapath: "dp2", TunnelKey: 4, Chassis: ptr("ch-other")},
		{UUID: "00000000-0000-0000-0000-000000000005", LogicalPort: "vif-moving", Datapath: "dp2", TunnelKey: 5, Chassis: ptr("ch-other")},
		{UUID: "00000000-0000-0000-0000-000000000006", LogicalPort: "lp-local", Type: typeLocalport, Datapath: "dp1", TunnelKey: 6},
	}
	for _, pb := range pbs {
		if err := rc.Create(pb.UUID, pb, false); err != nil {
			t.Fatal(err)
		}
	}
	x := &pbIndex{}
	if err := x.updateTable(rc); err != nil {
		t.Fatal(err)
	}
	ov := &ovsView{bridges: map[string]*vswitch.Bridge{"br-int": {Name: "br-int", Ports: []string{"p1", "p2", "p3", "p4"}}},
		ports: map[string]*vswitch.Port{}, ifaces: map[string]*vswitch.Interface{}, portOwn: map[string]string{}, ifaceOwn: map[string]string{}}
	for i, name := range []string{"vif-new", "vif-held", "vif-moving", "lp-local"} {
		port, iface := fmt.Sprintf("p%d", i+1), fmt.Sprintf("i%d", i+1)
		ofport := 10 + i
		ov.ports[port] = &vswitch.Port{UUID: port, Name: "tap-" + name, Interfaces: []string{iface}}
		ov.ifaces[iface] = &vswitch.Interface{UUID: iface, Name: "tap-" + name, Ofport: &ofport, ExternalIDs: map[string]string{IfaceIDKey: name}}
		ov.portOwn[port], ov.ifaceOwn[iface] = "br-int", port
	}
	sb := &sbView{pbs: x.byName, pbsByDP: x.byDP, idx: x, dps: map[string]*sbdb.DatapathBinding{}}
	b := computeBinding(ov, sb, Config{SystemID: "here", Bridge: "br-int"}, here)
	names := func(l []*sbdb.PortBinding) []string {
		var out []string
		for _, pb := range l {
			out = append(out, pb.LogicalPort)
		}
		return out
	}
	if got, want := names(b.claim), []string{"vif-moving", "vif-new"}; !slices.Equal(got, want) {
		t.Errorf("claims %v, want %v", got, want)
	}
	if got, want := names(b.release), []string{"vif-gone"}; !slices.Equal(got, want) {
		t.Errorf("releases %v, want %v", got, want)
	}
	if len(b.local) != 4 || b.local["lp-local"] == nil || b.local["lp-local"].Type != typeLocalport {
		t.Errorf("local ports %v", slices.Sorted(maps.Keys(b.local)))
	}
}

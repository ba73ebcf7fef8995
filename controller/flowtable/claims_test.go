package flowtable

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/openflow"
)

// A key keeps its one owner inline; a second owner spills it into the
// shared list, which goes again when one owner is left.
func TestClaimsInlineAndShared(t *testing.T) {
	var cs claims[string, string]
	eq := func(a, b string) bool { return a == b }
	cs.init(eq, eq)
	set := func(owner, val string) []conflict[string] {
		if val == "" {
			return cs.set(owner, nil)
		}
		return cs.set(owner, []item[string, string]{{"k", val}})
	}
	winner := func() (string, string, bool) {
		c := cs.keys["k"]
		return cs.owners.at(c.owner).name, c.val, c.shared
	}
	set("b", "x")
	if o, v, shared := winner(); o != "b" || v != "x" || shared || len(cs.shared) != 0 {
		t.Fatalf("one owner: %s %s shared=%v, %d shared keys", o, v, shared, len(cs.shared))
	}
	if cf := set("c", "y"); len(cf) != 1 || cf[0].winner != "b" || cf[0].loser != "c" {
		t.Errorf("conflict %+v, want b over c", cf)
	}
	set("a", "x")
	if o, v, shared := winner(); o != "a" || v != "x" || !shared || len(cs.shared["k"]) != 3 {
		t.Fatalf("three owners: %s %s shared=%v, %d claims", o, v, shared, len(cs.shared["k"]))
	}
	set("a", "")
	set("b", "")
	if o, v, shared := winner(); o != "c" || v != "y" || shared || len(cs.shared) != 0 {
		t.Fatalf("back to one owner: %s %s shared=%v, %d shared keys", o, v, shared, len(cs.shared))
	}
	if len(cs.ids) != 1 || len(cs.free) != 2 {
		t.Errorf("owners %v, %d free ids, want c alone and 2 free", cs.ids, len(cs.free))
	}
	set("d", "y")
	if len(cs.free) != 1 || cs.owners.len() != 3 {
		t.Errorf("a new owner did not reuse a free id: %d free, %d ids", len(cs.free), cs.owners.len())
	}
	set("c", "")
	set("d", "")
	if len(cs.keys) != 0 || len(cs.shared) != 0 || len(cs.ids) != 0 {
		t.Errorf("left: %d keys, %d shared, %d owners", len(cs.keys), len(cs.shared), len(cs.ids))
	}
}

// TestInstallerMostOfTableChanged: a change of most of the table (the
// first full compile, a mass removal) is not listed key by key but
// marks every key; the installer then compares them all and sends the
// same bundle a list would have made. A small change after it is listed
// again.
func TestInstallerMostOfTableChanged(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	if _, err := in.Install(ctx, NewDesired(nil)); err != nil {
		t.Fatal(err)
	}
	d := NewDesired(nil)
	owners := manyFlows(1000) // 10,000 flows
	for o, fs := range owners {
		d.Set(o, fs)
	}
	if !d.flows.allDirty || len(d.flows.dirty) != 0 {
		t.Fatalf("after 10,000 new flows: allDirty %v, %d listed", d.flows.allDirty, len(d.flows.dirty))
	}
	if st, err := in.Install(ctx, d); err != nil || (st != Stats{Added: 10000}) {
		t.Fatalf("first install: %+v %v", st, err)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
	// Remove 900 owners, half the flows of one and change the actions
	// of another.
	for i := range 900 {
		d.Remove(fmt.Sprintf("owner%d", i))
	}
	d.Set("owner950", owners["owner950"][:5])
	alt := slices.Clone(owners["owner951"])
	for i := range alt {
		alt[i].Actions = []openflow.Action{openflow.ResubmitTable(60)}
	}
	d.Set("owner951", alt)
	if !d.flows.allDirty {
		t.Fatalf("after removing 9,000 of 10,000 flows: %d listed, want all dirty", len(d.flows.dirty))
	}
	st, err := in.Install(ctx, d)
	if err != nil || (st != Stats{Deleted: 9000 + 5, Modified: 10}) {
		t.Fatalf("mass removal: %+v %v", st, err)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
	d.Set("owner999", owners["owner999"][:4])
	if d.flows.allDirty || len(d.flows.dirty) != 10 {
		t.Fatalf("one owner changed: allDirty %v, %d listed, want its 10", d.flows.allDirty, len(d.flows.dirty))
	}
	if st, err := in.Install(ctx, d); err != nil || (st != Stats{Deleted: 6}) {
		t.Fatalf("small change: %+v %v", st, err)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

// The owner list grows without moving what it holds: thousands of
// owners later, the first owner's entry is where it was, and every
// owner keeps its name and keys.
func TestOwnersGrowInPlace(t *testing.T) {
	var cs claims[string, string]
	eq := func(a, b string) bool { return a == b }
	cs.init(eq, eq)
	cs.set("o0", []item[string, string]{{"k0", "v"}})
	first := cs.owners.at(cs.ids["o0"])
	const n = 5*ownerChunk + 7
	for i := 1; i < n; i++ {
		cs.set(fmt.Sprintf("o%d", i), []item[string, string]{{fmt.Sprintf("k%d", i), "v"}})
	}
	if cs.owners.at(cs.ids["o0"]) != first {
		t.Error("the first owner's entry moved as the list grew")
	}
	for i := range n {
		name := fmt.Sprintf("o%d", i)
		o := cs.owners.at(cs.ids[name])
		if o.name != name || !slices.Equal(o.keys, []string{fmt.Sprintf("k%d", i)}) {
			t.Fatalf("owner %s: %q %v", name, o.name, o.keys)
		}
	}
}

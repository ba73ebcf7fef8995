package flowtable

import "testing"

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
		return cs.owners[c.owner].name, c.val, c.shared
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
	if len(cs.free) != 1 || len(cs.owners) != 3 {
		t.Errorf("a new owner did not reuse a free id: %d free, %d ids", len(cs.free), len(cs.owners))
	}
	set("c", "")
	set("d", "")
	if len(cs.keys) != 0 || len(cs.shared) != 0 || len(cs.ids) != 0 {
		t.Errorf("left: %d keys, %d shared, %d owners", len(cs.keys), len(cs.shared), len(cs.ids))
	}
}

package controller

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// refSets answers as a map of sets would, through random adds and
// removes of references that few and that many units use, and once
// a reference has units, every add returns the one string it keeps.
func TestRefSetsLikeSets(t *testing.T) {
	r := refSets{}
	want := map[string]map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		ref := fmt.Sprintf("p:port%d", rng.IntN(8))
		if rng.IntN(4) == 0 {
			ref = "pg:big" // used by up to 60 units: a set
		}
		unit := fmt.Sprintf("lf%d@%d", rng.IntN(60), i%3)
		if rng.IntN(3) == 0 {
			r.remove(ref, unit)
			delete(want[ref], unit)
			continue
		}
		kept := r.add(ref, unit)
		if kept != ref {
			t.Fatalf("add returned %q for %q", kept, ref)
		}
		if e := r[ref]; unsafe.StringData(kept) != unsafe.StringData(e.key) {
			t.Fatalf("add(%q) returned a string of its own, not the index's", ref)
		}
		if want[ref] == nil {
			want[ref] = map[string]bool{}
		}
		want[ref][unit] = true
	}
	for ref, units := range want {
		got := slices.Sorted(r.units(ref))
		if w := slices.Sorted(maps.Keys(units)); !slices.Equal(got, w) {
			t.Errorf("units(%q) = %v, want %v", ref, got, w)
		}
		if len(units) == 0 {
			if _, ok := r[ref]; ok {
				t.Errorf("reference %q without units kept", ref)
			}
		}
	}
	if n := len(slices.Collect(r.units("p:none"))); n != 0 {
		t.Errorf("unknown reference has %d units", n)
	}
}

package chassis

import (
	"testing"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

func TestHAActive(t *testing.T) {
	a, b, c := "ch-a", "ch-b", "ch-c"
	h := haView{
		groups: map[string]*sbdb.HAChassisGroup{
			"one":  {UUID: "one", HaChassis: []string{"m1"}},
			"two":  {UUID: "two", HaChassis: []string{"m1", "m2"}},
			"tie":  {UUID: "tie", HaChassis: []string{"m3", "m4"}},
			"none": {UUID: "none"},
		},
		members: map[string]*sbdb.HAChassis{
			"m1": {UUID: "m1", Chassis: &a, Priority: 10},
			"m2": {UUID: "m2", Chassis: &b, Priority: 20},
			"m3": {UUID: "m3", Chassis: &c, Priority: 5},
			"m4": {UUID: "m4", Chassis: &b, Priority: 5},
		},
	}
	ref := func(s string) *string { return &s }
	cases := []struct {
		group   *string
		chassis string
		want    bool
	}{
		{ref("one"), a, true},
		{ref("one"), b, false},
		{ref("two"), b, true},  // highest priority
		{ref("two"), a, false}, // standby
		{ref("tie"), b, true},  // equal priority: lowest chassis uuid
		{ref("tie"), c, false},
		{ref("none"), a, false},
		{ref("missing"), a, false},
		{nil, a, false},
	}
	for _, c := range cases {
		if got := h.haActive(c.group, c.chassis); got != c.want {
			g := "<nil>"
			if c.group != nil {
				g = *c.group
			}
			t.Errorf("group %s chassis %s: %v, want %v", g, c.chassis, got, c.want)
		}
	}
}

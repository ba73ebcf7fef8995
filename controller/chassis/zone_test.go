package chassis

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAssignZonesStable(t *testing.T) {
	z1, err := AssignZones(nil, []string{"lp2", "lp1", "dp_dnat", "dp_snat"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"dp_dnat": 1, "dp_snat": 2, "lp1": 3, "lp2": 4}
	if diff := cmp.Diff(want, z1); diff != "" {
		t.Errorf("first assignment (-want +got):\n%s", diff)
	}
	// lp1 goes, lp0 comes: lp2 keeps its zone, lp0 takes the freed one.
	z2, err := AssignZones(z1, []string{"lp2", "lp0", "dp_dnat", "dp_snat"})
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"dp_dnat": 1, "dp_snat": 2, "lp0": 3, "lp2": 4}
	if diff := cmp.Diff(want, z2); diff != "" {
		t.Errorf("second assignment (-want +got):\n%s", diff)
	}
}

func TestAssignZonesCollisions(t *testing.T) {
	// A corrupted external_ids with two names on zone 5 and an out of
	// range zone: one keeps 5, the others get fresh zones.
	z, err := AssignZones(map[string]int{"a": 5, "b": 5, "c": 70000}, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]string{}
	for n, v := range z {
		if v < 1 || v > MaxZone {
			t.Errorf("%s: zone %d out of range", n, v)
		}
		if o, dup := seen[v]; dup {
			t.Errorf("zone %d given to %s and %s", v, o, n)
		}
		seen[v] = n
	}
	if z["a"] != 5 {
		t.Errorf("a lost its zone: %v", z)
	}
}

func TestAssignZonesExhausted(t *testing.T) {
	var names []string
	for i := range MaxZone + 1 {
		names = append(names, fmt.Sprint("p", i))
	}
	if _, err := AssignZones(nil, names); !errors.Is(err, ErrZonesExhausted) {
		t.Errorf("err %v, want ErrZonesExhausted", err)
	}
}

func TestZonesFromExternalIDs(t *testing.T) {
	got := ZonesFromExternalIDs(map[string]string{
		"ct-zone-lp1": "3", "ct-zone-dp_dnat": "1", "ct-zone-bad": "x", "ct-zone-": "4",
		"ct-zone-zero": "0", "ovn-startup-ts": "123",
	})
	want := map[string]int{"lp1": 3, "dp_dnat": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTunnelPortName(t *testing.T) {
	taken := map[string]bool{}
	cases := []struct{ chassis, want string }{
		{"hv1", "ovn-hv1-0"},
		{"8f0e3c1a-2b4d-4e5f-9a6b-7c8d9e0f1a2b", "ovn-8f0e3c-0"},
		{"8f0e3c1a-9999-4e5f-9a6b-7c8d9e0f1a2b", "ovn-8f0e3c-1"},
	}
	for _, c := range cases {
		got, err := tunnelPortName(c.chassis, taken)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.chassis, got, err, c.want)
		}
		taken[got] = true
	}
	for i := range 16 {
		taken[fmt.Sprintf("ovn-abc-%x", i)] = true
	}
	if got, _ := tunnelPortName("abc", taken); got != "ovn-abc-10" {
		t.Errorf("after 16 taken: %q, want ovn-abc-10 (hex index)", got)
	}
}

func TestPreferredEncap(t *testing.T) {
	cases := []struct {
		local, remote []string
		want          string
		ok            bool
	}{
		{[]string{"geneve", "vxlan"}, []string{"vxlan", "geneve"}, "geneve", true},
		{[]string{"geneve", "vxlan"}, []string{"vxlan"}, "vxlan", true},
		{[]string{"vxlan"}, []string{"geneve", "vxlan"}, "vxlan", true},
		{[]string{"geneve"}, []string{"vxlan"}, "", false},
		{[]string{"geneve"}, []string{"stt"}, "", false},
	}
	for _, c := range cases {
		got, ok := preferredEncap(c.local, c.remote)
		if got != c.want || ok != c.ok {
			t.Errorf("%v/%v: %q %v, want %q %v", c.local, c.remote, got, ok, c.want, c.ok)
		}
	}
	if !zonesOverlap(nil, nil) || zonesOverlap(nil, []string{"a"}) || zonesOverlap([]string{"a"}, nil) ||
		!zonesOverlap([]string{"a", "b"}, []string{"b"}) || zonesOverlap([]string{"a"}, []string{"b"}) {
		t.Error("zonesOverlap")
	}
}

func TestParseGetFamilyReply(t *testing.T) {
	req := getFamilyRequest("ovs_datapath")
	if len(req)%4 != 0 || int(req[0]) != len(req) {
		t.Errorf("request length %d, header says %d", len(req), req[0])
	}
	if _, err := parseGetFamilyReply([]byte{1, 2}); err == nil {
		t.Error("short reply: no error")
	}
}

package physical

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/flowtable"
)

// diffInputs is the Delta that turns a into b.
func diffInputs(a, b Input) Delta {
	var d Delta
	d.Datapaths, d.DelDatapaths = diffRows(a.Datapaths, b.Datapaths, func(x Datapath) uint32 { return x.Key })
	d.Ports, d.DelPorts = diffRows(a.Ports, b.Ports, func(x Port) string { return x.UUID })
	d.Peers, d.DelPeers = diffRows(a.Peers, b.Peers, func(x Port) string { return x.Name })
	d.MulticastGroups, d.DelMulticastGroups = diffRows(a.MulticastGroups, b.MulticastGroups,
		func(x MulticastGroup) string { return x.UUID })
	d.Tunnels, d.DelTunnels = diffRows(a.Tunnels, b.Tunnels, func(x Tunnel) string { return x.Chassis })
	d.MACBindings, d.DelMACBindings = diffRows(a.MACBindings, b.MACBindings, func(x MACBinding) string { return x.UUID })
	d.FDBs, d.DelFDBs = diffRows(a.FDBs, b.FDBs, func(x FDB) string { return x.UUID })
	return d
}

func diffRows[T any, K comparable](a, b []T, key func(T) K) (set []T, del []K) {
	before := map[K]T{}
	for _, x := range a {
		before[key(x)] = x
	}
	now := map[K]bool{}
	for _, x := range b {
		now[key(x)] = true
		if old, ok := before[key(x)]; !ok || !reflect.DeepEqual(old, x) {
			set = append(set, x)
		}
	}
	for _, x := range a {
		if !now[key(x)] {
			del = append(del, key(x))
		}
	}
	return set, del
}

// cloneInput copies in deeply enough for the mutations below.
func cloneInput(in Input) Input {
	in.Datapaths, in.Ports, in.Peers = slices.Clone(in.Datapaths), slices.Clone(in.Ports), slices.Clone(in.Peers)
	in.MulticastGroups, in.Tunnels = slices.Clone(in.MulticastGroups), slices.Clone(in.Tunnels)
	in.MACBindings, in.FDBs = slices.Clone(in.MACBindings), slices.Clone(in.FDBs)
	for i := range in.MulticastGroups {
		in.MulticastGroups[i].Members = slices.Clone(in.MulticastGroups[i].Members)
	}
	return in
}

// inputMutations change one thing of an Input at random: any field of a
// port (type, chassis, OpenFlow port, zone, tag, parent, peer, port
// security, name), ports added and removed, datapaths' zones, datapaths
// added and removed with their ports, group members and keys, tunnels,
// peers, MAC bindings and FDB entries. Some make an Input NewBuilder
// rejects (two ports with one name, a port on a datapath that left).
func inputMutations(r *rand.Rand, next *int) []func(in *Input) string {
	names := []string{"a", "lp", "b", "c", "s1-r", "r-s1", "d", "ln", "e", "ct", "x", "vip", "n1", "n2", "gone"}
	anyPort := func(in *Input) *Port {
		if len(in.Ports) == 0 {
			return nil
		}
		return &in.Ports[r.IntN(len(in.Ports))]
	}
	dpKeys := func(in *Input) []uint32 {
		var ks []uint32
		for _, d := range in.Datapaths {
			ks = append(ks, d.Key)
		}
		return ks
	}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	return []func(in *Input) string{
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.Zone = uint16(r.IntN(5))
				return "zone of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.OFPort = uint32(r.IntN(3) * 10)
				return "ofport of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.Chassis = pick([]string{"", "hv1", "hv2", "hv3", "hv4"})
				return "chassis of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.Type = pick([]string{TypeVIF, TypeLocalport, TypeLocalnet, TypePatch, TypeL3Gateway,
					TypeChassisRedirect, TypeExternal, TypeVirtual})
				return "type of " + p.Name + " " + p.Type
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.Tag = uint16(r.IntN(3))
				p.Parent = pick([]string{"", "", "a", "d", "ct", "gone"})
				return "parent of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.Peer = pick([]string{"", "s1-r", "r-s1", "far", "d"})
				p.DistributedPort = pick([]string{"", "r-s1", "a"})
				return "peer of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				p.PortSecurity = [][]string{nil, {"00:00:00:00:00:0a 10.0.0.10/24"}, {"bad"}}[r.IntN(3)]
				p.MAC = [][]string{nil, {"00:00:00:00:00:e1 10.0.0.41"}, {"00:00:00:00:00:e2"}}[r.IntN(3)]
				return "addresses of " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			if p := anyPort(in); p != nil {
				old := p.Name
				p.Name = pick(names)
				return "rename " + old + " to " + p.Name
			}
			return "no port"
		},
		func(in *Input) string {
			*next++
			ks := dpKeys(in)
			if len(ks) == 0 {
				return "no datapath"
			}
			name := fmt.Sprintf("n%d", *next)
			in.Ports = append(in.Ports, Port{UUID: fmt.Sprintf("%08x-0000-0000-0000-00000000abcd", *next), Name: name,
				Datapath: ks[r.IntN(len(ks))], Key: uint32(100 + *next), Chassis: pick([]string{"", "hv1", "hv2"}),
				OFPort: uint32(r.IntN(2) * (20 + *next)), Zone: uint16(r.IntN(4))})
			return "add port " + name
		},
		func(in *Input) string {
			if len(in.Ports) == 0 {
				return "no port"
			}
			i := r.IntN(len(in.Ports))
			name := in.Ports[i].Name
			in.Ports = slices.Delete(in.Ports, i, i+1)
			return "remove port " + name
		},
		func(in *Input) string {
			if len(in.Datapaths) == 0 {
				return "no datapath"
			}
			d := &in.Datapaths[r.IntN(len(in.Datapaths))]
			d.DNATZone, d.SNATZone = uint16(r.IntN(30)), uint16(r.IntN(30))
			return fmt.Sprintf("zones of datapath %d", d.Key)
		},
		func(in *Input) string {
			// Datapath 4 comes (with a port and a group) and goes (with
			// them, or, rarely, leaving them behind: an error).
			if i := slices.IndexFunc(in.Datapaths, func(d Datapath) bool { return d.Key == 4 }); i >= 0 {
				in.Datapaths = slices.Delete(in.Datapaths, i, i+1)
				if r.IntN(6) > 0 {
					in.Ports = slices.DeleteFunc(in.Ports, func(p Port) bool { return p.Datapath == 4 })
				}
				return "remove datapath 4"
			}
			in.Datapaths = append(in.Datapaths, Datapath{Key: 4, DNATZone: 20, SNATZone: 21})
			in.Ports = append(in.Ports, Port{UUID: "44440000-0000-0000-0000-000000000001", Name: "dp4-p", Datapath: 4,
				Key: 1, Chassis: "hv1", OFPort: 44, Zone: 9})
			in.MulticastGroups = slices.DeleteFunc(in.MulticastGroups, func(mc MulticastGroup) bool { return mc.Datapath == 4 })
			in.MulticastGroups = append(in.MulticastGroups, MulticastGroup{UUID: "44440000-0000-0000-0000-00000000000a",
				Datapath: 4, Key: 0x8000, Members: []string{"dp4-p"}})
			return "add datapath 4"
		},
		func(in *Input) string {
			if len(in.MulticastGroups) == 0 {
				return "no group"
			}
			mc := &in.MulticastGroups[r.IntN(len(in.MulticastGroups))]
			name := pick(names)
			if i := slices.Index(mc.Members, name); i >= 0 {
				mc.Members = slices.Delete(mc.Members, i, i+1)
			} else {
				mc.Members = append(mc.Members, name)
			}
			if r.IntN(4) == 0 {
				mc.Key = 0x8000 + uint32(r.IntN(3))
			}
			return "members of " + mc.UUID
		},
		func(in *Input) string {
			if len(in.Tunnels) > 0 && r.IntN(2) == 0 {
				t := &in.Tunnels[r.IntN(len(in.Tunnels))]
				t.OFPort, t.Type = uint32(1+r.IntN(4)), pick([]string{Geneve, VXLAN})
				return "tunnel to " + t.Chassis
			}
			c := pick([]string{"hv2", "hv3", "hv4"})
			if i := slices.IndexFunc(in.Tunnels, func(t Tunnel) bool { return t.Chassis == c }); i >= 0 {
				in.Tunnels = slices.Delete(in.Tunnels, i, i+1)
				return "no tunnel to " + c
			}
			in.Tunnels = append(in.Tunnels, Tunnel{Chassis: c, Type: Geneve, OFPort: uint32(5 + r.IntN(3))})
			return "tunnel to " + c
		},
		func(in *Input) string {
			// A peer on a datapath that is not local.
			if len(in.Peers) > 0 && r.IntN(2) == 0 {
				in.Peers = in.Peers[1:]
				return "peer left"
			}
			name := pick([]string{"far", "r-s1", "d"})
			in.Peers = slices.DeleteFunc(in.Peers, func(p Port) bool { return p.Name == name })
			in.Peers = append(in.Peers, Port{UUID: "fafafafa-0000-0000-0000-000000000001", Name: name, Datapath: 9,
				Key: uint32(1 + r.IntN(3)), Type: TypePatch, Peer: "s1-r"})
			return "peer " + name
		},
		func(in *Input) string {
			if len(in.MACBindings) == 0 {
				return "no mac binding"
			}
			mb := &in.MACBindings[r.IntN(len(in.MACBindings))]
			mb.Port = pick(names)
			return "mac binding port " + mb.Port
		},
		func(in *Input) string {
			if len(in.FDBs) == 0 {
				return "no fdb"
			}
			in.FDBs[0].Datapath = uint32(1 + r.IntN(4))
			return "fdb datapath"
		},
	}
}

// sortInput orders in as the controller loop builds it: ports by name.
func sortInput(in Input) Input {
	in = cloneInput(in)
	slices.SortFunc(in.Ports, func(a, b Port) int { return strings.Compare(a.Name, b.Name) })
	return in
}

// TestApplyEqualsFull applies random sequences of changes, several at a
// time, to one Builder with Apply and checks after each that a desired
// table updated with only the owners Apply names holds what a new
// Builder of the whole Input computes, and that Apply fails exactly when
// NewBuilder does.
func TestApplyEqualsFull(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		next := 0
		muts := inputMutations(r, &next)
		in := sortInput(sampleInput())
		b, err := NewBuilder(in)
		if err != nil {
			t.Fatal(err)
		}
		d := flowtable.NewDesired(nil)
		set, _ := b.Changes(nil)
		for _, o := range set {
			d.Set(o, b.Owner(o))
		}
		var log []string
		for step := range 80 {
			nin := cloneInput(in)
			var what []string
			for range 1 + r.IntN(3) {
				what = append(what, muts[r.IntN(len(muts))](&nin))
			}
			nin = sortInput(nin)
			log = append(log, strings.Join(what, ", "))
			full, errFull := NewBuilder(nin)
			set, removed, errInc := b.Apply(diffInputs(in, nin))
			if (errFull == nil) != (errInc == nil) {
				t.Fatalf("seed %d step %d (%s): full error %v, Apply error %v", seed, step, log[len(log)-1], errFull, errInc)
			}
			if errFull != nil {
				// The failed Builder still stands for the old Input as
				// the old side of Changes.
				again, err := NewBuilder(in)
				if err != nil {
					t.Fatal(err)
				}
				if set, removed := again.Changes(b); len(set)+len(removed) > 0 {
					t.Fatalf("seed %d step %d: after a failed Apply, Changes names %v %v", seed, step, set, removed)
				}
				if _, _, err := b.Apply(Delta{}); err == nil {
					t.Fatalf("seed %d step %d: a broken Builder accepted another Apply", seed, step)
				}
				b = again
				log = log[:len(log)-1]
				continue
			}
			for _, o := range removed {
				d.Remove(o)
			}
			for _, o := range set {
				d.Set(o, b.Owner(o))
			}
			want := flowtable.NewDesired(nil)
			for o, fs := range full.All() {
				want.Set(o, fs)
			}
			if got, want := renderAll(d.Flows()), renderAll(want.Flows()); !slices.Equal(got, want) {
				diff := cmp.Diff(want, got)
				t.Fatalf("seed %d step %d (%s): Apply differs from full (-full +Apply):\n%s\nsteps:\n%s",
					seed, step, log[len(log)-1], diff, strings.Join(log, "\n"))
			}
			// Every owner whose inputs changed was looked at: the
			// fingerprints kept are those of a new Builder.
			if !maps.Equal(full.fingerprints(), b.fingerprints()) {
				diff := cmp.Diff(full.fingerprints(), b.fingerprints())
				t.Fatalf("seed %d step %d (%s): fingerprints differ (-full +Apply):\n%s\nsteps:\n%s",
					seed, step, log[len(log)-1], diff, strings.Join(log, "\n"))
			}
			if diff := cmp.Diff(full.Warnings(), b.Warnings()); diff != "" {
				t.Fatalf("seed %d step %d: warnings differ (-full +Apply):\n%s", seed, step, diff)
			}
			in = nin
		}
	}
}

// TestApplyTouchesLittle: adding one VIF to a large input recomputes
// that port and its flood group only.
func TestApplyTouchesLittle(t *testing.T) {
	in := bigInput()
	b, err := NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	b.Changes(nil)
	p := Port{UUID: "00000001-ffff", Name: "new", Datapath: 1, Key: 41, Chassis: "hv0", OFPort: 999, Zone: 999}
	mc := in.MulticastGroups[0]
	mc.Members = append(slices.Clone(mc.Members), "new")
	set, removed, err := b.Apply(Delta{Ports: []Port{p}, MulticastGroups: []MulticastGroup{mc}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{MulticastOwner(mc.UUID), PortOwner(p.UUID)}
	if diff := cmp.Diff(want, set); diff != "" || len(removed) > 0 {
		t.Errorf("Apply names (-want +got):\n%s\nremoved %v", diff, removed)
	}
	if fs := b.Owner(PortOwner(p.UUID)); !has(fs, "in_port=999") {
		t.Errorf("the new port has no ingress flow:\n%s", strings.Join(renderAll(fs), "\n"))
	}
}

// BenchmarkApplyOneChange is what a change of one port costs with Apply,
// next to BenchmarkOneChange's new Builder and Changes.
func BenchmarkApplyOneChange(b *testing.B) {
	in := bigInput()
	bl, err := NewBuilder(in)
	if err != nil {
		b.Fatal(err)
	}
	bl.Changes(nil)
	p := in.Ports[0]
	for b.Loop() {
		p.Zone++
		set, _, err := bl.Apply(Delta{Ports: []Port{p}})
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range set {
			bl.Owner(o)
		}
	}
}

package flowtable

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/openflow"
)

// fl parses a flow in ovs-ofctl syntax, with cookie=N as its first item
// when it has one.
func fl(t testing.TB, s string) Flow {
	t.Helper()
	fm, err := openflow.ParseFlow(s)
	if err != nil {
		t.Fatal(err)
	}
	return Flow{Table: fm.Table, Priority: fm.Priority, Match: fm.Match, Actions: fm.Instructions.Apply, Cookie: fm.Cookie}
}

func fls(t testing.TB, ss ...string) []Flow {
	t.Helper()
	var out []Flow
	for _, s := range ss {
		out = append(out, fl(t, s))
	}
	return out
}

// addMod is the flow mod that adds f.
func addMod(f Flow) *openflow.FlowMod {
	fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
	fm.Cookie, fm.Match, fm.Instructions.Apply = f.Cookie, f.Match, f.Actions
	return fm
}

// render is the desired table as dump-flows --no-stats lines.
func render(d *Desired) string {
	var lines []string
	for _, f := range d.Flows() {
		lines = append(lines, addMod(f).DumpString())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestDesiredSetRemove(t *testing.T) {
	d := NewDesired(nil)
	d.Set("a", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)", "table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1"))
	d.Set("b", fls(t, "table=0,priority=100,in_port=2 actions=resubmit(,8)"))
	want := strings.Join([]string{
		"priority=100,in_port=1 actions=resubmit(,8)",
		"priority=100,in_port=2 actions=resubmit(,8)",
		"table=65, priority=100,reg15=0x1,metadata=0x1 actions=output:1",
	}, "\n")
	if diff := cmp.Diff(want, render(d)); diff != "" {
		t.Fatalf("desired (-want +got):\n%s", diff)
	}
	d.Set("a", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,9)"))
	d.Remove("b")
	want = "priority=100,in_port=1 actions=resubmit(,9)"
	if diff := cmp.Diff(want, render(d)); diff != "" {
		t.Fatalf("after set and remove (-want +got):\n%s", diff)
	}
	if got := d.Owners(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("owners = %v, want [a]", got)
	}
}

func TestDesiredSharedFlowInstalledOnce(t *testing.T) {
	d := NewDesired(nil)
	shared := "table=41,priority=0 actions=resubmit(,42)"
	d.Set("x", fls(t, shared))
	d.Set("y", fls(t, shared, shared))
	if d.Len() != 1 {
		t.Fatalf("len = %d, want 1", d.Len())
	}
	d.Remove("x")
	if diff := cmp.Diff("table=41, priority=0 actions=resubmit(,42)", render(d)); diff != "" {
		t.Fatalf("the flow must stay while y still wants it (-want +got):\n%s", diff)
	}
	d.Remove("y")
	if d.Len() != 0 {
		t.Fatalf("len = %d after both owners left", d.Len())
	}
}

func TestDesiredConflictFirstOwnerWins(t *testing.T) {
	for _, order := range [][]string{{"b", "a"}, {"a", "b"}} {
		var logs bytes.Buffer
		d := NewDesired(slog.New(slog.NewTextHandler(&logs, nil)))
		acts := map[string]string{"a": "output:1", "b": "output:2"}
		for _, o := range order {
			d.Set(o, fls(t, "table=65,priority=100,reg15=0x1 actions="+acts[o]))
		}
		if got := render(d); got != "table=65, priority=100,reg15=0x1 actions=output:1" {
			t.Errorf("set in order %v: %s, want owner a's flow", order, got)
		}
		if l := logs.String(); !strings.Contains(l, "conflicting flows") || !strings.Contains(l, `match="reg15=0x1" winner=a loser=b`) {
			t.Errorf("set in order %v: conflict not logged: %q", order, logs.String())
		}
		d.Remove("a")
		if got := render(d); got != "table=65, priority=100,reg15=0x1 actions=output:2" {
			t.Errorf("after a left: %s, want b's flow", got)
		}
	}
}

func TestInstallerSendsOnlyTheDifference(t *testing.T) {
	ctx := context.Background()
	sw := newFakeSwitch()
	// Left by an earlier controller: one flow still wanted, one stale,
	// one with old actions.
	for _, s := range []string{
		"table=0,priority=100,in_port=1 actions=resubmit(,8)",
		"table=0,priority=100,in_port=9 actions=resubmit(,8)",
		"table=65,priority=100,reg15=0x1 actions=output:7",
	} {
		sw.Bundle(ctx, 0, []openflow.Message{addMod(fl(t, s))})
	}
	sw.bundles = nil
	in := NewInstaller(nil)
	if _, err := in.Install(ctx, NewDesired(nil)); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("install before sync: %v, want ErrNotSynced", err)
	}
	if err := in.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sw.tlv, GeneveOption) {
		t.Fatalf("geneve option not mapped: %v", sw.tlv)
	}
	d := NewDesired(nil)
	d.Set("p1", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)", "table=65,priority=100,reg15=0x1 actions=output:1"))
	st, err := in.Install(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DEL_STRICT table:0 priority=100,in_port=9 actions=drop",
		"MOD_STRICT table:65 priority=100,reg15=0x1 actions=output:1",
	}
	if diff := cmp.Diff(want, sw.lastBundle()); diff != "" {
		t.Fatalf("first bundle (-want +got):\n%s", diff)
	}
	if (st != Stats{Modified: 1, Deleted: 1}) {
		t.Errorf("stats %+v", st)
	}
	n := len(sw.bundles)
	if st, err := in.Install(ctx, d); err != nil || !st.Empty() || len(sw.bundles) != n {
		t.Fatalf("install with no change: %+v %v, %d bundles (want none sent)", st, err, len(sw.bundles)-n)
	}
	d.Set("p2", fls(t, "table=0,priority=100,in_port=2 actions=resubmit(,8)"))
	d.Remove("p1")
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	want = []string{ // deletes first: a delete never removes what the bundle adds
		"DEL_STRICT table:0 priority=100,in_port=1 actions=drop",
		"DEL_STRICT table:65 priority=100,reg15=0x1 actions=drop",
		"ADD priority=100,in_port=2 actions=resubmit(,8)",
	}
	if diff := cmp.Diff(want, sw.lastBundle()); diff != "" {
		t.Fatalf("second bundle (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

// TestMatchKey: the ways of writing one match that the switch treats as
// the same get one key; different matches do not.
func TestMatchKey(t *testing.T) {
	reg := func(n int) *openflow.Field { return openflow.Reg(n) }
	same := [][2]openflow.Match{
		{{reg(14).Exact(1), openflow.F("metadata").Exact(2)}, {openflow.F("metadata").Exact(2), reg(14).Exact(1)}},
		{{reg(14).Exact(1), reg(15).Exact(2)}, {openflow.F("xreg7").Exact(1<<32 | 2)}},
		{{reg(14).Exact(1)}, {openflow.F("xreg7").Masked(1<<32, 0xffffffff<<32)}},
		{{reg(10).Masked(0x10, 0x10)}, {reg(10).Masked(0x13, 0x10)}},
		{{reg(10).Masked(5, 0xffffffff)}, {reg(10).Exact(5)}},
		{{openflow.F("in_port").Exact(3)}, {openflow.F("in_port_oxm").Exact(3)}},
		{{openflow.F("in_port").Exact(0xfffd)}, {openflow.F("in_port_oxm").Exact(0xfffffffd)}},
		{{openflow.TunMetadata(0).Exact(3)}, {openflow.TunMetadata(0).Bytes([]byte{3}, nil)}},
		{{openflow.F("metadata").Masked(7, 0), reg(1).Exact(1)}, {reg(1).Exact(1)}},
		{{openflow.F("xxreg0").Masked(5, 0xffffffff)}, {reg(3).Exact(5)}},
	}
	for _, c := range same {
		if a, b := MatchKey(c[0]), MatchKey(c[1]); a != b {
			t.Errorf("%v and %v: keys differ", c[0], c[1])
		}
	}
	differ := [][2]openflow.Match{
		{{reg(14).Exact(1)}, {reg(15).Exact(1)}},
		{{reg(14).Exact(0)}, {}},
		{{reg(10).Masked(0, 1)}, {reg(10).Masked(0, 3)}},
		{{openflow.F("in_port").Exact(3)}, {openflow.F("in_port").Exact(4)}},
		{{openflow.F("in_port").Exact(0xfffd)}, {openflow.F("in_port_oxm").Exact(0xfffd)}},
		{{reg(1).Exact(1)}, {reg(2).Exact(1)}},
		{{openflow.F("eth_dst").Bytes(make([]byte, 6), nil)}, {openflow.F("eth_src").Bytes(make([]byte, 6), nil)}},
		{{openflow.F("metadata").Masked(0, 1)}, {openflow.F("metadata").Masked(0, 0x100)}},
	}
	for _, c := range differ {
		if a, b := MatchKey(c[0]), MatchKey(c[1]); a == b {
			t.Errorf("%v and %v: same key", c[0], c[1])
		}
	}
}

// A match key decodes back to the same match, in an order the switch
// accepts (prerequisites first), at the fields' widths.
func TestMatchKeyRoundTrip(t *testing.T) {
	for _, s := range []string{
		"priority=1,tcp,reg14=0x3,metadata=0x1,nw_src=10.0.0.0/8,tp_dst=80",
		"priority=1,ct_state=-new+est+trk,ct_mark=0x1/0x1,ct_label=0x1/0x1,ipv6,ipv6_src=fd00::/64",
		"priority=1,icmp6,icmp_type=135,nd_target=fd00::1,dl_src=00:00:00:00:00:01",
		"priority=1,in_port=7,dl_vlan=5,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
		"priority=1,tun_id=0x5,tun_metadata0=0x10003,reg10=0/0x1",
		"priority=1,conj_id=7,arp,arp_tpa=10.0.0.1,arp_op=1,xreg0=0x100000002",
	} {
		m := fl(t, s+" actions=drop").Match
		key := MatchKey(m)
		got, err := decodeMatchKey(key)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got.String() != m.String() || MatchKey(got) != key {
			t.Errorf("%s: decodes as %s", m, got)
		}
		fm, err := flowMod(openflow.FlowAdd, fkey("\x05\xff\xfe"+key), "\x00\x00\x00\x00\x00\x00\x00\x01")
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		b, err := openflow.Marshal(1, fm)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if _, dec, err := openflow.Unmarshal(b); err != nil || dec.(*openflow.FlowMod).DumpString() !=
			"cookie=0x1, table=5, priority=1,"+m.String()+" actions=drop" {
			t.Errorf("%s: flow mod from the key: %v %v", s, dec, err)
		}
	}
	for _, bad := range []string{"\x00\x01\x05", "\x03\x05\x01", "\xff\x01\x01"} {
		if _, err := decodeMatchKey(bad); err == nil {
			t.Errorf("key %q decodes", bad)
		}
	}
}

// A flow that cannot be encoded is logged and left out; the owner's
// other flows stay.
func TestDesiredBadFlow(t *testing.T) {
	var logs bytes.Buffer
	d := NewDesired(slog.New(slog.NewTextHandler(&logs, nil)))
	good := fl(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)")
	for _, m := range []openflow.Match{
		{{Value: []byte{1}}},
		{{Field: openflow.Reg(1), Value: []byte{0, 0, 0, 1}, Mask: []byte{1}}},
		{{Field: openflow.F("eth_type"), Value: []byte{1, 0, 0}}},
		{openflow.Reg(1).Exact(1), openflow.F("xreg0").Exact(1)},
	} {
		logs.Reset()
		d.Set("a", []Flow{{Table: 1, Priority: 5, Match: m}, good})
		if got := render(d); got != "priority=100,in_port=1 actions=resubmit(,8)" {
			t.Errorf("match %v: desired %q, want only the good flow", m, got)
		}
		if !strings.Contains(logs.String(), "flow left out") {
			t.Errorf("match %v: not logged: %q", m, logs.String())
		}
	}
	d.Set("a", []Flow{{Table: 1, Priority: 5, Actions: []openflow.Action{&openflow.SetField{}}}, good})
	if got := render(d); got != "priority=100,in_port=1 actions=resubmit(,8)" {
		t.Errorf("bad action: desired %q, want only the good flow", got)
	}
}

func TestInstallerFailedBundleNeedsSync(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	d.Set("a", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)"))
	sw.failAt = 1
	if _, err := in.Install(ctx, d); err == nil {
		t.Fatal("install succeeded although the switch rejected the bundle")
	}
	if _, err := in.Install(ctx, d); !errors.Is(err, ErrNotSynced) {
		t.Fatalf("install after a failure: %v, want ErrNotSynced", err)
	}
	if err := in.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	// The change whose bundle failed is sent again after the resync.
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

func TestInstallerGroups(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	g := Group{ID: 1, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{ID: 0, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(9)}}}}
	d.SetGroups("lb", []Group{g})
	d.Set("lb", fls(t, "table=13,priority=100,ip actions=group:1"))
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	got := sw.lastBundle()
	if len(got) != 2 || !strings.HasPrefix(got[0], "ADD group_id=1,type=select") {
		t.Fatalf("group must be added before the flow using it: %q", got)
	}
	d.Remove("lb")
	d.RemoveGroups("lb")
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	got = sw.lastBundle()
	if len(got) != 2 || !strings.HasPrefix(got[1], "DEL group_id=1") {
		t.Fatalf("group must be deleted after the flow using it: %q", got)
	}
	if sw.dump() != "" {
		t.Fatalf("switch not empty: %s", sw.dump())
	}
}

// TestInstallerRejectedFlow: a flow the switch refuses (here: it names a
// group that does not exist) is set aside, everything else is installed;
// once the group appears, the flow goes in too.
func TestInstallerRejectedFlow(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	d.Set("good", fls(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)"))
	d.Set("lb", fls(t, "table=13,priority=100,ip actions=group:9"))
	st, err := in.Install(ctx, d)
	if err != nil {
		t.Fatalf("one bad flow failed the install: %v", err)
	}
	if st.Rejected != 1 {
		t.Errorf("stats %+v, want 1 rejected", st)
	}
	if got := sw.dump(); got != "priority=100,in_port=1 actions=resubmit(,8)" {
		t.Fatalf("switch: %q, want the good flow only", got)
	}
	d.Set("more", fls(t, "table=0,priority=100,in_port=2 actions=resubmit(,8)"))
	if st, err := in.Install(ctx, d); err != nil || st.Added != 1 || st.Rejected != 1 {
		t.Fatalf("next change: %+v %v, want it added and the bad flow still out", st, err)
	}
	d.SetGroups("lb", []Group{{ID: 9, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{ID: 0, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(14)}}}}})
	if st, err := in.Install(ctx, d); err != nil || st.GroupsAdded != 1 || st.Added != 1 || st.Rejected != 0 {
		t.Fatalf("with the group: %+v %v, want the group and the flow added", st, err)
	}
	if diff := cmp.Diff(render(d), flowsOnly(sw.dump())); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

// flowsOnly drops the groups from a fake switch dump.
func flowsOnly(dump string) string {
	var out []string
	for _, l := range strings.Split(dump, "\n") {
		if !strings.HasPrefix(l, "group_id=") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestInstallerMeters: meters go in before the flows that use them and
// out after, outside the bundle; a fresh installer reads them back.
func TestInstallerMeters(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	m := Meter{ID: 3, Flags: openflow.MeterPktps | openflow.MeterBurst,
		Bands: []openflow.MeterBand{{Type: openflow.BandDrop, Rate: 10, BurstSize: 20}}}
	d.SetMeters("acl-log", []Meter{m})
	d.Set("acl-log", fls(t, "table=44,priority=100,ip actions=meter:3,resubmit(,45)"))
	if st, err := in.Install(ctx, d); err != nil || st.MetersAdded != 1 || st.Added != 1 {
		t.Fatalf("install: %+v %v", st, err)
	}
	fresh := NewInstaller(nil)
	if err := fresh.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Fatalf("fresh installer: %+v %v, want nothing to change", st, err)
	}
	m.Bands[0].Rate = 50
	d.SetMeters("acl-log", []Meter{m})
	if st, err := fresh.Install(ctx, d); err != nil || (st != Stats{MetersModified: 1}) {
		t.Fatalf("change: %+v %v", st, err)
	}
	d.Remove("acl-log")
	d.RemoveMeters("acl-log")
	if st, err := fresh.Install(ctx, d); err != nil || (st != Stats{Deleted: 1, MetersDeleted: 1}) {
		t.Fatalf("remove: %+v %v", st, err)
	}
	want := []string{"meter 3 cmd 0", "bundle", "meter 3 cmd 1", "bundle", "meter 3 cmd 2"}
	if diff := cmp.Diff(want, sw.events); diff != "" {
		t.Errorf("order of meter mods and bundles (-want +got):\n%s", diff)
	}
}

// TestIncrementalEqualsFull applies random changes owner by owner and
// checks that the switch, after incremental installs, holds what a fresh
// installer computing everything would install.
func TestIncrementalEqualsFull(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	owners := []string{"a", "b", "c", "d", "e"}
	pool := []string{
		"table=0,priority=100,in_port=1 actions=resubmit(,8)",
		"table=0,priority=100,in_port=1 actions=resubmit(,9)",
		"table=0,priority=100,in_port=2 actions=resubmit(,8)",
		"table=40,priority=100,reg15=0x1,metadata=0x1 actions=resubmit(,41)",
		"table=41,priority=0 actions=resubmit(,42)",
		"table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1",
		"cookie=0x5,table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1",
		"table=65,priority=0 actions=drop",
	}
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	for step := range 300 {
		o := owners[r.IntN(len(owners))]
		if r.IntN(4) == 0 {
			d.Remove(o)
		} else {
			var ss []string
			for range r.IntN(4) {
				ss = append(ss, pool[r.IntN(len(pool))])
			}
			d.Set(o, fls(t, ss...))
		}
		if _, err := in.Install(ctx, d); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
			t.Fatalf("step %d: switch differs from desired (-want +got):\n%s", step, diff)
		}
	}
	// A fresh installer on the same switch has nothing to change.
	fresh := NewInstaller(nil)
	if err := fresh.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Fatalf("fresh installer: %+v %v, want no change", st, err)
	}
}

// Setting the flows an owner already has, as a full recompute does,
// leaves nothing for the installer; changing one flow marks that one.
func TestDesiredSetUnchangedMarksNothing(t *testing.T) {
	d := NewDesired(nil)
	flows := []string{
		"cookie=0xa,table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)",
		"cookie=0xa,table=44,priority=2001,ip,reg15=0x2 actions=conjunction(7,1/2)",
		"cookie=0xa,table=65,priority=0 actions=drop",
	}
	d.Set("a", fls(t, flows...))
	d.Set("b", fls(t, "table=44,priority=2001,ip,reg15=0x2 actions=conjunction(3,1/2)"))
	d.flows.takeDirty()
	d.Set("a", fls(t, flows...))
	d.Set("b", fls(t, "table=44,priority=2001,ip,reg15=0x2 actions=conjunction(3,1/2)"))
	if dirty, all := d.flows.takeDirty(); len(dirty) != 0 || all {
		t.Fatalf("%d keys dirty (all: %v) after setting the same flows", len(dirty), all)
	}
	flows[0] = "cookie=0xa,table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,10)"
	d.Set("a", fls(t, flows...))
	dirty, all := d.flows.takeDirty()
	if len(dirty) != 1 || all {
		t.Fatalf("%d keys dirty after changing one flow", len(dirty))
	}
	for k := range dirty {
		if got := renderMatch(k); got != "reg14=0x1,metadata=0x1" {
			t.Errorf("dirty: %s", got)
		}
	}
	if got := render(d); !strings.Contains(got, "actions=conjunction(3,1/2),conjunction(7,1/2)") ||
		!strings.Contains(got, "actions=resubmit(,10)") {
		t.Errorf("desired:\n%s", got)
	}
}

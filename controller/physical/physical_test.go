package physical

import (
	"flag"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden from the current output")

// render is one flow as dump-flows --no-stats prints it.
func render(f flowtable.Flow) string {
	fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
	fm.Cookie, fm.Match, fm.Instructions.Apply = f.Cookie, f.Match, f.Actions
	return fm.DumpString()
}

func renderAll(fs []flowtable.Flow) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = render(f)
	}
	return out
}

// sampleInput is chassis "hv1" with: switch 1 (VIF a with port security,
// localport lp, VIF b on hv2, VIF c on hv3, router port to router 3),
// switch 2 (VIF d, localnet ln tagged 7, VIF e on hv2 reached through
// ln), router 3, container ct in VLAN 42 of a; tunnels to hv2 (Geneve) and hv3 (VXLAN).
func sampleInput() Input {
	return Input{
		Chassis: "hv1",
		Datapaths: []Datapath{{Key: 1, DNATZone: 10, SNATZone: 11}, {Key: 2, DNATZone: 12, SNATZone: 13},
			{Key: 3, DNATZone: 14, SNATZone: 15}},
		Ports: []Port{
			{UUID: "aaaaaaaa-0000-0000-0000-000000000001", Name: "a", Datapath: 1, Key: 1, Chassis: "hv1", OFPort: 5, Zone: 1,
				PortSecurity: []string{"00:00:00:00:00:0a 10.0.0.10/24 fd00::a"}},
			{UUID: "bbbbbbbb-0000-0000-0000-000000000002", Name: "lp", Datapath: 1, Key: 2, Type: TypeLocalport, OFPort: 6, Zone: 2},
			{UUID: "cccccccc-0000-0000-0000-000000000003", Name: "b", Datapath: 1, Key: 3, Chassis: "hv2"},
			{UUID: "dddddddd-0000-0000-0000-000000000004", Name: "c", Datapath: 1, Key: 4, Chassis: "hv3"},
			{UUID: "eeeeeeee-0000-0000-0000-000000000005", Name: "s1-r", Datapath: 1, Key: 5, Type: TypePatch, Peer: "r-s1"},
			{UUID: "ffffffff-0000-0000-0000-000000000006", Name: "r-s1", Datapath: 3, Key: 1, Type: TypePatch, Peer: "s1-r"},
			{UUID: "11111111-0000-0000-0000-000000000007", Name: "d", Datapath: 2, Key: 1, Chassis: "hv1", OFPort: 7, Zone: 3},
			{UUID: "22222222-0000-0000-0000-000000000008", Name: "ln", Datapath: 2, Key: 2, Type: TypeLocalnet, OFPort: 8, Zone: 4, Tag: 7},
			{UUID: "33333333-0000-0000-0000-000000000009", Name: "e", Datapath: 2, Key: 3, Chassis: "hv2"},
			{UUID: "66666666-0000-0000-0000-00000000000c", Name: "ct", Datapath: 1, Key: 6, Chassis: "hv1", Parent: "a", Tag: 42, Zone: 5},
			{UUID: "12121212-0000-0000-0000-000000000010", Name: "x", Datapath: 2, Key: 4, Type: TypeExternal, Chassis: "hv1",
				MAC: []string{"00:00:00:00:00:e1 10.0.0.41"}},
			{UUID: "13131313-0000-0000-0000-000000000011", Name: "vip", Datapath: 1, Key: 7, Type: TypeVirtual, Chassis: "hv2"},
		},
		MulticastGroups: []MulticastGroup{
			{UUID: "44444444-0000-0000-0000-00000000000a", Datapath: 1, Key: 0x8000, Members: []string{"a", "lp", "b", "c", "s1-r", "ct"}},
			{UUID: "55555555-0000-0000-0000-00000000000b", Datapath: 2, Key: 0x8000, Members: []string{"d", "ln", "e"}},
		},
		Tunnels: []Tunnel{{Chassis: "hv2", Type: Geneve, OFPort: 1}, {Chassis: "hv3", Type: VXLAN, OFPort: 2}},
		MACBindings: []MACBinding{
			{UUID: "77777777-0000-0000-0000-00000000000d", Port: "r-s1", IP: netip.MustParseAddr("10.0.0.99"),
				MAC: net.HardwareAddr{0, 0, 0, 0, 9, 0x99}},
			{UUID: "88888888-0000-0000-0000-00000000000e", Port: "r-s1", IP: netip.MustParseAddr("fd00::98"),
				MAC: net.HardwareAddr{0, 0, 0, 0, 9, 0x98}, Static: true, Override: true},
		},
		FDBs: []FDB{{UUID: "99999999-0000-0000-0000-00000000000f", Datapath: 2, Port: 2, MAC: net.HardwareAddr{0, 0, 0, 0, 0xf, 1}}},
	}
}

// TestGolden renders every flow of the sample, by owner, against
// testdata/sample.golden (go test -rewrite to regenerate after checking
// the difference by eye against ovn-controller's behaviour; TestOracle
// does that comparison for real).
func TestGolden(t *testing.T) {
	flows, err := Flows(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	owners := make([]string, 0, len(flows))
	for o := range flows {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	for _, o := range owners {
		b.WriteString("# " + o + "\n")
		for _, l := range renderAll(flows[o]) {
			b.WriteString(l + "\n")
		}
	}
	path := filepath.Join("testdata", "sample.golden")
	if *rewrite {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("flows differ from %s (-want +got):\n%s", path, diff)
	}
}

// has reports whether some flow renders with every one of subs.
func has(fs []flowtable.Flow, subs ...string) bool {
	for _, l := range renderAll(fs) {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestBehaviour(t *testing.T) {
	flows, err := Flows(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	port := func(uuid string) []flowtable.Flow { return flows[PortOwner(uuid)] }
	for _, c := range []struct {
		what  string
		flows []flowtable.Flow
		subs  []string
	}{
		{"VIF ingress sets zones, datapath and inport", port("aaaaaaaa-0000-0000-0000-000000000001"),
			[]string{"priority=100,in_port=5 ", "set_field:0x1->reg13,set_field:0xa->reg11,set_field:0xb->reg12,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)"}},
		{"localport traffic never takes a tunnel", port("bbbbbbbb-0000-0000-0000-000000000002"),
			[]string{"table=39, priority=150,reg14=0x2,metadata=0x1 actions=resubmit(,40)"}},
		{"localport ingress marks flags.localport", port("bbbbbbbb-0000-0000-0000-000000000002"),
			[]string{"in_port=6 ", "set_field:0x400/0x400->reg10,resubmit(,8)"}},
		{"geneve remote port: VNI = datapath, option = inport<<16 | outport", port("cccccccc-0000-0000-0000-000000000003"),
			[]string{"table=39, priority=100,reg15=0x3,metadata=0x1", "set_field:0x1/0xffffff->tun_id,set_field:0x3->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:1"}},
		{"vxlan remote port: VNI = outport<<12 | datapath", port("dddddddd-0000-0000-0000-000000000004"),
			[]string{"table=39, priority=100,reg15=0x4,metadata=0x1", "set_field:0x4001/0xffffff->tun_id,output:2"}},
		{"patch port re-enters the peer datapath in a clone", port("eeeeeeee-0000-0000-0000-000000000005"),
			[]string{"table=65, priority=100,reg15=0x5,metadata=0x1 actions=clone(ct_clear,", "set_field:0xe->reg11,set_field:0xf->reg12,set_field:0x3->metadata,set_field:0x1->reg14,", "resubmit(,8))"}},
		{"remote port of a localnet datapath goes out the localnet port", port("33333333-0000-0000-0000-000000000009"),
			[]string{"table=40, priority=100,reg15=0x3,metadata=0x2 actions=set_field:0x2->reg15,resubmit(,40)"}},
		{"tagged localnet ingress pops the VLAN", port("22222222-0000-0000-0000-000000000008"),
			[]string{"priority=150,in_port=8,dl_vlan=7 actions=pop_vlan,"}},
		{"tagged localnet egress pushes the VLAN", port("22222222-0000-0000-0000-000000000008"),
			[]string{"table=65, priority=100,reg15=0x2,metadata=0x2 actions=push_vlan:0x8100,set_field:4103->vlan_vid,output:8,pop_vlan"}},
		{"local-only traffic never leaves through localnet", port("22222222-0000-0000-0000-000000000008"),
			[]string{"table=41, priority=160,reg10=0x10/0x10,reg15=0x2,metadata=0x2 actions=drop"}},
		{"loopback check", port("11111111-0000-0000-0000-000000000007"),
			[]string{"table=41, priority=100,reg10=0/0x1,reg14=0x1,reg15=0x1,metadata=0x2 actions=drop"}},
		{"in_port saved when loopback is allowed", port("11111111-0000-0000-0000-000000000007"),
			[]string{"table=64, priority=100,reg10=0x1/0x1,reg15=0x1,metadata=0x2 actions=push:NXM_OF_IN_PORT[],set_field:ANY->in_port,resubmit(,65),pop:NXM_OF_IN_PORT[]"}},
		{"multicast: local members in table 40", flows[MulticastOwner("44444444-0000-0000-0000-00000000000a")],
			[]string{"table=40, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x5->reg13,set_field:0x6->reg15,resubmit(,41),set_field:0x1->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x2->reg13,set_field:0x8000->reg15"}},
		{"multicast: patch and localport members once, then each remote chassis once", flows[MulticastOwner("44444444-0000-0000-0000-00000000000a")],
			[]string{"table=39, priority=100,reg15=0x8000,metadata=0x1 actions=set_field:0x2->reg15,resubmit(,41),set_field:0x5->reg15,resubmit(,41),set_field:0x8000->reg15,set_field:0x1/0xffffff->tun_id,set_field:0x8000->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:1,set_field:0x800001/0xffffff->tun_id,output:2,resubmit(,40)"}},
		{"multicast on a localnet datapath: no tunnels", flows[MulticastOwner("55555555-0000-0000-0000-00000000000b")],
			[]string{"table=40, priority=100,reg15=0x8000,metadata=0x2 actions=set_field:0x3->reg13,set_field:0x1->reg15,resubmit(,41),set_field:0x4->reg13,set_field:0x2->reg15,resubmit(,41),set_field:0x8000->reg15"}},
		{"geneve ingress", flows[TunnelOwner("hv2")],
			[]string{"priority=100,in_port=1 actions=move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,40)"}},
		{"vxlan ingress of a multicast group", flows[TunnelOwner("hv3")],
			[]string{"priority=105,tun_id=0x800000/0x800000,in_port=2 actions=set_field:0x8000/0x8000->reg15,move:NXM_NX_TUN_ID[12..22]->NXM_NX_REG15[0..10],move:NXM_NX_TUN_ID[0..11]->OXM_OF_METADATA[0..11],resubmit(,40)"}},
		{"nested container ingress: VLAN of its parent's interface", port("66666666-0000-0000-0000-00000000000c"),
			[]string{"priority=150,in_port=5,dl_vlan=42 actions=set_field:0x20/0x20->reg10,pop_vlan,set_field:0x5->reg13"}},
		{"nested container egress", port("66666666-0000-0000-0000-00000000000c"),
			[]string{"table=65, priority=100,reg15=0x6,metadata=0x1 actions=push_vlan:0x8100,set_field:4138->vlan_vid,output:5,pop_vlan"}},
		{"external port served here: out the localnet port", port("12121212-0000-0000-0000-000000000010"),
			[]string{"table=40, priority=100,reg15=0x4,metadata=0x2 actions=set_field:0x2->reg15,resubmit(,40)"}},
		{"localport traffic may reach an external port through localnet", port("22222222-0000-0000-0000-000000000008"),
			[]string{"table=41, priority=170,reg10=0x400/0x400,reg15=0x2,metadata=0x2,dl_dst=00:00:00:00:00:e1 actions=set_field:0->reg0,"}},
		{"virtual port claimed on another chassis: tunnel there", port("13131313-0000-0000-0000-000000000011"),
			[]string{"table=39, priority=100,reg15=0x7,metadata=0x1 actions=set_field:0x1/0xffffff->tun_id,set_field:0x7->tun_metadata0,"}},
		{"learned neighbour: get_arp", flows[MACBindingOwner("77777777-0000-0000-0000-00000000000d")],
			[]string{"table=66, priority=100,reg0=0xa000063,reg15=0x1,metadata=0x3 actions=set_field:00:00:00:00:09:99->eth_dst,set_field:0x40/0x40->reg10"}},
		{"static neighbour overriding learned ones: lookup_nd", flows[MACBindingOwner("88888888-0000-0000-0000-00000000000e")],
			[]string{"table=67, priority=150,icmp6,reg0=0xfd000000,reg1=0,reg2=0,reg3=0x98,reg14=0x1,metadata=0x3,dl_src=00:00:00:00:09:98,icmp_code=0 actions=set_field:0x40/0x40->reg10"}},
		{"learned MAC: get_fdb", flows[FDBOwner("99999999-0000-0000-0000-00000000000f")],
			[]string{"table=71, priority=100,metadata=0x2,dl_dst=00:00:00:00:0f:01 actions=set_field:0x2->reg15"}},
		{"learned MAC: lookup_fdb", flows[FDBOwner("99999999-0000-0000-0000-00000000000f")],
			[]string{"table=72, priority=100,reg14=0x2,metadata=0x2,dl_src=00:00:00:00:0f:01 actions=set_field:0x100/0x100->reg10"}},
		{"port security: IPv4 source allowed", port("aaaaaaaa-0000-0000-0000-000000000001"),
			[]string{"table=73, priority=90,ip,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:0a,nw_src=10.0.0.10 actions=set_field:0/0x1000->reg10"}},
		{"port security: subnet broadcast allowed out", port("aaaaaaaa-0000-0000-0000-000000000001"),
			[]string{"table=75, priority=95,ip,reg15=0x1,metadata=0x1,dl_dst=00:00:00:00:00:0a,nw_dst=10.0.0.255 actions=set_field:0/0x1000->reg10"}},
		{"port security: anything else fails", port("aaaaaaaa-0000-0000-0000-000000000001"),
			[]string{"table=73, priority=80,reg14=0x1,metadata=0x1 actions=set_field:0x1000/0x1000->reg10"}},
	} {
		if !has(c.flows, c.subs...) {
			t.Errorf("%s: no flow with %q among\n%s", c.what, c.subs, strings.Join(renderAll(c.flows), "\n"))
		}
	}
	if fs := port("22222222-0000-0000-0000-000000000008"); has(fs, "table=73") {
		t.Errorf("a localnet port has no port security tables")
	}
}

// TestOwnerEqualsAll checks that recomputing one owner gives what the full
// computation gives for it.
func TestOwnerEqualsAll(t *testing.T) {
	b, err := NewBuilder(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	all := b.All()
	for o, fs := range all {
		if !IsOwner(o) {
			t.Errorf("%s is not recognised as a physical owner", o)
		}
		if diff := cmp.Diff(renderAll(fs), renderAll(b.Owner(o))); diff != "" {
			t.Errorf("owner %s recomputed alone differs (-all +alone):\n%s", o, diff)
		}
	}
	if fs := b.Owner(PortOwner("no-such-port")); fs != nil {
		t.Errorf("unknown owner has flows: %v", renderAll(fs))
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		what   string
		change func(*Input)
		want   string
	}{
		{"unknown datapath", func(in *Input) { in.Ports[0].Datapath = 9 }, "datapath 9 is not local"},
		{"duplicate port", func(in *Input) { in.Ports[1].Name = "a" }, "two Port_Bindings"},
		{"port key in multicast range", func(in *Input) { in.Ports[0].Key = 0x8000 }, "out of range"},
		{"multicast key too small", func(in *Input) { in.MulticastGroups[0].Key = 5 }, "out of range"},
		{"tunnel type", func(in *Input) { in.Tunnels[0].Type = "gre" }, `type "gre"`},
		{"tunnel ofport", func(in *Input) { in.Tunnels[0].OFPort = 0 }, "no ofport"},
		{"datapath key", func(in *Input) { in.Datapaths[0].Key = 1 << 24 }, "out of range"},
	} {
		in := sampleInput()
		c.change(&in)
		if _, err := Flows(in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.what, err, c.want)
		}
	}
}

func TestBadPortSecuritySkipped(t *testing.T) {
	in := sampleInput()
	in.Ports[0].PortSecurity = []string{"not-a-mac 10.0.0.1", "00:00:00:00:00:0a 10.0.0.300", "00:00:00:00:00:0b"}
	b, err := NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	fs := b.Owner(PortOwner(in.Ports[0].UUID))
	if !has(fs, "table=73, priority=90,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:0b actions=resubmit(,74)") {
		t.Errorf("the valid entry lost its flows:\n%s", strings.Join(renderAll(fs), "\n"))
	}
	if has(fs, "00:00:00:00:00:0a") {
		t.Errorf("an invalid entry produced flows")
	}
	if got := b.Warnings(); len(got) != 2 {
		t.Errorf("warnings %q, want the two bad entries", got)
	}
}

// TestIncrementalEqualsFull applies random changes to the sample input and
// checks that updating a desired table with only the owners Changes
// names gives the same table as computing everything anew.
func TestIncrementalEqualsFull(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mutations := []func(in *Input){
		func(in *Input) { p := &in.Ports[r.IntN(len(in.Ports))]; p.Zone = uint16(r.IntN(5)) },
		func(in *Input) { p := &in.Ports[r.IntN(len(in.Ports))]; p.OFPort = uint32(r.IntN(3) * 10) },
		func(in *Input) {
			p := &in.Ports[r.IntN(len(in.Ports))]
			p.Chassis = []string{"", "hv1", "hv2", "hv3"}[r.IntN(4)]
		},
		func(in *Input) { d := &in.Datapaths[r.IntN(len(in.Datapaths))]; d.DNATZone = uint16(r.IntN(30)) },
		func(in *Input) {
			if len(in.Tunnels) > 0 {
				in.Tunnels[r.IntN(len(in.Tunnels))].OFPort = uint32(1 + r.IntN(4))
			}
		},
		func(in *Input) {
			if len(in.Tunnels) > 0 {
				in.Tunnels[r.IntN(len(in.Tunnels))].Type = []string{Geneve, VXLAN}[r.IntN(2)]
			}
		},
		func(in *Input) {
			if len(in.Tunnels) > 0 {
				in.Tunnels = in.Tunnels[1:]
			} else {
				in.Tunnels = sampleInput().Tunnels
			}
		},
		func(in *Input) {
			mc := &in.MulticastGroups[r.IntN(len(in.MulticastGroups))]
			if len(mc.Members) > 0 {
				mc.Members = mc.Members[1:]
			}
		},
		func(in *Input) { in.Ports[r.IntN(len(in.Ports))].Tag = uint16(r.IntN(3)) },
		func(in *Input) {
			if len(in.MACBindings) > 0 {
				in.MACBindings = slices.Clone(in.MACBindings)
				in.MACBindings[0].Port = []string{"r-s1", "s1-r", "gone"}[r.IntN(3)]
			}
		},
		func(in *Input) {
			if len(in.FDBs) > 0 {
				in.FDBs = slices.Clone(in.FDBs)
				in.FDBs[0].Datapath = uint32(1 + r.IntN(4))
			}
		},
		func(in *Input) {
			i := r.IntN(len(in.Ports))
			if in.Ports[i].Type == TypeVIF {
				in.Ports = slices.Delete(slices.Clone(in.Ports), i, i+1)
			}
		},
	}
	in := sampleInput()
	var prev *Builder
	d := flowtable.NewDesired(nil)
	for step := range 300 {
		if step > 0 {
			mutations[r.IntN(len(mutations))](&in)
		}
		b, err := NewBuilder(in)
		if err != nil {
			t.Fatal(err)
		}
		set, removed := b.Changes(prev)
		for _, o := range removed {
			d.Remove(o)
		}
		for _, o := range set {
			d.Set(o, b.Owner(o))
		}
		full := flowtable.NewDesired(nil)
		for o, fs := range b.All() {
			full.Set(o, fs)
		}
		if diff := cmp.Diff(renderAll(full.Flows()), renderAll(d.Flows())); diff != "" {
			t.Fatalf("step %d: incremental differs from full (-full +incremental):\n%s", step, diff)
		}
		prev = b
	}
}

// TestChangesTouchOnlyWhatChanged: a zone change of one VIF recomputes
// that port and the multicast group it belongs to, nothing else.
func TestChangesTouchOnlyWhatChanged(t *testing.T) {
	in := sampleInput()
	old, err := NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Ports = slices.Clone(in.Ports)
	in.Ports[6].Zone = 9 // VIF d
	b, err := NewBuilder(in)
	if err != nil {
		t.Fatal(err)
	}
	set, removed := b.Changes(old)
	want := []string{MulticastOwner("55555555-0000-0000-0000-00000000000b"), PortOwner("11111111-0000-0000-0000-000000000007")}
	if diff := cmp.Diff(want, set); diff != "" || len(removed) != 0 {
		t.Errorf("changes (-want +got):\n%s\nremoved %v", diff, removed)
	}
}

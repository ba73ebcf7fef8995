package lflowc

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// fakeEnv is an Env over maps: ports as "name" -> {dp, key}, resident
// ports, sets and groups.
type fakeEnv struct {
	ports    map[string][2]uint32
	mcast    map[string]uint32 // "<dp>/<name>"
	resident map[string]bool
	sets     map[string][]string
	groups   map[string][]string
	routers  map[uint32]bool
	noMeter  bool // Meter returns 0
}

func (e *fakeEnv) LookupPort(name string) (uint32, uint32, bool) {
	p, ok := e.ports[name]
	return p[0], p[1], ok
}
func (e *fakeEnv) LookupMulticast(dp uint32, name string) (uint32, bool) {
	k, ok := e.mcast[fmt.Sprintf("%d/%s", dp, name)]
	return k, ok
}
func (e *fakeEnv) Resident(p string) bool               { return e.resident[p] }
func (e *fakeEnv) Local(p string) bool                  { return e.resident[p] }
func (e *fakeEnv) AddressSet(n string) ([]string, bool) { a, ok := e.sets[n]; return a, ok }
func (e *fakeEnv) PortGroup(n string) ([]string, bool)  { a, ok := e.groups[n]; return a, ok }
func (e *fakeEnv) Router(dp uint32) bool                { return e.routers[dp] }
func (e *fakeEnv) Meter(name string) uint32 {
	if e.noMeter {
		return 0
	}
	return uint32(len(name))
}

// testEnv mirrors the oracle topology: sw0 (key 1) with sw0-p1..p3 and
// a localport, sw1 (key 2) with sw1-p1, sw1-p2.
func testEnv() *fakeEnv {
	return &fakeEnv{
		ports: map[string][2]uint32{"sw0-p1": {1, 1}, "sw0-p2": {1, 2}, "sw0-p3": {1, 3}, "sw0-lp": {1, 4},
			"sw1-p1": {2, 1}, "sw1-p2": {2, 2}},
		mcast:    map[string]uint32{"1/_MC_flood": 32768, "1/_MC_unknown": 32769},
		resident: map[string]bool{"sw0-p1": true, "sw0-p2": true, "sw1-p1": true},
		sets:     map[string][]string{"as1": {"10.0.0.11", "10.0.0.12", "10.2.0.0/16"}},
		groups:   map[string][]string{"1_pg1": {"sw0-p1", "sw0-p2"}, "2_pg1": {"sw1-p1"}, "1_pg2": {"sw0-p3"}},
		routers:  map[uint32]bool{},
	}
}

// dump renders flows as `ovs-ofctl dump-flows --no-stats` lines.
func dump(flows []flowtable.Flow) []string {
	var out []string
	for _, f := range flows {
		fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
		fm.Match, fm.Instructions.Apply, fm.Cookie = f.Match, f.Actions, f.Cookie
		out = append(out, strings.TrimSpace(fm.DumpString()))
	}
	return out
}

const uuid = "27c5db66-0000-4000-8000-000000000001"

// The expected lines are what a real ovn-controller 23.03 installed for
// the same lflows (TestOracleSwitch), reordered as the compiler emits.
var compileTests = []struct {
	name string
	lf   LogicalFlow
	dps  []uint32
	want []string
}{{
	name: "port security check, all datapaths",
	lf:   LogicalFlow{Pipeline: "ingress", TableID: 0, Priority: 50, Match: "1", Actions: "reg0[15] = check_in_port_sec(); next;"},
	dps:  []uint32{1, 2},
	want: []string{
		"cookie=0x27c5db66, table=8, priority=50,metadata=0x1 actions=set_field:0/0x1000->reg10,resubmit(,73),move:NXM_NX_REG10[12]->NXM_NX_XXREG0[111],resubmit(,9)",
		"cookie=0x27c5db66, table=8, priority=50,metadata=0x2 actions=set_field:0/0x1000->reg10,resubmit(,73),move:NXM_NX_REG10[12]->NXM_NX_XXREG0[111],resubmit(,9)",
	},
}, {
	name: "ARP responder",
	lf: LogicalFlow{Pipeline: "ingress", TableID: 19, Priority: 50, Match: "arp.tpa == 10.0.0.9 && arp.op == 1",
		Actions: "eth.dst = eth.src; eth.src = 00:00:00:00:00:09; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = 00:00:00:00:00:09; arp.tpa = arp.spa; arp.spa = 10.0.0.9; outport = inport; flags.loopback = 1; output;"},
	dps: []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=27, priority=50,arp,metadata=0x1,arp_tpa=10.0.0.9,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:00:00:00:00:00:09->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:00:00:00:00:00:09->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.0.0.9->arp_spa,move:NXM_NX_REG14[]->NXM_NX_REG15[],set_field:0x1/0x1->reg10,resubmit(,37)",
	},
}, {
	name: "stateful ACL commit, ip prerequisite multiplied out",
	lf: LogicalFlow{Pipeline: "egress", TableID: 7, Priority: 100, Match: "reg0[1] == 1 && reg0[13] == 1",
		Actions: "ct_commit { ct_mark.blocked = 0; ct_label.label = reg3; }; next;"},
	dps: []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=49, priority=100,ip,reg0=0x2002/0x2002,metadata=0x1 actions=ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(set_field:0/0x1->ct_mark,move:NXM_NX_XXREG0[0..31]->NXM_NX_CT_LABEL[96..127])),resubmit(,50)",
		"cookie=0x27c5db66, table=49, priority=100,ipv6,reg0=0x2002/0x2002,metadata=0x1 actions=ct(commit,zone=NXM_NX_REG13[0..15],nat(src),exec(set_field:0/0x1->ct_mark,move:NXM_NX_XXREG0[0..31]->NXM_NX_CT_LABEL[96..127])),resubmit(,50)",
	},
}, {
	name: "port group and address set as a conjunctive match",
	lf: LogicalFlow{Pipeline: "egress", TableID: 4, Priority: 2002,
		Match:   "reg0[8] == 1 && (outport == @pg1 && ip4 && ip4.src == $as1 && tcp.dst == {22, 80, 443})",
		Actions: "next;"},
	dps: []uint32{1},
	want: []string{
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,nw_src=10.0.0.11 actions=conjunction(1,1/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,nw_src=10.0.0.12 actions=conjunction(1,1/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,nw_src=10.2.0.0/16 actions=conjunction(1,1/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,reg15=0x1,metadata=0x1 actions=conjunction(1,2/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,reg15=0x2,metadata=0x1 actions=conjunction(1,2/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,tp_dst=22 actions=conjunction(1,3/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,tp_dst=80 actions=conjunction(1,3/3)",
		"table=46, priority=2002,tcp,reg0=0x100/0x100,metadata=0x1,tp_dst=443 actions=conjunction(1,3/3)",
		"cookie=0x27c5db66, table=46, priority=2002,conj_id=1,tcp,reg0=0x100/0x100,metadata=0x1 actions=resubmit(,47)",
	},
}, {
	name: "port group of one local port folds into the fixed match",
	lf: LogicalFlow{Pipeline: "ingress", TableID: 8, Priority: 2002, Match: "reg0[8] == 1 && (inport == @pg1 && ip4)",
		Actions: "next;"},
	dps: []uint32{2},
	want: []string{
		"cookie=0x27c5db66, table=16, priority=2002,ip,reg0=0x100/0x100,reg14=0x1,metadata=0x2 actions=resubmit(,17)",
	},
}, {
	name: "port group without local ports matches nothing",
	lf:   LogicalFlow{Pipeline: "egress", TableID: 4, Priority: 2003, Match: "outport == @pg2 && udp", Actions: "next;"},
	dps:  []uint32{1},
}, {
	name: "lflow of a port bound elsewhere is skipped",
	lf: LogicalFlow{Pipeline: "ingress", TableID: 19, Priority: 100, Match: `arp.tpa == 10.0.0.9 && arp.op == 1 && inport == "sw0-lp"`,
		Actions: "next;", Tags: map[string]string{"in_out_port": "sw0-lp"}},
	dps: []uint32{1},
}, {
	name: "outport none and multicast group",
	lf:   LogicalFlow{Pipeline: "ingress", TableID: 26, Priority: 50, Match: `outport == "none"`, Actions: `outport = "_MC_unknown"; output;`},
	dps:  []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=34, priority=50,reg15=0,metadata=0x1 actions=set_field:0x8001->reg15,resubmit(,37)",
	},
}, {
	name: "fdb lookup with argument setup, learned in table 71",
	lf:   LogicalFlow{Pipeline: "ingress", TableID: 25, Priority: 0, Match: "1", Actions: "outport = get_fdb(eth.dst); next;"},
	dps:  []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=33, priority=0,metadata=0x1 actions=set_field:0->reg15,resubmit(,71),resubmit(,34)",
	},
}, {
	name: "is_chassis_resident decided at compile time",
	lf: LogicalFlow{Pipeline: "ingress", TableID: 3, Priority: 10,
		Match: `(is_chassis_resident("sw0-p1") && eth.src == 00:00:00:00:00:01) || (is_chassis_resident("sw0-p3") && eth.src == 00:00:00:00:00:03)`, Actions: "drop;"},
	dps: []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=11, priority=10,metadata=0x1,dl_src=00:00:00:00:00:01 actions=drop",
	},
}, {
	name: "nd_na in the userdata, log",
	lf: LogicalFlow{Pipeline: "egress", TableID: 4, Priority: 1900, Match: "reg0[8] == 1 && (ip4 && icmp4)",
		Actions: `log(name="acl_log", severity=info, verdict=allow); next;`},
	dps: []uint32{2},
	want: []string{
		"cookie=0x27c5db66, table=46, priority=1900,icmp,reg0=0x100/0x100,metadata=0x2 actions=controller(userdata=00.00.00.07.00.00.00.00.00.06.61.63.6c.5f.6c.6f.67),resubmit(,47)",
	},
}, {
	name: "DHCPv4 options",
	lf: LogicalFlow{Pipeline: "ingress", TableID: 20, Priority: 100,
		Match:   `inport == "sw0-p1" && eth.src == 00:00:00:00:00:01 && ip4.src == 0.0.0.0 && ip4.dst == 255.255.255.255 && udp.src == 68 && udp.dst == 67`,
		Actions: "reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, lease_time = 3600, netmask = 255.255.255.0, router = 10.0.0.1, server_id = 10.0.0.1); next;"},
	dps: []uint32{1},
	want: []string{
		"cookie=0x27c5db66, table=28, priority=100,udp,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01,nw_src=0.0.0.0,nw_dst=255.255.255.255,tp_src=68,tp_dst=67 actions=controller(userdata=00.00.00.02.00.00.00.00.00.01.de.10.00.00.00.63.0a.00.00.0b.33.04.00.00.0e.10.01.04.ff.ff.ff.00.03.04.0a.00.00.01.36.04.0a.00.00.01,pause),resubmit(,29)",
	},
}}

func TestCompile(t *testing.T) {
	for _, tt := range compileTests {
		t.Run(tt.name, func(t *testing.T) {
			lf := tt.lf
			lf.UUID = uuid
			flows, _, err := Compile(lf, tt.dps, testEnv(), NewConjIDs())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dump(flows)); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tt := range []struct {
		lf   LogicalFlow
		want string
	}{
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: "push(reg0);"}, "action push is not supported"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: `fwd_group(liveness="true", childports="sw0-p1");`}, "liveness is not supported"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: `commit_lb_aff(vip = "10.0.0.1:80", backend = "fd00::1", proto = tcp);`}, "one family"},
		{LogicalFlow{Pipeline: "ingress", Match: "nd_rs", Actions: `reg0[5] = put_nd_ra_opts(addr_mode = "slaac", slla = 00:00:00:00:ff:01); next;`}, "prefix option needs to be set"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: `log(name="x");`}, "verdict is required"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: `reg0[3] = put_dhcp_opts(lease_time = 3600); next;`}, "offerip is missing"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: `reg0[3] = put_dhcp_opts(offerip = 10.0.0.1, frobnicate = 1); next;`}, "unknown option frobnicate"},
		{LogicalFlow{Pipeline: "sideways", Match: "1", Actions: "next;"}, "unknown pipeline"},
		{LogicalFlow{Pipeline: "ingress", TableID: 40, Match: "1", Actions: "next;"}, "out of range"},
		{LogicalFlow{Pipeline: "ingress", Match: "ip4.src ==", Actions: "next;"}, "match"},
		{LogicalFlow{Pipeline: "ingress", Match: "1", Actions: "next(table=99);"}, "out of range"},
		{LogicalFlow{Pipeline: "ingress", Match: "ip", Actions: "ct_lb_mark(backends=10.0.0.1:80);"}, "backends"},
	} {
		tt.lf.UUID = uuid
		_, _, err := Compile(tt.lf, []uint32{1}, testEnv(), NewConjIDs())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q / %q: error %v, want one containing %q", tt.lf.Match, tt.lf.Actions, err, tt.want)
		}
	}
}

func TestRefs(t *testing.T) {
	lf := LogicalFlow{UUID: uuid, Pipeline: "egress", TableID: 4, Priority: 1,
		Match: `outport == @pg1 && ip4.src == $as1 && inport == "sw0-p3"`, Actions: `outport = "_MC_flood"; next;`}
	_, refs, err := Compile(lf, []uint32{1}, testEnv(), NewConjIDs())
	if err != nil {
		t.Fatal(err)
	}
	want := Refs{Ports: []string{"_MC_flood", "sw0-p1", "sw0-p2", "sw0-p3"}, AddressSets: []string{"as1"},
		PortGroups: []string{"1_pg1"}, Multicast: []string{"1/_MC_flood"}}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

func TestConjIDsStableAndReleased(t *testing.T) {
	lf := LogicalFlow{UUID: uuid, Pipeline: "egress", TableID: 4, Priority: 1,
		Match: `ip4.src == $as1 && tcp.dst == {22, 80}`, Actions: "next;"}
	cc := NewCompiler()
	first, _, err := cc.Compile(lf, []uint32{1, 2}, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	other := lf
	other.UUID = "00000000-0000-4000-8000-000000000002"
	if _, _, err := cc.Compile(other, []uint32{1}, testEnv()); err != nil {
		t.Fatal(err)
	}
	again, _, err := cc.Compile(lf, []uint32{1, 2}, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dump(first), dump(again)); diff != "" {
		t.Errorf("recompiling changed the flows (-first +again):\n%s", diff)
	}
	if n := cc.Conj.Len(); n != 3 {
		t.Errorf("%d conjunction ids held, want 3 (two datapaths + one)", n)
	}
	cc.Release(uuid)
	if n := cc.Conj.Len(); n != 1 {
		t.Errorf("%d conjunction ids held after release, want 1", n)
	}
	if _, _, err := Compile(lf, []uint32{1}, testEnv(), nil); err == nil {
		t.Error("a conjunctive match compiled without conjunction ids")
	}
}

func TestUserdataRoundTrip(t *testing.T) {
	lf := LogicalFlow{UUID: uuid, Pipeline: "ingress", TableID: 19, Priority: 50,
		Match:   "nd_ns && ip6.dst == {fd00::11, ff02::1:ff00:11} && nd.target == fd00::11",
		Actions: "nd_na { eth.src = 00:00:00:00:00:01; ip6.src = fd00::11; nd.target = fd00::11; nd.tll = 00:00:00:00:00:01; outport = inport; flags.loopback = 1; output; };"}
	flows, _, err := Compile(lf, []uint32{1}, testEnv(), NewConjIDs())
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 2 {
		t.Fatalf("%d flows, want 2 (one per ip6.dst)", len(flows))
	}
	c, ok := flows[0].Actions[0].(*openflow.Controller)
	if !ok || c.Pause {
		t.Fatalf("action %v, want controller without pause", flows[0].Actions[0])
	}
	// What a real ovn-controller 23.03 put in this userdata.
	want := "00.00.00.03.00.00.00.00.00.19.00.10.80.00.08.06.00.00.00.00.00.01.00.00.00.19.00.18.80.00.34.10.fd.00.00.00.00.00.00.00.00.00.00.00.00.00.00.11.00.19.00.18.80.00.3e.10.fd.00.00.00.00.00.00.00.00.00.00.00.00.00.00.11.00.19.00.10.80.00.42.06.00.00.00.00.00.01.00.00.00.1c.00.18.00.20.00.00.00.00.00.00.00.01.1c.04.00.01.1e.04.00.00.00.00.00.19.00.10.00.01.15.08.00.00.00.01.00.00.00.01.ff.ff.00.10.00.00.23.20.00.0e.ff.f8.25.00.00.00"
	if got := c.String(); got != "controller(userdata="+want+")" {
		t.Errorf("got %s\nwant userdata=%s", got, want)
	}
	u, err := ParseUserdata(c.Userdata)
	if err != nil || u.Op != OpNDNA {
		t.Fatalf("ParseUserdata: %v, op %d", err, u.Op)
	}
	acts, err := u.Actions()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, a.String())
	}
	wantActs := []string{"set_field:00:00:00:00:00:01->eth_src", "set_field:fd00::11->ipv6_src", "set_field:fd00::11->nd_target",
		"set_field:00:00:00:00:00:01->nd_tll", "move:NXM_NX_REG14[]->NXM_NX_REG15[]", "set_field:0x1/0x1->reg10", "resubmit(,37)"}
	if diff := cmp.Diff(wantActs, got); diff != "" {
		t.Errorf("nested actions (-want +got):\n%s", diff)
	}
	if _, err := ParseUserdata([]byte{0, 0, 0}); err == nil {
		t.Error("short userdata parsed")
	}
}

func TestSetMeterWithoutMeter(t *testing.T) {
	lf := LogicalFlow{UUID: uuid, Pipeline: "ingress", TableID: 6, Priority: 100, Match: "1", Actions: "set_meter(1000); next;"}
	env := testEnv()
	env.noMeter = true
	flows, refs, err := Compile(lf, []uint32{1}, env, NewConjIDs())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cookie=0x27c5db66, table=14, priority=100,metadata=0x1 actions=resubmit(,15)"}
	if diff := cmp.Diff(want, dump(flows)); diff != "" {
		t.Errorf("flows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"__string: kbps stats bands=type=drop rate=1000"}, refs.Meters); diff != "" {
		t.Errorf("meter refs (-want +got):\n%s", diff)
	}
}

// TestUserdataDecoders checks what the packet-in handler will read back:
// the result field of a paused action and a log's verdict, severity and
// name.
func TestUserdataDecoders(t *testing.T) {
	compileOne := func(actions string) *openflow.Controller {
		t.Helper()
		lf := LogicalFlow{UUID: uuid, Pipeline: "ingress", TableID: 20, Priority: 100, Match: "udp", Actions: actions}
		flows, _, err := Compile(lf, []uint32{1}, testEnv(), NewConjIDs())
		if err != nil {
			t.Fatal(err)
		}
		c, ok := flows[0].Actions[0].(*openflow.Controller)
		if !ok {
			t.Fatalf("first action %v is not a controller action", flows[0].Actions[0])
		}
		return c
	}
	c := compileOne("reg0[3] = put_dhcp_opts(offerip = 10.0.0.11, router = 10.0.0.1); next;")
	u, err := ParseUserdata(c.Userdata)
	if err != nil || u.Op != OpPutDHCPOpts || !c.Pause {
		t.Fatalf("userdata %v, op %d, pause %v", err, u.Op, c.Pause)
	}
	sf, rest, err := u.Result()
	if err != nil {
		t.Fatal(err)
	}
	if got := sf.String(); got != "NXM_NX_XXREG0[99]" {
		t.Errorf("result field %s, want NXM_NX_XXREG0[99] (reg0[3])", got)
	}
	if want := []byte{10, 0, 0, 11, 3, 4, 10, 0, 0, 1}; string(rest) != string(want) {
		t.Errorf("options % x, want % x", rest, want)
	}

	c = compileOne(`log(name="acl1", severity=warning, verdict=reject); next;`)
	u, _ = ParseUserdata(c.Userdata)
	verdict, severity, name, err := u.LogInfo()
	if err != nil || verdict != 2 || severity != 4 || name != "acl1" {
		t.Errorf("log info %d %d %q %v, want 2 4 \"acl1\"", verdict, severity, name, err)
	}
	if _, _, _, err := (Userdata{Op: OpLog}).LogInfo(); err == nil {
		t.Error("empty log payload decoded")
	}
	if _, _, err := (Userdata{Op: OpDNSLookup, Payload: []byte{1, 2}}).Result(); err == nil {
		t.Error("short result decoded")
	}
}

package physical

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
	"github.com/ovnd/ovnd/controller/openflow"
)

// TestOVSAcceptsFlows installs every physical flow of the sample on a real
// br-int through the installer and reads them back: OVS must take them
// all (one bundle: one bad flow would reject the lot) and print them as
// they render.
func TestOVSAcceptsFlows(t *testing.T) {
	o := flowtabletest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := flowtable.NewInstaller(nil)
	if err := in.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	flows, err := Flows(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	for owner, fs := range flows {
		d.Set(owner, fs)
	}
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	want := renderAll(d.Flows())
	slices.Sort(want)
	if diff := cmp.Diff(want, o.DumpFlows()); diff != "" {
		t.Errorf("br-int differs from the physical flows (-physical +br-int):\n%s", diff)
	}
	// What the switch sends back is recognised as the same flows: a
	// restarted controller has nothing to change.
	fresh := flowtable.NewInstaller(nil)
	if err := fresh.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Errorf("fresh installer: %+v %v, want nothing to change", st, err)
	}
}

// TestOVSForwarding sends real packets through the physical flows: two
// VIFs on one logical switch, with a minimal hand-written logical
// pipeline between them (check_in_port_sec(), then an L2 lookup). Ping
// works; once a VIF uses an address its port security does not allow,
// it stops.
func TestOVSForwarding(t *testing.T) {
	o := flowtabletest.Start(t)
	a := o.AddVIF("a", 1, "00:00:00:00:00:0a", "10.8.0.10/24")
	o.AddVIF("b", 2, "00:00:00:00:00:0b", "10.8.0.11/24")
	in := Input{Chassis: "hv1",
		Datapaths: []Datapath{{Key: 5, DNATZone: 1, SNATZone: 2}},
		Ports: []Port{
			{UUID: "aaaaaaaa-1", Name: "a", Datapath: 5, Key: 1, Chassis: "hv1", OFPort: 1, Zone: 3,
				PortSecurity: []string{"00:00:00:00:00:0a 10.8.0.10"}},
			{UUID: "bbbbbbbb-2", Name: "b", Datapath: 5, Key: 2, Chassis: "hv1", OFPort: 2, Zone: 4},
		},
		MulticastGroups: []MulticastGroup{{UUID: "cccccccc-3", Datapath: 5, Key: 0x8000, Members: []string{"a", "b"}}},
	}
	flows, err := Flows(in)
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	for owner, fs := range flows {
		d.Set(owner, fs)
	}
	// The logical pipeline: table 8 checks port security, table 9
	// drops on failure, else looks up the destination; egress (42)
	// goes straight to output.
	var logical []flowtable.Flow
	for _, s := range []string{
		"table=8,priority=100,metadata=0x5 actions=set_field:0/0x1000->reg10,resubmit(,73),move:NXM_NX_REG10[12]->NXM_NX_REG0[15],resubmit(,9)",
		"table=9,priority=100,reg0=0x8000/0x8000,metadata=0x5 actions=drop",
		"table=9,priority=50,metadata=0x5,dl_dst=00:00:00:00:00:0a actions=set_field:0x1->reg15,resubmit(,37)",
		"table=9,priority=50,metadata=0x5,dl_dst=00:00:00:00:00:0b actions=set_field:0x2->reg15,resubmit(,37)",
		"table=9,priority=50,metadata=0x5,dl_dst=ff:ff:ff:ff:ff:ff actions=set_field:0x8000->reg15,resubmit(,37)",
		"table=42,priority=0 actions=resubmit(,64)",
	} {
		fm, err := openflow.ParseFlow(s)
		if err != nil {
			t.Fatal(err)
		}
		logical = append(logical, flowtable.Flow{Table: fm.Table, Priority: fm.Priority, Match: fm.Match, Actions: fm.Instructions.Apply})
	}
	d.Set("logical", logical)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst := flowtable.NewInstaller(nil)
	if err := inst.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	if out, err := o.Exec(a, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.8.0.11"); err != nil {
		t.Fatalf("no ping through the physical flows: %v\n%s\n%s", err, out, strings.Join(o.DumpFlows(), "\n"))
	}
	// Another source address on a: port security drops it (ARP with
	// the wrong sender address fails table 74).
	if out, err := o.Exec(a, "ip", "addr", "replace", "10.8.0.12/24", "dev", "eth0"); err != nil {
		t.Fatal(out)
	}
	o.Exec(a, "ip", "addr", "del", "10.8.0.10/24", "dev", "eth0")
	o.Exec(a, "ip", "neigh", "flush", "all")
	if out, err := o.Exec(a, "ping", "-c", "2", "-i", "0.2", "-W", "1", "10.8.0.11"); err == nil {
		t.Fatalf("ping from an address port security does not allow went through:\n%s", out)
	}
	// Back to the allowed address: through again.
	o.Exec(a, "ip", "addr", "replace", "10.8.0.10/24", "dev", "eth0")
	o.Exec(a, "ip", "addr", "del", "10.8.0.12/24", "dev", "eth0")
	if out, err := o.Exec(a, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.8.0.11"); err != nil {
		t.Fatalf("no ping once the allowed address is back: %v\n%s", err, out)
	}
}

// TestOVSTunnel sends packets between two chassis, each a private OVS
// with one VIF, through the physical flows of both over a Geneve and a
// VXLAN tunnel: the sender's table 39 encapsulates, the receiver's table
// 0 decodes and delivers.
func TestOVSTunnel(t *testing.T) {
	for _, typ := range []string{Geneve, VXLAN} {
		t.Run(typ, func(t *testing.T) { testTunnel(t, typ) })
	}
}

func testTunnel(t *testing.T, typ string) {
	hv1, hv2 := flowtabletest.Start(t), flowtabletest.Start(t)
	flowtabletest.ConnectUnderlay(hv1, hv2, "192.168.99.1", "192.168.99.2")
	a := hv1.AddVIF("a", 1, "00:00:00:00:00:0a", "10.7.0.10/24")
	hv2.AddVIF("b", 1, "00:00:00:00:00:0b", "10.7.0.11/24")
	hv1.AddTunnel("tun", 9, typ, "192.168.99.2")
	hv2.AddTunnel("tun", 9, typ, "192.168.99.1")
	ports := func(me string) []Port {
		pa := Port{UUID: "aaaaaaaa-1", Name: "a", Datapath: 5, Key: 1, Chassis: "hv1", Zone: 3}
		pb := Port{UUID: "bbbbbbbb-2", Name: "b", Datapath: 5, Key: 2, Chassis: "hv2", Zone: 3}
		if me == "hv1" {
			pa.OFPort = 1
		} else {
			pb.OFPort = 1
		}
		return []Port{pa, pb}
	}
	for _, c := range []struct {
		o        *flowtabletest.OVS
		me, peer string
	}{{hv1, "hv1", "hv2"}, {hv2, "hv2", "hv1"}} {
		in := Input{Chassis: c.me, Datapaths: []Datapath{{Key: 5}}, Ports: ports(c.me),
			MulticastGroups: []MulticastGroup{{UUID: "cccccccc-3", Datapath: 5, Key: 0x8000, Members: []string{"a", "b"}}},
			Tunnels:         []Tunnel{{Chassis: c.peer, Type: typ, OFPort: 9}}}
		installWithL2(t, c.o, in)
	}
	if out, err := hv1.Exec(a, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.7.0.11"); err != nil {
		t.Fatalf("no ping over %s: %v\n%s\nhv1:\n%s", typ, err, out, strings.Join(hv1.DumpFlows(), "\n"))
	}
}

// installWithL2 installs the physical flows of in and a minimal logical
// L2 pipeline for datapath 5 on o.
func installWithL2(t *testing.T, o *flowtabletest.OVS, in Input) {
	t.Helper()
	flows, err := Flows(in)
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	for owner, fs := range flows {
		d.Set(owner, fs)
	}
	var logical []flowtable.Flow
	for _, s := range []string{
		"table=8,priority=50,metadata=0x5,dl_dst=00:00:00:00:00:0a actions=set_field:0x1->reg15,resubmit(,37)",
		"table=8,priority=50,metadata=0x5,dl_dst=00:00:00:00:00:0b actions=set_field:0x2->reg15,resubmit(,37)",
		"table=8,priority=50,metadata=0x5,dl_dst=ff:ff:ff:ff:ff:ff actions=set_field:0x8000->reg15,resubmit(,37)",
		"table=42,priority=0 actions=resubmit(,64)",
	} {
		fm, err := openflow.ParseFlow(s)
		if err != nil {
			t.Fatal(err)
		}
		logical = append(logical, flowtable.Flow{Table: fm.Table, Priority: fm.Priority, Match: fm.Match, Actions: fm.Instructions.Apply})
	}
	d.Set("logical", logical)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst := flowtable.NewInstaller(nil)
	if err := inst.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if _, err := inst.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
}

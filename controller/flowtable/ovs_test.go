package flowtable_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
	"github.com/ovnd/ovnd/controller/openflow"
)

func parse(t testing.TB, ss ...string) []flowtable.Flow {
	t.Helper()
	var out []flowtable.Flow
	for _, s := range ss {
		fm, err := openflow.ParseFlow(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, flowtable.Flow{Table: fm.Table, Priority: fm.Priority, Match: fm.Match,
			Actions: fm.Instructions.Apply, Cookie: fm.Cookie})
	}
	return out
}

// rendered is the desired table as dump-flows --no-stats prints it.
func rendered(d *flowtable.Desired) []string {
	var lines []string
	for _, f := range d.Flows() {
		fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
		fm.Cookie, fm.Match, fm.Instructions.Apply = f.Cookie, f.Match, f.Actions
		lines = append(lines, fm.DumpString())
	}
	slices.Sort(lines)
	return lines
}

func install(t *testing.T, in *flowtable.Installer, d *flowtable.Desired) flowtable.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := in.Install(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func connect(t *testing.T, o *flowtabletest.OVS) *flowtable.Installer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := flowtable.NewInstaller(nil)
	if err := in.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestOVSInstall installs, changes and removes flows on a real br-int and
// checks the switch's table after each step, then reconnects a fresh
// installer, which must find nothing to change.
func TestOVSInstall(t *testing.T) {
	o := flowtabletest.Start(t)
	in := connect(t, o)
	d := flowtable.NewDesired(nil)
	d.Set("vif1", parse(t,
		"cookie=0x1,table=0,priority=100,in_port=1 actions=set_field:0x1->reg13,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)",
		"cookie=0x1,table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1",
		"cookie=0x1,table=73,priority=90,ip,reg14=0x1,metadata=0x1,dl_src=00:00:00:00:00:01,nw_src=10.0.0.1 actions=set_field:0/0x1000->reg10"))
	d.Set("tunnel", parse(t,
		"table=0,priority=100,in_port=2 actions=move:NXM_NX_TUN_ID[0..23]->OXM_OF_METADATA[0..23],move:NXM_NX_TUN_METADATA0[16..30]->NXM_NX_REG14[0..14],move:NXM_NX_TUN_METADATA0[0..15]->NXM_NX_REG15[0..15],resubmit(,40)",
		"table=39,priority=100,reg15=0x2,metadata=0x1 actions=set_field:0x1/0xffffff->tun_id,set_field:0x2->tun_metadata0,move:NXM_NX_REG14[0..14]->NXM_NX_TUN_METADATA0[16..30],output:2",
		"table=0,priority=100,in_port=3,vlan_tci=0x0000/0x1000 actions=resubmit(,8)",
		"table=0,priority=150,in_port=3,dl_vlan=7 actions=pop_vlan,resubmit(,8)",
		"table=65,priority=100,reg15=0x3,metadata=0x1 actions=push_vlan:0x8100,set_field:4103->vlan_vid,output:3,pop_vlan"))
	d.Set("static", parse(t, "table=0,priority=0 actions=drop", "table=41,priority=0 actions=set_field:0->reg0,resubmit(,42)"))
	if st := install(t, in, d); st.Added != 10 {
		t.Errorf("first install: %+v, want 10 added", st)
	}
	check := func(step string) {
		t.Helper()
		if diff := cmp.Diff(rendered(d), o.DumpFlows()); diff != "" {
			t.Fatalf("%s: br-int differs from the desired table (-desired +br-int):\n%s", step, diff)
		}
	}
	check("first install")
	d.Set("vif1", parse(t,
		"cookie=0x1,table=0,priority=100,in_port=1 actions=set_field:0x2->reg13,set_field:0x1->metadata,set_field:0x1->reg14,resubmit(,8)",
		"cookie=0x1,table=65,priority=100,reg15=0x1,metadata=0x1 actions=output:1"))
	d.Set("static", parse(t, "cookie=0x7,table=0,priority=0 actions=drop", "table=41,priority=0 actions=set_field:0->reg0,resubmit(,42)"))
	if st := install(t, in, d); (st != flowtable.Stats{Modified: 2, Deleted: 1}) {
		t.Errorf("change: %+v, want 2 modified (actions, cookie) and 1 deleted", st)
	}
	check("change")
	d.Remove("tunnel")
	if st := install(t, in, d); st.Deleted != 5 {
		t.Errorf("remove: %+v, want 5 deleted", st)
	}
	check("remove")

	// A new controller: the flows stay, and nothing needs sending.
	fresh := connect(t, o)
	if st := install(t, fresh, d); !st.Empty() {
		t.Errorf("fresh installer on an up-to-date switch sent %+v", st)
	}
	// A flow nobody wants any more, added behind the controller's back,
	// goes at the next sync.
	o.VSCtl("set", "bridge", "br-int", "other_config:dummy=1") // the database still answers
	c := o.Dial(context.Background())
	fm := openflow.NewFlowMod(openflow.FlowAdd, 9, 5)
	fm.Instructions.Apply = []openflow.Action{}
	if err := c.Bundle(context.Background(), 99, []openflow.Message{fm}); err != nil {
		t.Fatal(err)
	}
	fresh = connect(t, o)
	if st := install(t, fresh, d); (st != flowtable.Stats{Deleted: 1}) {
		t.Errorf("stale flow: %+v, want 1 deleted", st)
	}
	check("after removing a stale flow")
}

// TestOVSPingAcrossInstallerRestart pings between two VIFs every 10 ms
// through flows the installer put on br-int while the installer is
// replaced again and again, each new one installing a different path for
// the same traffic, every other one streaming it while the table is
// built: not one packet may be lost.
func TestOVSPingAcrossInstallerRestart(t *testing.T) {
	o := flowtabletest.Start(t)
	a := o.AddVIF("a", 1, "00:00:00:00:00:0a", "10.9.0.1/24")
	o.AddVIF("b", 2, "00:00:00:00:00:0b", "10.9.0.2/24")
	// pipeline builds the table; with in, it streams it into in as it
	// goes, as the controller's full compile does.
	pipeline := func(via uint8, in *flowtable.Installer) *flowtable.Desired {
		d := flowtable.NewDesired(nil)
		if in != nil && !in.Stream(d) {
			t.Fatal("the connection takes no stream")
		}
		for _, p := range [][2]int{{1, 2}, {2, 1}} {
			d.Set(fmt.Sprintf("port%d", p[0]), parse(t,
				fmt.Sprintf("table=0,priority=100,in_port=%d actions=set_field:0x%x->reg14,resubmit(,8)", p[0], p[0]),
				fmt.Sprintf("table=8,priority=50,reg14=0x%x actions=set_field:0x%x->reg15,resubmit(,%d)", p[0], p[1], via),
				fmt.Sprintf("table=%d,priority=100,reg15=0x%x actions=resubmit(,65)", via, p[1]),
				fmt.Sprintf("table=65,priority=100,reg15=0x%x actions=output:%d", p[1], p[1])))
			if in != nil {
				if err := in.Feed(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		return d
	}
	install(t, connect(t, o), pipeline(40, nil))
	if out, err := o.Exec(a, "ping", "-c", "1", "-W", "2", "10.9.0.2"); err != nil {
		t.Fatalf("no connectivity through the installed flows: %v\n%s", err, out)
	}
	done := make(chan string, 1)
	go func() {
		out, _ := o.Exec(a, "ping", "-i", "0.01", "-c", "400", "-W", "1", "10.9.0.2")
		done <- out
	}()
	restarts := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); restarts++ {
		via := uint8(40 + (restarts+1)%2)
		in := connect(t, o)
		var streamed *flowtable.Installer
		if restarts%2 == 1 {
			streamed = in
		}
		if st := install(t, in, pipeline(via, streamed)); st.Empty() {
			t.Fatalf("restart %d: new pipeline through table %d installed nothing", restarts, via)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := <-done
	m := regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Fatalf("packets lost across %d installer restarts:\n%s", restarts, out)
	}
	t.Logf("%s packets, none lost, across %d installer restarts", m[1], restarts)
	if !strings.Contains(out, "0% packet loss") {
		t.Fatalf("ping reports loss: %s", out)
	}
}

// TestOVSGroups installs a select group and a flow using it in one bundle,
// changes the group, then removes both; a fresh installer finds the group
// as it left it.
func TestOVSGroups(t *testing.T) {
	o := flowtabletest.Start(t)
	in := connect(t, o)
	d := flowtable.NewDesired(nil)
	bucket := func(id uint32, table uint8) openflow.Bucket {
		return openflow.Bucket{ID: id, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(table)}}
	}
	g := flowtable.Group{ID: 7, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{bucket(0, 9), bucket(1, 10)},
		Selection: &openflow.Selection{Method: "dp_hash"}}
	d.SetGroups("lb", []flowtable.Group{g})
	d.Set("lb", parse(t, "table=13,priority=100,ip,reg0=0x2/0x2 actions=group:7"))
	if st := install(t, in, d); (st != flowtable.Stats{Added: 1, GroupsAdded: 1}) {
		t.Fatalf("install: %+v", st)
	}
	groups := o.DumpGroups()
	if len(groups) != 1 || !strings.Contains(groups[0], "group_id=7,type=select,selection_method=dp_hash") ||
		!strings.Contains(groups[0], "bucket=bucket_id:1,weight:100,actions=resubmit(,10)") {
		t.Fatalf("groups on br-int: %q", groups)
	}
	if fresh := connect(t, o); !install(t, fresh, d).Empty() {
		t.Errorf("fresh installer wants to change the group it finds")
	}
	g.Buckets = g.Buckets[:1]
	d.SetGroups("lb", []flowtable.Group{g})
	in = connect(t, o)
	if st := install(t, in, d); (st != flowtable.Stats{GroupsModified: 1}) {
		t.Fatalf("change: %+v", st)
	}
	if groups := o.DumpGroups(); len(groups) != 1 || strings.Contains(groups[0], "bucket_id:1") {
		t.Fatalf("after removing a bucket: %q", groups)
	}
	d.Remove("lb")
	d.RemoveGroups("lb")
	if st := install(t, in, d); (st != flowtable.Stats{Deleted: 1, GroupsDeleted: 1}) {
		t.Fatalf("remove: %+v", st)
	}
	if groups, flows := o.DumpGroups(), o.DumpFlows(); len(groups) != 0 || len(flows) != 0 {
		t.Fatalf("left on br-int: %q %q", groups, flows)
	}
}

// TestOVSMeters installs a meter and a flow using it on a real br-int,
// changes the rate, then removes both; a fresh installer reads the meter
// back as it left it.
func TestOVSMeters(t *testing.T) {
	o := flowtabletest.Start(t)
	in := connect(t, o)
	d := flowtable.NewDesired(nil)
	m := flowtable.Meter{ID: 3, Flags: openflow.MeterPktps | openflow.MeterBurst | openflow.MeterStats,
		Bands: []openflow.MeterBand{{Type: openflow.BandDrop, Rate: 10, BurstSize: 20}}}
	d.SetMeters("acl-log", []flowtable.Meter{m})
	d.Set("acl-log", parse(t, "table=44,priority=100,ip actions=meter:3,resubmit(,45)"))
	if st := install(t, in, d); (st != flowtable.Stats{Added: 1, MetersAdded: 1}) {
		t.Fatalf("install: %+v", st)
	}
	meters := o.OFCtl("dump-meters", "br-int")
	if !strings.Contains(meters, "meter=3 pktps burst stats bands=") || !strings.Contains(meters, "type=drop rate=10 burst_size=20") {
		t.Fatalf("meters on br-int:\n%s", meters)
	}
	if fresh := connect(t, o); !install(t, fresh, d).Empty() {
		t.Errorf("fresh installer wants to change the meter it finds")
	}
	m.Bands = []openflow.MeterBand{{Type: openflow.BandDrop, Rate: 100, BurstSize: 20}}
	d.SetMeters("acl-log", []flowtable.Meter{m})
	if st := install(t, in, d); (st != flowtable.Stats{MetersModified: 1}) {
		t.Fatalf("change: %+v", st)
	}
	if meters := o.OFCtl("dump-meters", "br-int"); !strings.Contains(meters, "rate=100") {
		t.Fatalf("meter not changed:\n%s", meters)
	}
	d.Remove("acl-log")
	d.RemoveMeters("acl-log")
	if st := install(t, in, d); (st != flowtable.Stats{Deleted: 1, MetersDeleted: 1}) {
		t.Fatalf("remove: %+v", st)
	}
	if meters := o.OFCtl("dump-meters", "br-int"); strings.Contains(meters, "meter=3") {
		t.Fatalf("meter left:\n%s", meters)
	}
}

// TestOVSRejectedFlow: br-int refuses a flow naming a group it does not
// have, which would fail the whole bundle; the installer sets that flow
// aside, installs the rest, and installs the flow once the group exists.
func TestOVSRejectedFlow(t *testing.T) {
	o := flowtabletest.Start(t)
	in := connect(t, o)
	d := flowtable.NewDesired(nil)
	d.Set("good", parse(t, "table=0,priority=100,in_port=1 actions=resubmit(,8)"))
	d.Set("lb", parse(t, "table=13,priority=100,ip actions=group:9"))
	if st := install(t, in, d); st.Rejected != 1 || st.Added != 1 {
		t.Fatalf("install: %+v, want the good flow added and the other rejected", st)
	}
	if got := o.DumpFlows(); len(got) != 1 || got[0] != "priority=100,in_port=1 actions=resubmit(,8)" {
		t.Fatalf("br-int: %q", got)
	}
	d.SetGroups("lb", []flowtable.Group{{ID: 9, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{ID: 0, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(14)}}}}})
	if st := install(t, in, d); st.Rejected != 0 || st.Added != 1 || st.GroupsAdded != 1 {
		t.Fatalf("with the group: %+v", st)
	}
	if diff := cmp.Diff(rendered(d), o.DumpFlows()); diff != "" {
		t.Fatalf("br-int differs from the desired table (-desired +br-int):\n%s", diff)
	}
}

// TestOVSStream sends a table to a real br-int in parts while it is
// built: nothing shows on the switch before the commit, and after it
// br-int holds the finished table, although later parts changed flows
// that earlier parts added (a strict modify when another owner wins a
// flow, an add when the cookie changes, a delete when the owner goes)
// and the flow naming a group came behind the group.
func TestOVSStream(t *testing.T) {
	o := flowtabletest.Start(t)
	in := connect(t, o)
	ctx := context.Background()
	d := flowtable.NewDesired(nil)
	if !in.Stream(d) {
		t.Fatal("the connection takes no stream")
	}
	feed := func() {
		t.Helper()
		if err := in.Feed(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	d.Set("b", parse(t, "cookie=0x1,table=8,priority=100,reg15=0x1 actions=resubmit(,9)"))
	d.Set("b2", parse(t, "cookie=0x1,table=8,priority=100,reg15=0x2 actions=resubmit(,9)"))
	d.Set("c", parse(t, "table=8,priority=100,reg15=0x3 actions=resubmit(,9)"))
	feed()
	d.Set("a", parse(t, "cookie=0x1,table=8,priority=100,reg15=0x1 actions=resubmit(,10)")) // a wins
	d.Set("b2", parse(t, "cookie=0x2,table=8,priority=100,reg15=0x2 actions=resubmit(,9)"))
	d.Remove("c")
	d.SetGroups("lb", []flowtable.Group{{ID: 9, Type: openflow.GroupTypeSelect, Buckets: []openflow.Bucket{
		{ID: 0, Weight: 100, Actions: []openflow.Action{openflow.ResubmitTable(14)}}}}})
	d.Set("lb", parse(t, "table=13,priority=100,ip actions=group:9"))
	feed()
	if got := o.DumpFlows(); len(got) != 0 {
		t.Fatalf("br-int shows flows before the commit: %q", got)
	}
	st := install(t, in, d)
	if st.Rejected != 0 || st.GroupsAdded != 1 {
		t.Fatalf("install: %+v", st)
	}
	if diff := cmp.Diff(rendered(d), o.DumpFlows()); diff != "" {
		t.Fatalf("br-int differs from the desired table (-desired +br-int):\n%s", diff)
	}
	if fresh := connect(t, o); !install(t, fresh, d).Empty() {
		t.Errorf("a fresh installer finds br-int different from the streamed table")
	}
}

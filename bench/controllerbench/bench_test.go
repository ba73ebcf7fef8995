package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseAggregate(t *testing.T) {
	n, err := parseAggregate("OFPST_AGGREGATE reply (OF1.5) (xid=0x2): packet_count=7 byte_count=9 flow_count=12345\n")
	if err != nil || n != 12345 {
		t.Fatalf("got %d %v", n, err)
	}
	if _, err := parseAggregate("ovs-ofctl: br-int is not a bridge"); err == nil {
		t.Error("reply without flow_count accepted")
	}
}

// The moment a start counts as done is the first sample of the final run
// of samples with every port installed and the same flow count, once that
// run has lasted the settle time.
func TestSettled(t *testing.T) {
	ms := time.Millisecond
	s := []sample{
		{0, 0, 0, 0}, {100 * ms, 10, 0, 0}, {200 * ms, 500, 2, 50 * ms}, {300 * ms, 800, 3, 90 * ms},
		{400 * ms, 800, 3, 90 * ms}, {500 * ms, 800, 3, 90 * ms}, {600 * ms, 800, 3, 90 * ms},
	}
	if _, ok := settled(s[:5], 3, 200*ms); ok {
		t.Error("settled after 100 ms of a stable count")
	}
	got, ok := settled(s, 3, 200*ms)
	if !ok || got.at != 300*ms || got.flows != 800 {
		t.Errorf("got %+v %v, want the sample at 300ms", got, ok)
	}
	if _, ok := settled(s, 4, 200*ms); ok {
		t.Error("settled with a port not installed")
	}
	if firstInstalled(s, 3) != 300*ms {
		t.Errorf("firstInstalled = %v", firstInstalled(s, 3))
	}
	// A count that changes again restarts the wait.
	s = append(s, sample{700 * ms, 801, 3, 90 * ms})
	if _, ok := settled(s, 3, 200*ms); ok {
		t.Error("settled right after a change")
	}
	// A busy controller is not done, however steady its flow count: it
	// must be idle for the whole settle window.
	busy := []sample{{0, 800, 3, 0}, {100 * ms, 800, 3, 50 * ms}, {200 * ms, 800, 3, 100 * ms},
		{300 * ms, 800, 3, 150 * ms}, {400 * ms, 800, 3, 150 * ms}}
	if _, ok := settled(busy, 3, 200*ms); ok {
		t.Error("settled while the controller used half a CPU")
	}
	busy = append(busy, sample{500 * ms, 800, 3, 150 * ms})
	if got, ok := settled(busy, 3, 200*ms); !ok || got.at != 0 {
		t.Errorf("idle for 200ms after a busy spell: got %+v %v, want done at the first sample", got, ok)
	}
}

func TestReport(t *testing.T) {
	ovn := figures{"installed": 10, "flows": 1000, "rss": 100, "ping": 200}
	ovnd := figures{"installed": 4, "flows": 1100, "rss": 50, "ping": 200}
	var b bytes.Buffer
	writeReport(&b, ovn, ovnd, true)
	lines := strings.Split(b.String(), "\n")
	want := map[string]string{
		"| start → flows installed":   "| 10.0 | 4.00 | 0.40x | ≤ 0.50x | yes |",
		"| OpenFlow flows on br-int":  "| 1,000 | 1,100 | 1.10x | ≤ 1.00x | no |",
		"| controller VmRSS when":     "| 100 | 50.0 | 0.50x | ≤ 0.50x | yes |",
		"| lsp-add --wait=hv + plug":  "| 200 | 200 | 1.00x | ≤ 0.50x | no |",
		"| controller VmHWM at the e": "| — | — | — | ≤ 0.50x | — |",
	}
	for prefix, suffix := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				found = true
				if !strings.HasSuffix(l, suffix) {
					t.Errorf("row %q, want it to end in %q", l, suffix)
				}
			}
		}
		if !found {
			t.Errorf("no row %q in\n%s", prefix, b.String())
		}
	}
	if m := medians([]figures{{"flows": 3}, {"flows": 1}, {"flows": 2, "rss": 7}}); m["flows"] != 2 || m["rss"] != 7 {
		t.Errorf("medians = %v", m)
	}
}

func TestLayout(t *testing.T) {
	l := layout{nSwitch: 3, perSwitch: 4, local: 5, remote: 2}
	tables := map[string]int{}
	names := map[string]bool{}
	for _, o := range l.nbOps() {
		op := o.(map[string]any)
		tables[op["table"].(string)]++
		if n, ok := op["row"].(map[string]any)["name"].(string); ok {
			if names[n] {
				t.Errorf("name %s used twice", n)
			}
			names[n] = true
		}
	}
	want := map[string]int{"Logical_Switch_Port": 3*4 + 3, "Logical_Switch": 3, "Logical_Router_Port": 3,
		"Logical_Router": 1, "ACL": 3, "Port_Group": 1}
	for k, v := range want {
		if tables[k] != v {
			t.Errorf("%s: %d rows, want %d", k, tables[k], v)
		}
	}
	if l.localPort(4) != "sw1-vif0" || l.remotePort(0) != "sw2-vif3" || !names[l.localPort(4)] || !names[l.remotePort(1)] {
		t.Errorf("local/remote ports: %s %s %s", l.localPort(4), l.remotePort(0), l.remotePort(1))
	}
	if name, _, ip := l.extraPort(0); names[name] || ip != "10.0.0.6" {
		t.Errorf("extra port %s %s clashes or is misplaced", name, ip)
	}
	for _, bad := range []layout{{0, 1, 1, 0}, {1, 201, 1, 0}, {2, 2, 0, 0}, {2, 2, 3, 2}} {
		if bad.validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-only", "x"}, {"-repeat", "0"}, {"-adds", "0"}, {"-local", "0"},
		{"-switches", "1", "-ports", "5", "-local", "5", "-remote", "1"}, {"-poll", "1ms"}, {"-central", "ovsdb"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	o, err := parseFlags([]string{"-quick"})
	if err != nil || o.layout.vifs() != 200 || o.layout.local != 10 {
		t.Errorf("-quick: %+v %v", o.layout, err)
	}
}

// TestQuickRun runs the whole benchmark on the small topology, with each
// centre (the real ovsdb-server and ovn-northd, then ovnd's database and
// northd roles), when it runs as root with OVS and OVN installed. It
// starts processes and namespaces for about half a minute, so -short
// skips it.
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OVS, ovn-northd and both controllers")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, bin := range []string{"ovn-controller", "ovn-northd", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovn-nbctl", "ovn-sbctl", "ping", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	for _, central := range []string{centralOVN, centralOvnd} {
		t.Run(central, func(t *testing.T) { quickRun(t, central) })
	}
}

func quickRun(t *testing.T, central string) {
	o, err := parseFlags([]string{"-quick", "-central", central, "-tmp", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if err := run(ctx, o, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if want := "NB, SB and northd: " + map[string]string{centralOVN: "ovsdb-server and ovn-northd", centralOvnd: "ovnd's database and northd roles"}[central]; !strings.Contains(out.String(), want) {
		t.Errorf("report does not say %q:\n%s", want, out.String())
	}
	for _, prefix := range []string{"start → flows installed", "OpenFlow flows on br-int", "controller VmRSS when installed", "lsp-add --wait=hv + plug → first ping", "plug (VIF bound after --wait=hv) → first ping"} {
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, prefix) {
				line = l
			}
		}
		if line == "" || strings.Count(line, "—") > 2 {
			t.Errorf("row %q missing or without figures:\n%s", prefix, out.String())
		}
	}
	if entries, _ := os.ReadDir(o.tmp); len(entries) != 0 {
		t.Errorf("temporary directory left behind: %v", entries)
	}
	if nss, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(nss), "cb"+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("namespaces left behind:\n%s", nss)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 10; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	if p := percentile(d, 50); p != 5 {
		t.Errorf("p50 = %d, want 5", p)
	}
	if p := percentile(d, 90); p != 9 {
		t.Errorf("p90 = %d, want 9", p)
	}
	if p := percentile(nil, 50); p != 0 {
		t.Errorf("p50 of nothing = %d", p)
	}
}

// The topology has what the benchmark asks for: ports, router
// ports, the port group and its ACLs, all in one transaction.
func TestTopology(t *testing.T) {
	ops := topology{switches: 3, ports: 4}.ops()
	n := map[string]int{}
	for _, o := range ops {
		n[o["table"].(string)]++
	}
	want := map[string]int{"Logical_Switch_Port": 3*4 + 3, "Logical_Switch": 3, "Logical_Router_Port": 3,
		"Logical_Router": 1, "ACL": 3, "Port_Group": 1}
	for k, v := range want {
		if n[k] != v {
			t.Errorf("%s: %d rows, want %d", k, n[k], v)
		}
	}
	pg := ops[len(ops)-1]["row"].(op)
	if got := len(pg["ports"].([]any)[1].([]any)); got != 12 {
		t.Errorf("port group holds %d ports, want 12", got)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-only", "x"}, {"-repeat", "0"}, {"-switches", "0"}, {"-ports", "300"}, {"-db", "etcd"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestQuickRun runs the whole benchmark on the small topology against the
// real OVN, when it is installed, with both database servers.
func TestQuickRun(t *testing.T) {
	for _, db := range []string{dbOVSDB, dbOvnd} {
		t.Run(db, func(t *testing.T) { testQuickRun(t, db) })
	}
}

func testQuickRun(t *testing.T, db string) {
	if testing.Short() {
		t.Skip("starts ovsdb-server and both northds")
	}
	for _, bin := range []string{"ovn-northd", "ovsdb-server", "ovsdb-tool", "ovn-nbctl", "go"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	o, err := parseFlags([]string{"-quick", "-db", db, "-tmp", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, log bytes.Buffer
	if err := run(ctx, o, &out, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, want := range []string{"SB Logical_Flow rows", "lsp-add --wait=sb, nbctl daemon: p50", "northd VmHWM", "database: " + db} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "SB Logical_Flow rows") && (len(f) < 6 || f[4] == "—" || f[5] == "—" || f[4] == "0" || f[5] == "0") {
			t.Errorf("a side has no flows: %q", line)
		}
	}
	if entries, _ := os.ReadDir(o.tmp); len(entries) != 0 {
		t.Errorf("temporary directory left behind: %v", entries)
	}
}

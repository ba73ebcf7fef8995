package northd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovnd/ovnd/northd"
	"github.com/ovnd/ovnd/northd/difftest"
)

// helperEnv makes the test binary run one northd (NB and SB remotes,
// comma-separated) instead of the tests: TestTakeover kills such
// processes with SIGKILL, which a goroutine cannot stand in for.
const helperEnv = "OVND_NORTHD_TEST_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(runHelper(spec))
	}
	os.Exit(m.Run())
}

func runHelper(spec string) int {
	nb, sb, _ := strings.Cut(spec, ";")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := northd.New(northd.Config{NB: nb, SB: sb, Logger: log}).Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// northdProc is a northd in its own process, running this test binary.
type northdProc struct {
	cmd  *exec.Cmd
	log  lockedBuffer
	done chan struct{}
}

// startProc starts a northd process on nb and sb; it is killed when the
// test ends.
func startProc(t *testing.T, nb, sb string) *northdProc {
	t.Helper()
	p := &northdProc{cmd: exec.Command(os.Args[0]), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), helperEnv+"="+nb+";"+sb)
	p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("northd pid %d log:\n%s", p.cmd.Process.Pid, p.log.String())
		}
	})
	return p
}

func (p *northdProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// waitLog waits up to 20 s for s in the process's log and returns when it
// was first seen.
func (p *northdProc) waitLog(t *testing.T, s string) time.Time {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(p.log.String(), s) {
			return time.Now()
		}
	}
	t.Fatalf("northd pid %d did not log %q:\n%s", p.cmd.Process.Pid, s, p.log.String())
	return time.Time{}
}

// logTime waits for s in the process's log and returns the time its
// line carries: when the process logged it, not when the test saw it.
func (p *northdProc) logTime(t *testing.T, s string) time.Time {
	t.Helper()
	p.waitLog(t, s)
	for _, l := range strings.Split(p.log.String(), "\n") {
		if !strings.Contains(l, s) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("log line without a time: %s", l)
		}
		return at
	}
	t.Fatalf("no log line with %q", s)
	return time.Time{}
}

// ovndDBs runs ovnd's database role in this process (northd.OvndDBs).
var ovndDBs = northd.OvndDBs

// takeoverNB is a small NB with every kind of row northd writes.
var takeoverNB = [][]string{
	{"ls-add", "sw0"},
	{"ls-add", "sw1"},
	{"lsp-add", "sw0", "p1", "--", "lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"},
	{"lsp-add", "sw0", "p2", "--", "lsp-set-addresses", "p2", "00:00:00:00:00:02 10.0.0.2",
		"--", "lsp-set-port-security", "p2", "00:00:00:00:00:02 10.0.0.2"},
	{"lsp-add", "sw1", "p3", "--", "lsp-set-addresses", "p3", "unknown"},
	{"lsp-add", "sw1", "ln", "--", "lsp-set-type", "ln", "localnet", "--", "lsp-set-options", "ln", "network_name=phys"},
	{"pg-add", "web", "p1", "p2", "p3"},
	{"create", "Address_Set", "name=admins", `addresses="10.9.0.1","10.9.0.2"`},
	{"acl-add", "web", "to-lport", "1002", "outport == @web && ip4.src == $admins && tcp.dst == 80", "allow-related"},
	{"acl-add", "web", "to-lport", "1001", "outport == @web && ip4", "drop"},
	{"acl-add", "sw1", "from-lport", "900", "ip4.dst == 10.1.0.0/16", "drop"},
}

// TestTakeover runs two northd processes against one SB: one holds the
// ovn_northd lock, the other stands by. Killed with SIGKILL, the active
// one is replaced within seconds, and SB churns no more than the NB
// change made meanwhile needs: every row stays as it was, and a monitor
// counts exactly the row changes the same change cost before the
// takeover. With ovsdb-server and with ovnd's database; and
// with the real ovn-northd 23.03 as the active one.
func TestTakeover(t *testing.T) {
	same := func(ref string) string { return ref }
	t.Run("ovsdb-server", func(t *testing.T) { testTakeover(t, dbs, ovndActive, same) })
	t.Run("ovnd-database", func(t *testing.T) { testTakeover(t, ovndDBs, ovndActive, same) })
	// Taking over from ovn-northd 23.03: ovnd finds SB as it would have
	// written it, and adds a port with the row changes ovn-northd makes.
	t.Run("ovn-northd-to-ovnd", func(t *testing.T) { testTakeover(t, dbs, realActive, same) })
}

// ovndActive starts an ovnd northd process and waits until it is active.
func ovndActive(t *testing.T, nb, sb string) (kill func()) {
	p := startProc(t, nb, sb)
	p.waitLog(t, "held=true")
	return p.kill
}

// realActive starts the real ovn-northd; it is active once it answers
// --wait=sb, as nothing else runs yet.
func realActive(t *testing.T, nb, sb string) (kill func()) {
	dir := t.TempDir()
	p, err := difftest.RealNorthd(dir, nb, sb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	return p.Stop
}

func testTakeover(t *testing.T, start func(*testing.T) (string, string), active func(*testing.T, string, string) func(),
	wantChurn func(ref string) string) {
	if err := difftest.Available(); err != nil {
		t.Skip(err)
	}
	nb, sb := start(t)
	kill := active(t, nb, sb)
	for _, c := range takeoverNB {
		ctl(t, difftest.NBCtl, nb, c...)
	}
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	b := startProc(t, nb, sb)
	b.waitLog(t, "standing by")
	// What one port added costs in SB, written by the active northd...
	ref := watchSB(t, sb)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw0", "p5", "--", "lsp-set-addresses", "p5", "00:00:00:00:00:05 10.0.0.5")
	refChurn := ref.stop()
	before := sbIdentity(t, sb)
	churn := watchSB(t, sb)

	// ... is all the takeover may cost when a port of the same shape is
	// added while the active one dies.
	killed := time.Now()
	kill()
	ctl(t, difftest.NBCtl, nb, "lsp-add", "sw0", "p6", "--", "lsp-set-addresses", "p6", "00:00:00:00:00:06 10.0.0.6")
	took := b.logTime(t, "held=true").Sub(killed)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	synced := time.Since(killed)
	t.Logf("takeover: standby holds the lock %v after SIGKILL, --wait=sb sync done %v after it",
		took.Round(time.Millisecond), synced.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("takeover took %v, want within 5 s", took)
	}
	after := sbIdentity(t, sb)
	for _, l := range strings.Split(before, "\n") {
		if !strings.Contains(l, "rows)") && !strings.Contains(after, l) {
			t.Errorf("SB row changed or gone across the takeover: %s", l)
		}
	}
	got := churn.stop()
	t.Logf("SB row changes: adding p5 before the takeover %s; adding p6 across it %s", refChurn, got)
	if got != wantChurn(refChurn) {
		t.Errorf("SB row changes across the takeover: %s, want %s", got, wantChurn(refChurn))
	}

	// The new active northd follows NB changes.
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw1", "p4", "--", "lsp-set-addresses", "p4", "00:00:00:00:00:04")
	if flows := ctl(t, difftest.SBCtl, sb, "lflow-list", "sw1"); !strings.Contains(flows, `outport = "p4"`) {
		t.Errorf("standby took the lock but does not follow NB:\n%s", flows)
	}
}

// sbIdentity lists what must survive a takeover untouched: UUIDs and
// tunnel keys of datapaths, ports and multicast groups, and the UUIDs of
// logical flows, datapath groups, port groups and address sets.
func sbIdentity(t *testing.T, sb string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []struct{ table, cols string }{
		{"Datapath_Binding", "_uuid,tunnel_key"},
		{"Port_Binding", "_uuid,logical_port,tunnel_key"},
		{"Multicast_Group", "_uuid,name,tunnel_key"},
		{"Logical_Flow", "_uuid"},
		{"Logical_DP_Group", "_uuid"},
		{"Port_Group", "_uuid"},
		{"Address_Set", "_uuid"},
	} {
		out := ctl(t, difftest.SBCtl, sb, "--format=csv", "--data=bare", "--no-headings", "--columns="+q.cols, "list", q.table)
		rows := strings.Split(out, "\n")
		slices.Sort(rows)
		fmt.Fprintf(&b, "%s (%d rows)\n%s\n", q.table, len(rows), strings.Join(rows, "\n"))
	}
	return b.String()
}

// churnWatch counts row changes per SB table from a monitor of its own.
type churnWatch struct {
	conn net.Conn
	mu   sync.Mutex
	rows map[string]int
	done chan struct{}
}

// churnTables are the tables northd writes.
var churnTables = []string{"SB_Global", "Datapath_Binding", "Port_Binding", "Multicast_Group", "Port_Group",
	"Address_Set", "Logical_DP_Group", "Logical_Flow", "DNS", "Load_Balancer", "DHCP_Options", "DHCPv6_Options"}

// watchSB starts a monitor on sb's northd tables; rows in its initial
// reply are not counted.
func watchSB(t *testing.T, sb string) *churnWatch {
	t.Helper()
	conn, err := net.Dial("unix", strings.TrimPrefix(sb, "unix:"))
	if err != nil {
		t.Fatal(err)
	}
	w := &churnWatch{conn: conn, rows: map[string]int{}, done: make(chan struct{})}
	reqs := map[string]any{}
	for _, tb := range churnTables {
		reqs[tb] = map[string]any{}
	}
	enc, dec := json.NewEncoder(conn), json.NewDecoder(bufio.NewReader(conn))
	if err := enc.Encode(map[string]any{"id": "churn", "method": "monitor", "params": []any{"OVN_Southbound", "churn", reqs}}); err != nil {
		t.Fatal(err)
	}
	var reply struct {
		ID    string
		Error any
	}
	if err := dec.Decode(&reply); err != nil || reply.Error != nil {
		t.Fatalf("monitor sb: %v %v", err, reply.Error)
	}
	go w.routineRead(enc, dec)
	t.Cleanup(func() { w.stop() })
	return w
}

func (w *churnWatch) routineRead(enc *json.Encoder, dec *json.Decoder) {
	defer close(w.done)
	for {
		var m struct {
			ID     any
			Method string
			Params []json.RawMessage
		}
		if err := dec.Decode(&m); err != nil {
			return
		}
		switch m.Method {
		case "echo":
			enc.Encode(map[string]any{"id": m.ID, "result": m.Params, "error": nil})
		case "update":
			var upd map[string]map[string]json.RawMessage
			if len(m.Params) == 2 && json.Unmarshal(m.Params[1], &upd) == nil {
				w.mu.Lock()
				for table, rows := range upd {
					w.rows[table] += len(rows)
				}
				w.mu.Unlock()
			}
		}
	}
}

// stop ends the monitor and returns the changes seen, "table:rows" in
// table order. The updates of a commit may still be on their way when
// `ovn-nbctl --wait=sb` returns (northd reports sb_cfg right after its
// SB commit): it waits for the counts to stay the same for 100 ms.
func (w *churnWatch) stop() string {
	last, since := "", time.Now()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && time.Since(since) < 100*time.Millisecond; {
		time.Sleep(10 * time.Millisecond)
		w.mu.Lock()
		now := fmt.Sprint(w.rows)
		w.mu.Unlock()
		if now != last {
			last, since = now, time.Now()
		}
	}
	w.conn.Close()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var parts []string
	for _, tb := range churnTables {
		if n := w.rows[tb]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", tb, n))
		}
	}
	return strings.Join(parts, " ")
}

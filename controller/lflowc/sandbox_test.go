package lflowc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sandbox is a private OVN 23.03 + OVS 3.1 on one chassis: an
// ovsdb-server with the NB and SB databases, ovn-northd, an OVS
// (ovsdb-server + ovs-vswitchd in its own network namespace, userspace
// datapath) and ovn-controller, all in a temp dir. Every process runs in
// its own process group, dies with the test process (Pdeathsig) and is
// killed on cleanup.
type sandbox struct {
	t          *testing.T
	dir        string
	stopNorthd func()
}

// newSandbox starts the daemons, or skips the test without root or the
// OVN/OVS binaries.
func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run ovs-vswitchd")
	}
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl",
		"ovn-northd", "ovn-controller", "ovn-nbctl", "ovn-sbctl", "unshare", "bash"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	dir, err := os.MkdirTemp("", "lflowc-oracle")
	if err != nil {
		t.Fatal(err)
	}
	s := &sandbox{t: t, dir: dir}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sandbox logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	for _, db := range [][2]string{{"nb.db", "/usr/share/ovn/ovn-nb.ovsschema"}, {"sb.db", "/usr/share/ovn/ovn-sb.ovsschema"},
		{"conf.db", "/usr/share/openvswitch/vswitch.ovsschema"}} {
		s.run("ovsdb-tool", "create", s.path(db[0]), db[1])
	}
	s.daemon("ovn-db", "ovsdb-server", s.path("nb.db"), s.path("sb.db"), "--remote=punix:"+s.path("ovn.sock"),
		"--unixctl="+s.path("ovn-db.ctl"), "--log-file="+s.path("ovn-db.log"), "--no-chdir")
	s.daemon("ovsdb", "ovsdb-server", s.path("conf.db"), "--remote=punix:"+s.path("db.sock"),
		"--unixctl="+s.path("ovsdb.ctl"), "--log-file="+s.path("ovsdb.log"), "--no-chdir")
	s.waitFor(s.path("ovn.sock"))
	s.waitFor(s.path("db.sock"))
	s.daemon("vswitchd", "unshare", "--net", "ovs-vswitchd", "unix:"+s.path("db.sock"),
		"--unixctl="+s.path("vswitchd.ctl"), "--log-file="+s.path("vswitchd.log"), "--no-chdir")
	s.stopNorthd = s.daemon("northd", "ovn-northd", "--ovnnb-db=unix:"+s.path("ovn.sock"), "--ovnsb-db=unix:"+s.path("ovn.sock"),
		"--unixctl="+s.path("northd.ctl"), "--log-file="+s.path("northd.log"), "--no-chdir")
	s.vsctl("--no-wait", "init")
	s.vsctl("set", "open", ".", "external_ids:system-id=hv1", "external_ids:ovn-remote=unix:"+s.path("ovn.sock"),
		"external_ids:ovn-encap-type=geneve", "external_ids:ovn-encap-ip=127.0.0.1",
		"external_ids:ovn-bridge-datapath-type=netdev")
	s.vsctl("add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev", "fail-mode=secure")
	s.vsctl("add-br", "br-test", "--", "set", "bridge", "br-test", "datapath_type=netdev", "fail-mode=secure",
		"protocols=OpenFlow15")
	s.daemon("controller", "ovn-controller", "unix:"+s.path("db.sock"), "--log-file="+s.path("controller.log"), "--no-chdir")
	s.waitFor(s.path("br-test.mgmt"))
	return s
}

func (s *sandbox) path(name string) string { return filepath.Join(s.dir, name) }

func (s *sandbox) env() []string {
	env := os.Environ()
	for _, v := range []string{"OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR"} {
		env = append(env, v+"="+s.dir)
	}
	return env
}

func (s *sandbox) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env()
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// run runs a short command and returns its stdout; failure fails the
// test.
func (s *sandbox) run(name string, args ...string) string {
	s.t.Helper()
	out, err := s.tryRun(name, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func (s *sandbox) tryRun(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := s.command(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// daemon starts a foreground process and kills its process group on
// cleanup; stop kills it earlier.
func (s *sandbox) daemon(name, bin string, args ...string) (stop func()) {
	s.t.Helper()
	cmd := s.command(context.Background(), bin, args...)
	out, err := os.Create(s.path(name + ".out"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		s.t.Fatalf("start %s: %v", bin, err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			out.Close()
		})
	}
	s.t.Cleanup(stop)
	return stop
}

func (s *sandbox) waitFor(path string) {
	s.t.Helper()
	for range 400 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.t.Fatalf("%s did not appear", path)
}

func (s *sandbox) vsctl(args ...string) string {
	s.t.Helper()
	return s.run("ovs-vsctl", append([]string{"--db=unix:" + s.path("db.sock"), "--timeout=30"}, args...)...)
}

func (s *sandbox) nbctl(args ...string) string {
	s.t.Helper()
	return s.run("ovn-nbctl", append([]string{"--db=unix:" + s.path("ovn.sock"), "--timeout=30"}, args...)...)
}

func (s *sandbox) ofctl(args ...string) string {
	s.t.Helper()
	return s.run("ovs-ofctl", append([]string{"-O", "OpenFlow15"}, args...)...)
}

// script runs a topology script from testdata with $N, $S and $V set
// to ovn-nbctl, ovn-sbctl and ovs-vsctl on this sandbox, then waits
// until ovn-controller has caught up.
func (s *sandbox) script(file string) {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		s.t.Fatal(err)
	}
	s.scriptText(string(b))
}

// scriptText is script with the script's text.
func (s *sandbox) scriptText(text string) {
	s.t.Helper()
	pre := fmt.Sprintf("set -eu\nN='ovn-nbctl --db=unix:%s --timeout=30'\nS='ovn-sbctl --db=unix:%s --timeout=30'\n"+
		"V='ovs-vsctl --db=unix:%s --timeout=30'\n", s.path("ovn.sock"), s.path("ovn.sock"), s.path("db.sock"))
	f := s.path("script.sh")
	if err := os.WriteFile(f, []byte(pre+text), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.run("bash", f)
	s.nbctl("--wait=hv", "sync")
}

// sbRows lists an SB table as rows of column name to OVSDB JSON value.
func (s *sandbox) sbRows(table string) []map[string]any {
	s.t.Helper()
	out := s.run("ovn-sbctl", "--db=unix:"+s.path("ovn.sock"), "--format=json", "list", table)
	var r struct {
		Headings []string
		Data     [][]any
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		s.t.Fatalf("sbctl list %s: %v", table, err)
	}
	rows := make([]map[string]any, len(r.Data))
	for i, d := range r.Data {
		rows[i] = map[string]any{}
		for j, h := range r.Headings {
			rows[i][h] = d[j]
		}
	}
	return rows
}

// ovsdbSet returns the atoms of an OVSDB JSON set (or single atom);
// uuids come back as strings.
func ovsdbSet(v any) []any {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return []any{v}
	}
	switch a[0] {
	case "set":
		var out []any
		for _, x := range a[1].([]any) {
			out = append(out, ovsdbSet(x)...)
		}
		return out
	case "uuid", "named-uuid":
		return []any{a[1]}
	}
	return []any{v}
}

// ovsdbMap returns an OVSDB JSON map.
func ovsdbMap(v any) map[string]string {
	out := map[string]string{}
	a, ok := v.([]any)
	if !ok || len(a) != 2 || a[0] != "map" {
		return out
	}
	for _, kv := range a[1].([]any) {
		p := kv.([]any)
		out[fmt.Sprint(p[0])] = fmt.Sprint(p[1])
	}
	return out
}

func ovsdbString(v any) string {
	s := ovsdbSet(v)
	if len(s) == 1 {
		if str, ok := s[0].(string); ok {
			return str
		}
		return fmt.Sprint(s[0])
	}
	return ""
}

func ovsdbInt(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func (s *sandbox) sbctl(args ...string) string {
	s.t.Helper()
	return s.run("ovn-sbctl", append([]string{"--db=unix:" + s.path("ovn.sock"), "--timeout=30"}, args...)...)
}

// ovsdbQuote writes s as an OVSDB string for ovn-sbctl.
func ovsdbQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// injectLflows stops ovn-northd (which would delete them) and inserts
// the logical flows of a testdata file, each on the datapath of the
// logical switch or router it names (ls by default), then waits until
// ovn-controller has installed a flow for each. It returns their
// cookies.
func (s *sandbox) injectLflows(file, ls string) []string {
	s.t.Helper()
	s.stopNorthd()
	dps := map[string]string{}
	for _, r := range s.sbRows("Datapath_Binding") {
		dps[ovsdbMap(r["external_ids"])["name"]] = ovsdbString(r["_uuid"])
	}
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		s.t.Fatal(err)
	}
	var cookies []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, " | ", 3)
		head := strings.Fields(parts[0])
		if len(head) == 3 {
			head = append(head, ls)
		}
		dp := dps[head[3]]
		if len(parts) != 3 || len(head) != 4 || dp == "" {
			s.t.Fatalf("bad lflow line %q", line)
		}
		uuid := strings.TrimSpace(s.sbctl("create", "Logical_Flow", "logical_datapath="+dp, "pipeline="+head[0],
			"table_id="+head[1], "priority="+head[2], "match="+ovsdbQuote(parts[1]), "actions="+ovsdbQuote(parts[2])))
		cookies = append(cookies, "cookie=0x"+strings.TrimLeft(uuid[:8], "0")+",")
	}
	s.waitSBProcessed()
	return cookies
}

// waitSBProcessed bumps SB_Global nb_cfg, as ovn-northd does, and waits
// until ovn-controller reports it in Chassis_Private, which it does
// once the flows for everything it has seen are installed.
func (s *sandbox) waitSBProcessed() {
	s.t.Helper()
	cur := strings.TrimSpace(s.sbctl("--bare", "--columns=nb_cfg", "list", "SB_Global"))
	n := 1
	fmt.Sscan(cur, &n)
	want := fmt.Sprint(n + 1)
	s.sbctl("set", "SB_Global", ".", "nb_cfg="+want)
	for range 600 {
		if strings.TrimSpace(s.sbctl("--bare", "--columns=nb_cfg", "list", "Chassis_Private")) == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("ovn-controller did not reach nb_cfg %s", want)
}

package chassis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/embeddeddb"
	"github.com/ovnd/ovnd/embeddeddb/embeddeddbtest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// host is a private OVS (ovsdb-server + ovs-vswitchd in its own network
// namespace, userspace datapath) and a private SB ovsdb-server, all in
// one temp dir, killed at the end of the test.
type host struct {
	t      *testing.T
	dir    string
	sbSock string // the SB's unix socket: ovsdb-server's, or ovnd's database role's
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run ovs-vswitchd")
	}
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovn-sbctl", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	for _, f := range []string{"/usr/share/openvswitch/vswitch.ovsschema", "/usr/share/ovn/ovn-sb.ovsschema"} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing", f)
		}
	}
}

// startHost starts the daemons, with ovsdb-server as the SB.
func startHost(t *testing.T) *host {
	t.Helper()
	h := startOVS(t)
	h.sbSock = h.path("sb.sock")
	h.run("ovsdb-tool", "create", h.path("sb.db"), "/usr/share/ovn/ovn-sb.ovsschema")
	h.daemon("ovsdb-server", h.path("sb.db"), "--remote=punix:"+h.sbSock,
		"--unixctl="+h.path("sb.ctl"), "--log-file="+h.path("sb.log"), "--no-chdir")
	h.waitFor(h.sbSock)
	return h
}

// startHostOVNDSB starts the OVS daemons, with ovnd's own database role
// (in this process) as the SB.
func startHostOVNDSB(t *testing.T) *host {
	t.Helper()
	h := startOVS(t)
	h.sbSock = h.path("ovnd-sb.sock")
	embeddeddbtest.Serve(t, embeddeddb.Config{Dir: h.path("ovnd-db"), SBRemotes: []string{"punix:" + h.sbSock}})
	h.waitFor(h.sbSock)
	return h
}

// startOVS starts ovsdb-server and ovs-vswitchd (in its own network
// namespace) for the local Open_vSwitch database.
func startOVS(t *testing.T) *host {
	t.Helper()
	needRoot(t)
	dir, err := os.MkdirTemp("", "chassistest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h := &host{t: t, dir: dir}
	h.run("ovsdb-tool", "create", h.path("conf.db"), "/usr/share/openvswitch/vswitch.ovsschema")
	h.daemon("ovsdb-server", h.path("conf.db"), "--remote=punix:"+h.path("db.sock"),
		"--unixctl="+h.path("ovsdb.ctl"), "--log-file="+h.path("ovsdb.log"), "--no-chdir")
	h.waitFor(h.path("db.sock"))
	h.vsctl("--no-wait", "init")
	h.daemon("unshare", "--net", "ovs-vswitchd", "unix:"+h.path("db.sock"),
		"--unixctl="+h.path("vswitchd.ctl"), "--log-file="+h.path("vswitchd.log"), "--no-chdir")
	h.waitFor(h.path("vswitchd.ctl"))
	return h
}

func (h *host) path(name string) string { return filepath.Join(h.dir, name) }

func (h *host) env() []string {
	return append(os.Environ(), "OVS_RUNDIR="+h.dir, "OVS_DBDIR="+h.dir, "OVS_LOGDIR="+h.dir,
		"OVN_RUNDIR="+h.dir, "OVN_LOGDIR="+h.dir)
}

func (h *host) run(name string, args ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = h.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		h.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (h *host) vsctl(args ...string) string {
	h.t.Helper()
	return h.run("ovs-vsctl", append([]string{"--db=unix:" + h.path("db.sock"), "--timeout=20"}, args...)...)
}

func (h *host) sbctl(args ...string) string {
	h.t.Helper()
	return h.run("ovn-sbctl", append([]string{"--db=unix:" + h.sbSock, "--timeout=20"}, args...)...)
}

// daemon is a process the test started.
type daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how it ended, once done is closed
}

// exited returns how the daemon ended, or "" while it runs.
func (d *daemon) exited() string {
	select {
	case <-d.done:
		return fmt.Sprintf("exited: %v", d.err)
	default:
		return ""
	}
}

// daemon starts a foreground process in its own process group, dying
// with the test process, with its output in <dir>/<name>.out, and kills
// and reaps it on cleanup.
func (h *host) daemon(name string, args ...string) *daemon {
	h.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = h.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := os.Create(h.path(filepath.Base(name) + ".out"))
	if err != nil {
		h.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("start %s: %v", name, err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	h.t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
	})
	return d
}

func (h *host) waitFor(path string) {
	h.t.Helper()
	for range 200 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs, _ := filepath.Glob(filepath.Join(h.dir, "*.log"))
	var s strings.Builder
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		fmt.Fprintf(&s, "== %s\n%s", l, b)
	}
	h.t.Fatalf("%s did not appear\n%s", path, s.String())
}

// connect opens a libovsdb client on sock monitoring opts.
func (h *host) connect(m func() (model.ClientDBModel, error), sock string, opts []client.MonitorOption) client.Client {
	h.t.Helper()
	dbm, err := m()
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := client.NewOVSDBClient(dbm, client.WithEndpoint("unix:"+sock))
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	if _, err := c.Monitor(ctx, c.NewMonitor(opts...)); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// sbTestMonitor is what the Manager needs, plus SB_Global for the
// tests that play the loop's part in reporting nb_cfg.
func sbTestMonitor() []client.MonitorOption {
	return append(SBMonitorOptions(), client.WithTable(&sbdb.SBGlobal{}))
}

// manager connects both clients and returns a Manager on them.
func (h *host) manager() *Manager {
	h.t.Helper()
	ovs := h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions())
	sb := h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor())
	return New(ovs, sb, Options{KernelDatapath: func() (bool, error) { return false, nil }})
}

// configure sets the chassis external_ids.
func (h *host) configure(systemID, encap, ip string, extra ...string) {
	h.t.Helper()
	args := []string{"set", "Open_vSwitch", ".", "external_ids:system-id=" + systemID,
		"external_ids:hostname=host-" + systemID, "external_ids:ovn-remote=unix:" + h.sbSock,
		"external_ids:ovn-encap-type=" + encap, "external_ids:ovn-encap-ip=" + ip}
	for _, e := range extra {
		args = append(args, "external_ids:"+e)
	}
	h.vsctl(args...)
}

// reconcile runs Reconcile and fails the test on error.
func reconcile(t *testing.T, m *Manager) *State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := m.Reconcile(ctx)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return st
}

// eventually reconciles until cond holds for the state, bounded in time.
func eventually(t *testing.T, m *Manager, what string, cond func(*State) bool) *State {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := reconcile(t, m)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; state: %+v", what, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countingClient counts the transactions sent through it.
type countingClient struct {
	client.Client
	n *int
}

func (c countingClient) Transact(ctx context.Context, ops ...ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	*c.n++
	return c.Client.Transact(ctx, ops...)
}

// countingManager is manager() with both clients counting transactions.
func (h *host) countingManager(n *int) *Manager {
	h.t.Helper()
	ovs := h.connect(vswitch.FullDatabaseModel, h.path("db.sock"), OVSMonitorOptions())
	sb := h.connect(sbdb.FullDatabaseModel, h.sbSock, sbTestMonitor())
	return New(countingClient{ovs, n}, countingClient{sb, n}, Options{KernelDatapath: func() (bool, error) { return false, nil }})
}

// get returns one column of one row, trimmed.
func (h *host) sbGet(table, row, column string) string {
	h.t.Helper()
	return strings.TrimSpace(h.sbctl("--bare", "--columns="+column, "find", table, row))
}

// waitSB polls an ovn-sbctl query until it returns want.
func (h *host) waitSB(want string, args ...string) {
	h.t.Helper()
	var got string
	for range 200 {
		if got = strings.TrimSpace(h.sbctl(args...)); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.t.Fatalf("ovn-sbctl %s: %q, want %q", strings.Join(args, " "), got, want)
}

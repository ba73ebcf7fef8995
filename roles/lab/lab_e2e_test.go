package lab

import (
	"context"

	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/internal/proc"
)

// These tests run the whole lab as root: a private Open vSwitch (or one
// the test starts as the "host's"), ovnd's roles, the demo's namespaces
// and pings. They skip without root or the tools, and check that nothing
// named like the lab is left behind.

func needLab(t *testing.T, demo bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	if err := preflight(Options{Demo: demo}); err != nil {
		t.Skip(err)
	}
	if n := len(labNamespaces()) + len(labLinks()); n > 0 {
		t.Skipf("%d namespaces or links named %s* exist: another lab runs on this host", n, namePrefix)
	}
}

func needRealController(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ovn-controller"); err != nil {
		t.Skip(err)
	}
	t.Setenv(controllerEnv, "ovn")
}

// runLab runs the demo to its end in this process, with the output in
// the test log.
func runLab(t *testing.T, opts Options) error {
	t.Helper()
	var out strings.Builder
	opts.Out, opts.Log = &out, &out
	opts.Demo, opts.ExitAfterDemo, opts.PrivateSocketsOnly = true, true, true
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err := Run(ctx, opts)
	t.Logf("lab output:\n%s", out.String())
	return err
}

// assertClean checks that the lab left nothing: its state directory,
// namespaces, links, processes.
func assertClean(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s still exists (%v)", dir, err)
	}
	if ns := labNamespaces(); len(ns) > 0 {
		t.Errorf("namespaces left: %v", ns)
	}
	if links := labLinks(); len(links) > 0 {
		t.Errorf("links left: %v", links)
	}
	if pids := processesMentioning(dir); len(pids) > 0 {
		t.Errorf("processes left that run in %s: %v", dir, pids)
	}
}

// processesMentioning lists live processes with s in their command line.
func processesMentioning(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		if proc.Running(pid) && proc.CmdlineMentions(pid, s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestLabDemo is `ovnd lab --demo --exit-after-demo` with ovnd's own
// controller: ping works, the ACL drops what it should, and the lab
// cleans up.
func TestLabDemo(t *testing.T) {
	needLab(t, true)
	dir := filepath.Join(t.TempDir(), "lab")
	if err := runLab(t, Options{StateDir: dir}); err != nil {
		t.Error(err)
	}
	assertClean(t, dir)
}

// TestLabDemoRealController proves the lab's own plumbing with the
// installed ovn-controller in place of ovnd's controller.
func TestLabDemoRealController(t *testing.T) {
	needLab(t, true)
	needRealController(t)
	dir := filepath.Join(t.TempDir(), "lab")
	if err := runLab(t, Options{StateDir: dir}); err != nil {
		t.Error(err)
	}
	assertClean(t, dir)
}

// TestLabOnHostOVS runs the lab on an Open vSwitch that was already
// running: afterwards that OVS runs on with its external_ids as they were
// and no br-int.
func TestLabOnHostOVS(t *testing.T) {
	needLab(t, true)
	host := startTestOVS(t)
	before := map[string]string{"system-id": "test-host", "ovn-encap-ip": "192.0.2.1", "other": "kept"}
	set := map[string]*string{}
	for k, v := range before {
		set[k] = &v
	}
	if err := host.setExternalIDs(set); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	if err := runLab(t, Options{StateDir: dir, HostOVS: host.sock}); err != nil {
		t.Error(err)
	}
	assertClean(t, dir)
	after, err := host.externalIDs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("host OVS external_ids after the lab (-before +after):\n%s", diff)
	}
	if ok, err := host.bridgeExists(integrationBridge); err != nil || ok {
		t.Errorf("host OVS still has %s (%v)", integrationBridge, err)
	}
}

// A host OVS that is already an OVN chassis is refused, untouched.
func TestLabRefusesOVNChassis(t *testing.T) {
	needLab(t, false)
	host := startTestOVS(t)
	remote := "tcp:192.0.2.1:6642"
	if err := host.setExternalIDs(map[string]*string{"ovn-remote": &remote}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	err := Run(t.Context(), Options{StateDir: dir, HostOVS: host.sock, PrivateSocketsOnly: true})
	if err == nil || !strings.Contains(err.Error(), "already an OVN chassis") {
		t.Errorf("Run = %v, want a refusal naming the OVN chassis", err)
	}
	ids, _ := host.externalIDs()
	if ids["ovn-remote"] != remote || len(ids) != 1 {
		t.Errorf("external_ids after the refusal = %v", ids)
	}
	assertClean(t, dir)
}

// startTestOVS starts an Open vSwitch that plays the host's.
func startTestOVS(t *testing.T) *localOVS {
	t.Helper()
	o, err := startPrivateOVS(filepath.Join(t.TempDir(), "host-ovs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.stop)
	o.private = false // the lab must treat it as the host's
	t.Cleanup(func() { o.private = true })
	return o
}

// TestLabAfterCrash kills a lab with SIGKILL in the middle of its demo;
// the next lab on the same state directory cleans up what it left and
// passes.
func TestLabAfterCrash(t *testing.T) {
	needLab(t, true)
	dir := filepath.Join(t.TempDir(), "lab")
	crashLab(t, dir, "")
	if err := runLab(t, Options{StateDir: dir}); err != nil {
		t.Error(err)
	}
	assertClean(t, dir)
}

// TestLabAfterCrashOnHostOVS: a lab killed while it had changed the
// host's OVS leaves it changed; the next lab restores it from the journal.
func TestLabAfterCrashOnHostOVS(t *testing.T) {
	needLab(t, true)
	host := startTestOVS(t)
	encapIP := "192.0.2.1"
	if err := host.setExternalIDs(map[string]*string{"ovn-encap-ip": &encapIP}); err != nil {
		t.Fatal(err)
	}
	before, err := host.externalIDs()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	crashLab(t, dir, host.sock)
	if ids, _ := host.externalIDs(); ids["ovn-remote"] == "" {
		t.Fatalf("the killed lab had not configured the host OVS: %v", ids)
	}
	if err := runLab(t, Options{StateDir: dir, HostOVS: host.sock}); err != nil {
		t.Error(err)
	}
	assertClean(t, dir)
	after, err := host.externalIDs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("host OVS external_ids (-before +after):\n%s", diff)
	}
	if ok, err := host.bridgeExists(integrationBridge); err != nil || ok {
		t.Errorf("host OVS still has %s (%v)", integrationBridge, err)
	}
}

// crashLab runs a lab in a child process (TestLabChild) on dir, and on the
// OVS at hostOVS unless "", and kills it with SIGKILL once its VIFs exist.
func crashLab(t *testing.T, dir, hostOVS string) {
	t.Helper()
	child := exec.Command(os.Args[0], "-test.run=^TestLabChild$")
	child.Env = append(os.Environ(), "OVND_LAB_TEST_CHILD="+dir, "OVND_LAB_TEST_HOST_OVS="+hostOVS)
	var out strings.Builder
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for len(labNamespaces()) < len(demoVIFs) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	t.Logf("killed lab output:\n%s", out.String())
	if len(labNamespaces()) == 0 {
		t.Fatal("the killed lab created no namespaces")
	}
	// Its daemons die with it (Pdeathsig); give them a moment.
	for i := 0; i < 50 && len(processesMentioning(dir)) > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLabChild is the lab that crashLab kills.
func TestLabChild(t *testing.T) {
	dir := os.Getenv("OVND_LAB_TEST_CHILD")
	if dir == "" {
		t.Skip("run by crashLab")
	}
	Run(context.Background(), Options{StateDir: dir, HostOVS: os.Getenv("OVND_LAB_TEST_HOST_OVS"),
		Demo: true, PrivateSocketsOnly: true, Out: os.Stdout, Log: os.Stderr})
}

// TestLabInterrupt is Ctrl-C on an interactive lab: once it runs, ending
// its context (what SIGINT does in main) stops it cleanly with no error.
func TestLabInterrupt(t *testing.T) {
	needLab(t, true)
	dir := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	running := make(chan struct{})
	out := &watchWriter{want: "the lab is running", seen: running}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{StateDir: dir, Demo: true, PrivateSocketsOnly: true, Out: out, Log: out})
	}()
	select {
	case <-running:
		if fileExists(filepath.Join(dir, "nb.sock")) && len(labNamespaces()) != len(demoVIFs) {
			t.Errorf("running lab has namespaces %v, want one per demo VIF", labNamespaces())
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after Ctrl-C = %v, want nil", err)
		}
	case err := <-done:
		t.Errorf("Run returned before it was running: %v", err)
	}
	t.Logf("lab output:\n%s", out.String())
	assertClean(t, dir)
}

// watchWriter collects output and closes seen once want appears.
type watchWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seen != nil && strings.Contains(w.buf.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A second lab on the same host is refused while the first runs, whatever
// its state directory, and changes nothing.
func TestLabOnePerHost(t *testing.T) {
	needLab(t, false)
	lock, err := lockHost(hostLock)
	if err != nil {
		t.Skip(err)
	}
	defer unlockHost(lock)
	dir := filepath.Join(t.TempDir(), "lab")
	err = Run(t.Context(), Options{StateDir: dir, PrivateSocketsOnly: true})
	want := fmt.Sprintf("another ovnd lab is running on this host (pid %d", os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Run = %v, want %q", err, want)
	}
	assertClean(t, dir)
}

// A demo that fails returns the reason, and the lab still cleans up: here
// vm3 never counts as up (the controller binds the ports before the
// first look, so a short timeout alone does not make them late).
func TestLabDemoFails(t *testing.T) {
	needLab(t, true)
	defer func(f func(context.Context, client.Client) []string) { portsDown = f }(portsDown)
	portsDown = func(context.Context, client.Client) []string { return []string{"vm3"} }
	dir := filepath.Join(t.TempDir(), "lab")
	err := runLab(t, Options{StateDir: dir, PortsUpTimeout: time.Millisecond})
	t.Logf("error: %v", err)
	if err == nil || !strings.Contains(err.Error(), "ports vm3 not up after 1ms") {
		t.Errorf("Run = %v, want the ports not up", err)
	}
	assertClean(t, dir)
}

// Namespaces and links named like the lab's (here one namespace and a
// veth pair), left with no state directory (a lab killed after its state
// dir was lost, or one run with another --state-dir), are swept before
// the lab starts.
func TestLabSweepsLeftovers(t *testing.T) {
	needLab(t, false)
	ns, link := namePrefix+"old", namePrefix+"oldh"
	t.Cleanup(func() { sweepVIFs() })
	if err := runAll(
		[]string{"ip", "netns", "add", ns},
		[]string{"ip", "link", "add", link, "type", "veth", "peer", "name", namePrefix + "oldp"},
	); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	ctx, cancel := context.WithCancel(t.Context())
	out := &watchWriter{want: "the lab is running", seen: make(chan struct{})}
	running := out.seen
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Options{StateDir: dir, PrivateSocketsOnly: true, Out: out, Log: out}) }()
	select {
	case <-running:
		if left := append(labNamespaces(), labLinks()...); len(left) > 0 {
			t.Errorf("leftovers still there while the lab runs: %v", left)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	case err := <-done:
		t.Errorf("Run returned before it was running: %v", err)
	}
	cancel()
	t.Logf("lab output:\n%s", out.String())
	if !strings.Contains(out.String(), "removing 3 namespaces and links named "+namePrefix) {
		t.Error("the lab did not say it removed the leftovers")
	}
	assertClean(t, dir)
}

// A host OVS whose database answers but whose ovs-vswitchd is gone is
// refused with what to start, and left as it was.
func TestLabNeedsVswitchd(t *testing.T) {
	needLab(t, false)
	host := startTestOVS(t)
	host.vswitchd.Stop(daemonGrace)
	before, err := host.externalIDs()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "lab")
	err = Run(t.Context(), Options{StateDir: dir, HostOVS: host.sock, PrivateSocketsOnly: true})
	if err == nil || !strings.Contains(err.Error(), "ovs-vswitchd does not run: start it") {
		t.Errorf("Run = %v, want a refusal naming ovs-vswitchd", err)
	}
	if after, _ := host.externalIDs(); !cmp.Equal(before, after) {
		t.Errorf("external_ids changed: %v, then %v", before, after)
	}
	assertClean(t, dir)
}

package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape a topology.
type Options struct {
	Chassis int // number of hypervisors; 2 when zero
}

// Topology is one run of the test bed: a central node and its chassis
// joined by an underlay bridge, which lives in its own namespace.
type Topology struct {
	Config     Config
	Run        string // run name, the prefix of everything it creates
	Dir        string // run directory: sockets, databases, daemon logs
	Central    *Central
	Chassis    []*Chassis
	underlayNS string
	restarts   int // daemons restarted by the test, to number kept outputs; test goroutine only

	mu        sync.Mutex // guards the fields below
	vifs      map[string]*VIF
	nextIf    int
	dumps     int
	artifacts string // created on first use
}

// New builds a topology from the environment's Config and registers its
// teardown with t. It skips the test when the machine cannot run it.
func New(t testing.TB, opts Options) *Topology {
	t.Helper()
	cfg, err := ConfigFromEnv()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return NewWith(t, cfg, opts)
}

// NewWith is New with an explicit Config.
func NewWith(t testing.TB, cfg Config, opts Options) *Topology {
	t.Helper()
	Require(t, cfg)
	if opts.Chassis == 0 {
		opts.Chassis = 2
	}
	start := time.Now()
	sweep(t.Logf)
	name, dir, err := newRun()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	tb := &Topology{Config: cfg, Run: name, Dir: dir, underlayNS: name + "-ul", vifs: map[string]*VIF{}}
	t.Cleanup(func() { tb.close(t) })
	if cfg.usesOVND() {
		if _, err := ovndPath(); err != nil {
			t.Fatalf("testbed: %s asks for ovnd: %v", cfg, err)
		}
	}
	if err := tb.build(opts); err != nil {
		tb.fail(t, "build topology: %v", err)
	}
	t.Logf("testbed: run %s (%s) with %d chassis up in %v", name, cfg, opts.Chassis, time.Since(start).Round(time.Millisecond))
	return tb
}

func (tb *Topology) build(opts Options) error {
	var err error
	if tb.Central, err = startCentral(filepath.Join(tb.Dir, "central"), tb.Config); err != nil {
		return err
	}
	if err := addNetns(tb.underlayNS); err != nil {
		return err
	}
	if err := runAll(
		[]string{"ip", "-n", tb.underlayNS, "link", "add", "ul", "type", "bridge"},
		[]string{"ip", "-n", tb.underlayNS, "link", "set", "ul", "up"},
	); err != nil {
		return err
	}
	for i := range opts.Chassis {
		if _, err := tb.startChassis(i); err != nil {
			return err
		}
	}
	for _, c := range tb.Chassis {
		if err := c.waitRegistered(tb, 30*time.Second); err != nil {
			return err
		}
	}
	// The NB -> northd -> SB -> every controller loop closes.
	if err := tb.checkDaemons(); err != nil {
		return err
	}
	_, err = tb.nbctl("--wait=hv", "sync")
	return err
}

// close tears everything down. On failure it first keeps the daemons'
// logs and databases in the artifacts directory.
func (tb *Topology) close(t testing.TB) {
	if t.Failed() {
		tb.saveArtifacts(t)
	}
	tb.mu.Lock()
	vifs := make([]*VIF, 0, len(tb.vifs))
	for _, v := range tb.vifs {
		vifs = append(vifs, v)
	}
	tb.mu.Unlock()
	for _, v := range vifs {
		v.unplug()
	}
	var wg sync.WaitGroup
	for _, c := range tb.Chassis {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop() }()
	}
	wg.Wait()
	if tb.Central != nil {
		tb.Central.stop()
	}
	if err := delNetns(tb.underlayNS); err != nil {
		t.Errorf("testbed teardown: %v", err)
	}
	tb.verifyClean(t)
	if err := os.RemoveAll(tb.Dir); err != nil {
		t.Errorf("testbed teardown: %v", err)
	}
}

// verifyClean checks that teardown left no process and no namespace of
// the run behind, and removes any it finds.
func (tb *Topology) verifyClean(t testing.TB) {
	if left := killRunProcesses(tb.Run); len(left) > 0 {
		t.Errorf("testbed teardown: killed %d leftover processes: %q", len(left), left)
	}
	if left := matchNetns(tb.Run); len(left) > 0 {
		t.Errorf("testbed teardown: leftover namespaces %v", left)
		for _, ns := range left {
			_ = delNetns(ns)
		}
	}
}

// daemons lists every daemon of the topology.
func (tb *Topology) daemons() []*daemon {
	var ds []*daemon
	if tb.Central != nil {
		ds = append(ds, tb.Central.daemons()...)
	}
	for _, c := range tb.Chassis {
		ds = append(ds, c.daemons()...)
	}
	return ds
}

// Alive returns an error naming the first daemon of the topology that
// stopped; a scenario cannot pass after that.
func (tb *Topology) Alive() error { return tb.checkDaemons() }

// checkDaemons returns an error naming the first daemon that stopped.
func (tb *Topology) checkDaemons() error {
	for _, d := range tb.daemons() {
		if err := d.Alive(); err != nil {
			return err
		}
	}
	return nil
}

// NBCtl runs ovn-nbctl against the NB and fails the test on error.
func (tb *Topology) NBCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := tb.nbctl(args...)
	if err != nil {
		tb.fail(t, "%v", err)
	}
	return strings.TrimSpace(out)
}

// SBCtl runs ovn-sbctl against the SB and fails the test on error.
func (tb *Topology) SBCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := tb.sbctl(args...)
	if err != nil {
		tb.fail(t, "%v", err)
	}
	return strings.TrimSpace(out)
}

// TryNBCtl runs ovn-nbctl against the NB and returns its error rather
// than failing the test: for commands that are expected to fail.
func (tb *Topology) TryNBCtl(args ...string) (string, error) {
	out, err := tb.nbctl(args...)
	return strings.TrimSpace(out), err
}

func (tb *Topology) nbctl(args ...string) (string, error) {
	return run("", nil, append([]string{"ovn-nbctl", "--db=" + tb.Central.NBRemote(), "--timeout=25"}, args...)...)
}

func (tb *Topology) sbctl(args ...string) (string, error) {
	return run("", nil, append([]string{"ovn-sbctl", "--db=" + tb.Central.SBRemote(), "--timeout=25"}, args...)...)
}

// Sync waits until every chassis has applied the NB as it is now
// (ovn-nbctl --wait=hv sync).
func (tb *Topology) Sync(t testing.TB) {
	t.Helper()
	tb.NBCtl(t, "--wait=hv", "sync")
}

// ResetNB removes every logical switch, router, port group, address set,
// load balancer and DHCP option set, so that the next scenario starts
// from an empty NB, and waits for the chassis to apply it. It reports
// errors with t.Errorf, so that it can run in a t.Cleanup.
func (tb *Topology) ResetNB(t testing.TB) {
	t.Helper()
	args := []string{"--wait=hv"}
	if err := tb.checkDaemons(); err != nil {
		args = nil // no chassis could confirm: do not wait for them
	}
	for i, table := range []string{"Logical_Switch", "Logical_Router", "Port_Group", "Address_Set",
		"Load_Balancer", "DHCP_Options"} {
		if len(args) > 0 && i > 0 {
			args = append(args, "--")
		}
		args = append(args, "--all", "destroy", table)
	}
	if _, err := tb.nbctl(args...); err != nil {
		t.Errorf("testbed: reset NB: %v", err)
	}
}

// HV returns chassis n (1-based, matching its name "hvN").
func (tb *Topology) HV(n int) *Chassis { return tb.Chassis[n-1] }

// PortUp returns nil once logical switch port lsp is up in the NB.
func (tb *Topology) PortUp(lsp string) error {
	out, err := tb.nbctl("get", "Logical_Switch_Port", lsp, "up")
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "true" {
		return fmt.Errorf("%s: up=%s", lsp, strings.TrimSpace(out))
	}
	return nil
}

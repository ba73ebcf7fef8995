package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Disruptions for robustness tests: restarting a chassis's controller or
// its OVS, taking the central databases away, freezing northd, and a
// ping that runs through all of it and counts what was lost.

// RestartController stops the chassis's controller, with SIGKILL when kill
// is set and SIGTERM otherwise, and starts it again. The output of the
// stopped controller is kept next to the new one's.
func (c *Chassis) RestartController(t testing.TB, kill bool) {
	t.Helper()
	c.tb.restarts++
	if kill {
		_ = syscall.Kill(-c.ctl.Pid(), syscall.SIGKILL)
	}
	c.ctl.Stop(5 * time.Second)
	c.keepOutput("controller.out")
	if err := c.startController(c.tb); err != nil {
		t.Fatalf("testbed: restart %s controller: %v", c.Name, err)
	}
}

// keepOutput renames a daemon output file so that a restart does not
// overwrite it.
func (c *Chassis) keepOutput(name string) {
	p := filepath.Join(c.Dir, name)
	_ = os.Rename(p, fmt.Sprintf("%s.%d", p, c.tb.restarts))
}

// RestartOVS stops ovs-vswitchd and the chassis's ovsdb-server and starts
// them again on the same database, as an Open vSwitch upgrade does. With
// the userspace datapath, the kernel side of br-phy goes with
// ovs-vswitchd, so its tunnel address is configured again.
func (c *Chassis) RestartOVS(t testing.TB) {
	t.Helper()
	c.tb.restarts++
	c.vswitchd.Stop(5 * time.Second)
	c.ovsdb.Stop(5 * time.Second)
	for _, n := range []string{"ovs-vswitchd.out", "ovsdb-server.out"} {
		c.keepOutput(n)
	}
	if err := c.startOVSOn(filepath.Join(c.Dir, "conf.db")); err != nil {
		t.Fatalf("testbed: restart %s ovs: %v", c.Name, err)
	}
	if err := poll(20*time.Second, func() error {
		_, err := run("", nil, "ip", "-n", c.NS, "link", "show", "br-phy")
		return err
	}); err != nil {
		t.Fatalf("testbed: %s: br-phy did not come back: %v", c.Name, err)
	}
	if err := runAll(
		[]string{"ip", "-n", c.NS, "addr", "replace", c.TunnelIP + "/24", "dev", "br-phy"},
		[]string{"ip", "-n", c.NS, "link", "set", "br-phy", "up"},
	); err != nil {
		t.Fatalf("testbed: %s: br-phy: %v", c.Name, err)
	}
}

// startOVSOn starts ovsdb-server on an existing database, initialises
// it if it is new, then starts ovs-vswitchd.
func (c *Chassis) startOVSOn(db string) error {
	var err error
	c.ovsdb, err = startDaemon(c.Name+"/ovsdb-server", filepath.Join(c.Dir, "ovsdb-server.out"), c.NS, c.env(),
		"ovsdb-server", db, "--remote=punix:"+c.dbSock(),
		"--pidfile="+filepath.Join(c.Dir, "ovsdb-server.pid"),
		"--unixctl="+filepath.Join(c.Dir, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(c.Dir, "ovsdb-server.log"), "--no-chdir")
	if err != nil {
		return err
	}
	if err := poll(20*time.Second, func() error {
		if err := c.ovsdb.Alive(); err != nil {
			return err
		}
		_, err := c.VSCtl("--no-wait", "init")
		return err
	}); err != nil {
		return err
	}
	c.vswitchd, err = startDaemon(c.Name+"/ovs-vswitchd", filepath.Join(c.Dir, "ovs-vswitchd.out"), c.NS, c.env(),
		"ovs-vswitchd", "unix:"+c.dbSock(),
		"--pidfile="+filepath.Join(c.Dir, "ovs-vswitchd.pid"),
		"--unixctl="+filepath.Join(c.Dir, "ovs-vswitchd.ctl"),
		"--log-file="+filepath.Join(c.Dir, "ovs-vswitchd.log"), "--no-chdir")
	return err
}

// StopDB stops the central databases (NB and SB: one process serves both)
// and returns a function that starts them again on the same files. The
// test's cleanup restarts them if the test does not.
func (tb *Topology) StopDB(t testing.TB) (restart func()) {
	t.Helper()
	c := tb.Central
	c.db.Stop(5 * time.Second)
	var once sync.Once
	restart = func() {
		once.Do(func() {
			tb.restarts++
			p := filepath.Join(c.Dir, "db.out")
			_ = os.Rename(p, fmt.Sprintf("%s.%d", p, tb.restarts))
			if err := c.startDB(tb.Config.DB); err != nil {
				t.Fatalf("testbed: restart central db: %v", err)
			}
			if err := c.waitDB(); err != nil {
				t.Fatalf("testbed: restart central db: %v", err)
			}
		})
	}
	t.Cleanup(restart)
	return restart
}

// PauseNorthd stops northd (SIGSTOP to its process group), so that it
// leaves the SB alone, until resume is called or the test ends.
func (tb *Topology) PauseNorthd(t testing.TB) (resume func()) {
	t.Helper()
	pgid := tb.Central.northd.Pid()
	if err := syscall.Kill(-pgid, syscall.SIGSTOP); err != nil {
		t.Fatalf("testbed: pause northd: %v", err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(-pgid, syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}

// ControllerOutput returns what the chassis's current controller has
// written to its stdout and stderr so far.
func (c *Chassis) ControllerOutput() string { return readFile(c.ctl.Output) }

// PingRun is a ping running in the background: see StartPing.
type PingRun struct {
	v      *VIF
	cmd    *exec.Cmd
	out    *os.File
	result chan error
}

// StartPing sends n echo requests from v to dst, one every interval, in
// the background; Wait collects the result.
func (v *VIF) StartPing(t testing.TB, dst Target, interval time.Duration, n int) *PingRun {
	t.Helper()
	f, err := os.CreateTemp(v.Chassis.Dir, "ping-*.out")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", v.NS, "ping", "-q", "-c", strconv.Itoa(n),
		"-i", strconv.FormatFloat(interval.Seconds(), 'f', 3, 64), "-W", "2", dst.Address())
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("testbed: ping from %s: %v", v.Name, err)
	}
	p := &PingRun{v: v, cmd: cmd, out: f, result: make(chan error, 1)}
	go func() { p.result <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); f.Close() })
	return p
}

var pingSummary = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// Wait waits for the ping to send all its requests and for the last
// reply (up to 2 s), and returns how many requests it sent and how many
// replies came back. Waiting for ping to finish on its own, rather than
// interrupting it, keeps a request still in flight from counting as lost.
func (p *PingRun) Wait(t testing.TB) (sent, received int) {
	t.Helper()
	select {
	case <-p.result:
	case <-time.After(5 * time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.result
	}
	out := readFile(p.out.Name())
	m := pingSummary.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("testbed: ping from %s: no summary in %q", p.v.Name, out)
	}
	sent, _ = strconv.Atoi(m[1])
	received, _ = strconv.Atoi(m[2])
	return sent, received
}

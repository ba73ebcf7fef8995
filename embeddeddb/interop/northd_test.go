package interop

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// northd is an ovn-northd owned by a test.
type northd struct {
	name, ctl string
	proc      *process
}

// startNorthd runs ovn-northd in the foreground against s; it is killed
// in t.Cleanup and its log tail printed if the test failed.
func startNorthd(t *testing.T, s *Server, name string) *northd {
	t.Helper()
	dir := t.TempDir()
	n := &northd{name: name, ctl: filepath.Join(dir, "northd.ctl")}
	logPath := filepath.Join(dir, "northd.log")
	cmd := exec.Command("ovn-northd", "--ovnnb-db="+s.NB(), "--ovnsb-db="+s.SB(),
		"--pidfile="+filepath.Join(dir, "northd.pid"), "--unixctl="+n.ctl,
		"--log-file="+logPath, "-vconsole:off")
	cmd.Env = clientEnv()
	p, err := startProcess(cmd, logPath)
	if err != nil {
		t.Fatalf("start ovn-northd %s: %v", name, err)
	}
	n.proc = p
	t.Cleanup(func() {
		n.proc.kill()
		if t.Failed() {
			t.Logf("ovn-northd %s log tail:\n%s", name, fileTail(logPath, 30))
		}
	})
	return n
}

// status returns what "ovn-appctl status" says, e.g. "active".
func (n *northd) status() string {
	r := Run(context.Background(), nil, "ovn-appctl", "-t", n.ctl, "status")
	if r.Code != 0 {
		return fmt.Sprintf("(ovn-appctl: exit %d: %s)", r.Code, strings.TrimSpace(r.Stderr))
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stdout), "Status:"))
}

// waitStatus waits until the northd reports want.
func (n *northd) waitStatus(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	if err := waitUntil(timeout, func() bool { return n.status() == want }); err != nil {
		t.Fatalf("ovn-northd %s: status %q, want %q after %v", n.name, n.status(), want, timeout)
	}
}

// waitUntil polls cond every 50ms until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met within %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// TestNorthd runs the real ovn-northd against the target: it takes its
// lock, translates a switch with a port into the SB, and --wait=sb works.
func TestNorthd(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	n := startNorthd(t, s, "a")
	n.waitStatus(t, "active", 10*time.Second)
	nb, sb := NBCtl(s), SBCtl(s)
	nb.Must(t, "ls-add", "sw0", "--", "lsp-add", "sw0", "p1")
	nb.Must(t, "--wait=sb", "sync")
	checkTranslated(t, sb, "sw0", "p1")
	if got := nb.Must(t, "get", "NB_Global", ".", "sb_cfg"); strings.TrimSpace(got) == "0" {
		t.Errorf("NB_Global sb_cfg is 0 after --wait=sb sync")
	}
}

// checkTranslated requires the SB rows northd makes for a switch and port.
func checkTranslated(t *testing.T, sb *Ctl, sw, port string) {
	t.Helper()
	dps := sb.Must(t, "--bare", "--columns=external_ids", "list", "Datapath_Binding")
	if !strings.Contains(dps, "name="+sw) {
		t.Errorf("no Datapath_Binding for %s; have:\n%s", sw, dps)
	}
	pb := sb.Must(t, "--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port="+port)
	if strings.TrimSpace(pb) != port {
		t.Errorf("no Port_Binding for %s; find printed %q", port, pb)
	}
	flows := sb.Must(t, "--bare", "--columns=_uuid", "list", "Logical_Flow")
	if n := len(strings.Fields(flows)); n < 10 {
		t.Errorf("%d Logical_Flow rows, want many", n)
	}
	if lf := sb.Must(t, "lflow-list", sw); !strings.Contains(lf, "ls_in_check_port_sec") {
		t.Errorf("lflow-list %s lacks ls_in_check_port_sec:\n%.1000s", sw, lf)
	}
}

// TestNorthdFailover runs two ovn-northd: one takes the lock, the other
// stands by and takes over within a few seconds of the first one dying.
func TestNorthdFailover(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	a, b := startNorthd(t, s, "a"), startNorthd(t, s, "b")
	active, standby := a, b
	if err := waitUntil(10*time.Second, func() bool {
		return a.status() == "active" || b.status() == "active"
	}); err != nil {
		t.Fatalf("neither ovn-northd became active: a %q, b %q", a.status(), b.status())
	}
	if b.status() == "active" {
		active, standby = b, a
	}
	standby.waitStatus(t, "standby", 5*time.Second)
	active.proc.kill()
	standby.waitStatus(t, "active", 5*time.Second)
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "sw1", "--", "lsp-add", "sw1", "p2")
	nb.Must(t, "--wait=sb", "sync")
	checkTranslated(t, SBCtl(s), "sw1", "p2")
}

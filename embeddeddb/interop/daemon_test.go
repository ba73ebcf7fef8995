package interop

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDaemonAcrossRestart keeps an ovn-nbctl daemon connected while the
// server restarts: its IDL reconnects (resuming its monitor with
// monitor_cond_since where the server offers it) and must then see both
// the rows it had and the changes made by others after the restart.
func TestDaemonAcrossRestart(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	direct := NBCtl(s)
	daemon := direct.StartDaemon(t)
	daemon.Must(t, "ls-add", "sw0")
	direct.Must(t, "ls-add", "sw1")
	waitDaemon(t, daemon, "sw0", "sw1")
	s.Stop(t)
	s.Start(t)
	direct.Must(t, "ls-add", "sw2", "--", "ls-del", "sw1")
	waitDaemon(t, daemon, "sw0", "sw2")
	daemon.Must(t, "ls-add", "sw3")
	if got := direct.Must(t, "--bare", "--columns=name", "find", "Logical_Switch", "name=sw3"); got != "sw3\n" {
		t.Errorf("daemon's write after the restart: find printed %q", got)
	}
}

// waitDaemon waits until the daemon's ls-list shows exactly names.
func waitDaemon(t *testing.T, daemon *Ctl, names ...string) {
	t.Helper()
	var last Result
	err := waitUntil(10*time.Second, func() bool {
		last = daemon.Run(t, "--bare", "--columns=name", "list", "Logical_Switch")
		got := strings.Fields(last.Stdout)
		slices.Sort(got)
		return last.Code == 0 && strings.Join(got, " ") == strings.Join(names, " ")
	})
	if err != nil {
		t.Fatalf("daemon sees %q (exit %d, %s), want %v", last.Stdout, last.Code, strings.TrimSpace(last.Stderr), names)
	}
}

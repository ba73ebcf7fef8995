package lab

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

// cmdTimeout bounds every short command the lab runs (ip, ovs-vsctl, ...).
const cmdTimeout = 30 * time.Second

// run runs argv with env added to the lab's environment and returns its
// stdout. The error carries the command line and its stderr.
func run(env []string, argv ...string) (string, error) {
	return proc.Run(cmdTimeout, "", env, argv...)
}

// runAll runs commands in order and stops at the first error.
func runAll(cmds ...[]string) error {
	for _, argv := range cmds {
		if _, err := run(nil, argv...); err != nil {
			return err
		}
	}
	return nil
}

// daemon is a long-running child: its own process group, so that the
// terminal's Ctrl-C reaches only ovnd, which then stops the children in
// order; and a parent-death SIGTERM, so that it stops with ovnd even on
// SIGKILL.
type daemon = proc.Daemon

// daemonGrace is how long a daemon has to stop after SIGTERM.
const daemonGrace = 5 * time.Second

// startDaemon starts argv with its stdout and stderr appended to logPath.
func startDaemon(name, logPath string, env []string, argv ...string) (*daemon, error) {
	return proc.Start(name, logPath, proc.Options{Env: env, Append: true, DeathSignal: syscall.SIGTERM}, argv...)
}

// killStale stops a process left by an earlier lab: pid from a pid file,
// and only when its command line names dir, so that a reused pid of
// someone else's process is left alone.
func killStale(pidFile, dir string) error {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return nil
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil || pid <= 1 {
		return nil
	}
	if !proc.CmdlineMentions(pid, dir) {
		return nil
	}
	signalPid(pid, syscall.SIGTERM)
	for i := 0; i < 50 && proc.Running(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if proc.Running(pid) {
		if err := signalPid(pid, syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("kill stale pid %d: %w", pid, err)
		}
	}
	return nil
}

package testbed

import (
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

// cmdTimeout bounds every short-lived command the test bed runs.
const cmdTimeout = 30 * time.Second

// run runs argv in ns with a deadline and returns its stdout. The error
// carries the command line and its stderr.
func run(ns string, env []string, argv ...string) (string, error) {
	return proc.Run(cmdTimeout, ns, env, argv...)
}

func runTimeout(d time.Duration, ns string, env []string, argv ...string) (string, error) {
	return proc.Run(d, ns, env, argv...)
}

// daemon is a long-running process the test bed owns. It runs in its own
// process group and dies with the test process (Pdeathsig) even when the
// test process is killed without running its cleanups.
type daemon = proc.Daemon

// startDaemon starts argv in ns with its stdout and stderr in output.
func startDaemon(name, output, ns string, env []string, argv ...string) (*daemon, error) {
	return proc.Start(name, output, proc.Options{NetNS: ns, Env: env}, argv...)
}

// errExited says a daemon stopped on its own (Daemon.Alive wraps it).
var errExited = proc.ErrExited

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

// daemon is a long-running process the benchmark started; it never
// outlives the benchmark (parent-death signal) and is stopped in order.
type daemon struct {
	*proc.Daemon
	started time.Time
}

// spawn starts argv in network namespace ns ("" for the current one) with
// extra environment env, its output in dir/name.out.
func spawn(dir, name, ns string, env []string, argv ...string) (*daemon, error) {
	started := time.Now()
	d, err := proc.Start(name, filepath.Join(dir, name+".out"), proc.Options{NetNS: ns, Env: env}, argv...)
	if err != nil {
		return nil, err
	}
	return &daemon{Daemon: d, started: started}, nil
}

// stop sends SIGTERM to the process group, SIGKILL after 5 s, and waits.
func (d *daemon) stop() { d.Stop(5 * time.Second) }

// sh runs a short command and returns its standard output; the error
// carries its standard error.
func sh(ctx context.Context, env []string, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

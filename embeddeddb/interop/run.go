package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cmdTimeout bounds every client command the suite runs.
const cmdTimeout = 10 * time.Second

// Result is what one client command printed and how it exited.
type Result struct {
	Args           []string
	Stdout, Stderr string
	// Code is the exit status; -1 means the command did not finish.
	Code int
	// Took is how long the command ran.
	Took time.Duration
}

// stuckAfter is how long a script step may run before the script gives
// up: every step is meant to be quick, and a target that makes each one
// time out would otherwise keep a script running for many minutes.
const stuckAfter = 4 * time.Second

// Stuck reports whether the command hung or timed out.
func (r Result) Stuck() bool { return r.Code == -1 || r.Took >= stuckAfter }

// Transcript renders r as a block of a session log, the form compared by
// the differential tests.
func (r Result) Transcript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", strings.Join(r.Args, " "))
	b.WriteString(r.Stdout)
	if r.Stderr != "" {
		fmt.Fprintf(&b, "[stderr]\n%s", r.Stderr)
	}
	if r.Code != 0 {
		fmt.Fprintf(&b, "[exit %d]\n", r.Code)
	}
	return b.String()
}

// clientEnv is the environment for client commands: ours, minus anything
// that would redirect a client to another server or daemon.
func clientEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OVN_NB_DAEMON", "OVN_SB_DAEMON", "OVN_NB_DB", "OVN_SB_DB", "OVS_RUNDIR", "OVN_RUNDIR":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// Run runs a client command with a deadline and returns what it printed.
func Run(ctx context.Context, env []string, name string, args ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = clientEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Took: time.Since(start), Args: append([]string{name}, args...), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		r.Code = exitErr.ExitCode()
	default:
		r.Code = -1
		r.Stderr += fmt.Sprintf("[run: %v]\n", err)
	}
	return r
}

// Ctl drives ovn-nbctl or ovn-sbctl against one database, either directly
// or through a daemon started by StartDaemon.
type Ctl struct {
	Tool string
	DB   string
	// SSL holds -p, -c and -C options for ssl: databases.
	SSL []string
	// daemonEnv is "OVN_NB_DAEMON=socket" in daemon mode.
	daemonEnv string
}

// NBCtl returns an ovn-nbctl that talks to s directly.
func NBCtl(s *Server) *Ctl { return &Ctl{Tool: "ovn-nbctl", DB: s.NB()} }

// SBCtl returns an ovn-sbctl that talks to s directly.
func SBCtl(s *Server) *Ctl { return &Ctl{Tool: "ovn-sbctl", DB: s.SB()} }

// Run runs one invocation with args and returns its result. The args are
// recorded without the --db option so transcripts do not name sockets.
func (c *Ctl) Run(t testing.TB, args ...string) Result {
	t.Helper()
	full := append([]string{"--timeout=5"}, args...)
	var env []string
	if c.daemonEnv != "" {
		env = []string{c.daemonEnv}
	} else {
		full = append(append([]string{"--db=" + c.DB}, c.SSL...), full...)
	}
	r := Run(context.Background(), env, c.Tool, full...)
	r.Args = append([]string{c.Tool}, args...)
	return r
}

// Must runs args and fails the test unless the command exits 0.
func (c *Ctl) Must(t testing.TB, args ...string) string {
	t.Helper()
	r := c.Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Fail runs args and fails the test unless the command exits non-zero; it
// returns stderr.
func (c *Ctl) Fail(t testing.TB, args ...string) string {
	t.Helper()
	r := c.Run(t, args...)
	if r.Code == 0 {
		t.Fatalf("%s: succeeded, want failure\nstdout: %s", strings.Join(r.Args, " "), r.Stdout)
	}
	return r.Stderr
}

// StartDaemon starts the tool in daemon mode (--detach --pidfile) against
// c's database and returns a Ctl whose commands go through it. The daemon
// is killed in t.Cleanup.
func (c *Ctl) StartDaemon(t testing.TB) *Ctl {
	t.Helper()
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "daemon.pid")
	sock := filepath.Join(dir, "daemon.ctl")
	r := Run(context.Background(), nil, c.Tool, "--db="+c.DB, "--detach", "--pidfile="+pidfile,
		"--unixctl="+sock, "--log-file="+filepath.Join(dir, "daemon.log"))
	t.Cleanup(func() { killPidfile(pidfile) })
	if r.Code != 0 {
		t.Fatalf("%s daemon: exit %d: %s", c.Tool, r.Code, r.Stderr)
	}
	envVar := "OVN_NB_DAEMON"
	if c.Tool == "ovn-sbctl" {
		envVar = "OVN_SB_DAEMON"
	}
	return &Ctl{Tool: c.Tool, DB: c.DB, daemonEnv: envVar + "=" + strings.TrimSpace(r.Stdout)}
}

// killPidfile ends the daemon whose pid a --pidfile names, and waits a
// little for it to go.
func killPidfile(pidfile string) {
	b, err := os.ReadFile(pidfile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

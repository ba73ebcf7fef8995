package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// cmdTimeout bounds every short-lived command the test bed runs.
const cmdTimeout = 30 * time.Second

// command builds argv, run inside network namespace ns unless ns is "".
// env is added to the test process's environment.
func command(ctx context.Context, ns string, env []string, argv ...string) *exec.Cmd {
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Kill the whole process group when the context expires.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// run runs argv in ns with a deadline and returns its stdout. The error
// carries the command line and its stderr.
func run(ns string, env []string, argv ...string) (string, error) {
	return runTimeout(cmdTimeout, ns, env, argv...)
}

func runTimeout(d time.Duration, ns string, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := command(ctx, ns, env, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", d)
		}
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// daemon is a long-running process the test bed owns. It runs in its own
// process group and dies with the test process (Pdeathsig) even when the
// test process is killed without running its cleanups.
type daemon struct {
	name   string
	cmd    *exec.Cmd
	output string // file with the daemon's stdout and stderr
	done   chan struct{}
	err    error // valid once done is closed
}

// startDaemon starts argv in ns with its stdout and stderr in output.
func startDaemon(name, output, ns string, env []string, argv ...string) (*daemon, error) {
	f, err := os.Create(output)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := command(context.Background(), ns, env, argv...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, output: output, done: make(chan struct{})}
	go d.routineWait()
	return d, nil
}

func (d *daemon) routineWait() {
	d.err = d.cmd.Wait()
	close(d.done)
}

// exited reports whether the daemon has stopped, and why.
func (d *daemon) exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the daemon's process group, and SIGKILL if it is
// still there after grace. It waits for the daemon to be reaped.
func (d *daemon) stop(grace time.Duration) {
	pgid := d.cmd.Process.Pid
	if done, _ := d.exited(); !done {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(grace):
		}
	}
	// The group may hold children of the daemon even after it exited.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
}

// errExited says a daemon stopped on its own.
var errExited = errors.New("exited")

// alive returns an error naming the daemon if it has stopped.
func (d *daemon) alive() error {
	if done, err := d.exited(); done {
		return fmt.Errorf("%s %w: %v: %s", d.name, errExited, err, lastLine(readFile(d.output)))
	}
	return nil
}

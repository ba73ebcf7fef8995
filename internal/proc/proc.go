// Package proc starts and stops the child processes that the test bed,
// the lab and the benchmarks run (ovsdb-server, ovs-vswitchd,
// ovn-northd, ovn-controller, ovnd, tcpdump...), and reads what Linux
// says of a process (memory, CPU, state).
//
// A Daemon runs in a process group of its own, so that a terminal's
// Ctrl-C reaches only its parent and a stop reaches its children too, and
// with a parent-death signal, so that it never outlives its parent even
// when the parent is killed without running its cleanups.
package proc

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

// ErrExited is wrapped by Alive's error: the daemon stopped on its own.
var ErrExited = errors.New("exited")

// Options say how Start runs a daemon.
type Options struct {
	NetNS       string         // run inside this network namespace (ip netns exec); "" for the current one
	Env         []string       // added to the parent's environment
	Append      bool           // append to the output file instead of truncating it
	DeathSignal syscall.Signal // sent to the daemon when its parent dies; 0 means SIGKILL
}

// Daemon is a long-running child process.
type Daemon struct {
	Name   string
	Output string    // the file that receives its stdout and stderr
	Cmd    *exec.Cmd // as started (Args include the ip netns exec prefix)
	done   chan struct{}
	err    error // Wait's result, valid once done is closed
}

// Command builds argv, run inside network namespace ns unless ns is "",
// with env added to the parent's environment, in a process group of its
// own that ctx's end kills, and dying with its parent.
func Command(ctx context.Context, ns string, env []string, argv ...string) *exec.Cmd {
	return command(ctx, Options{NetNS: ns, Env: env}, argv)
}

func command(ctx context.Context, o Options, argv []string) *exec.Cmd {
	if o.NetNS != "" {
		argv = append([]string{"ip", "netns", "exec", o.NetNS}, argv...)
	}
	sig := o.DeathSignal
	if sig == 0 {
		sig = syscall.SIGKILL
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), o.Env...)
	ownGroup(cmd, sig)
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Start starts argv as the daemon name with its stdout and stderr in the
// file output.
func Start(name, output string, o Options, argv ...string) (*Daemon, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("start %s: no command", name)
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if o.Append {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(output, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := command(context.Background(), o, argv)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &Daemon{Name: name, Output: output, Cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// Pid is the daemon's process id (the group id of its process group).
func (d *Daemon) Pid() int { return d.Cmd.Process.Pid }

// Done is closed once the daemon has exited and been reaped.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Exited reports whether the daemon has exited, and Wait's error (nil for
// exit status 0).
func (d *Daemon) Exited() (bool, error) {
	select {
	case <-d.done:
		return true, d.err
	default:
		return false, nil
	}
}

// Alive returns nil while the daemon runs, and once it has exited an
// error that wraps ErrExited and names the daemon, how it exited and the
// last lines of its output.
func (d *Daemon) Alive() error {
	done, err := d.Exited()
	if !done {
		return nil
	}
	msg := fmt.Errorf("%s %w", d.Name, ErrExited)
	if err != nil {
		msg = fmt.Errorf("%w: %v", msg, err)
	}
	if tail := d.Tail(3); tail != "" {
		msg = fmt.Errorf("%w; its output ends:\n%s", msg, tail)
	}
	return msg
}

// Tail returns the last n lines of the daemon's output.
func (d *Daemon) Tail(n int) string { return LastLines(d.Output, n) }

// Stop sends SIGTERM to the daemon's process group and SIGKILL if the
// daemon is still there after grace; it then kills what is left of the
// group (children of the daemon) and waits for the daemon to be reaped.
// A nil Daemon is already stopped.
func (d *Daemon) Stop(grace time.Duration) {
	if d == nil {
		return
	}
	pgid := d.Pid()
	if done, _ := d.Exited(); !done {
		_ = signalGroup(d.Cmd, pgid, syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(grace):
		}
	}
	_ = signalGroup(d.Cmd, pgid, syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
}

// Run runs argv in network namespace ns (or the current one) with env
// added, for at most timeout, and returns its stdout. The error carries
// the command line and its stderr.
func Run(timeout time.Duration, ns string, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := Command(ctx, ns, env, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", timeout)
		}
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// LastLines returns the last n lines of the file at path, or "".
func LastLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

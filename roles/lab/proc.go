package lab

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

// cmdTimeout bounds every short command the lab runs (ip, ovs-vsctl, ...).
const cmdTimeout = 30 * time.Second

// run runs argv with env added to the lab's environment and returns its
// stdout. The error carries the command line and its stderr.
func run(env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", cmdTimeout)
		}
		return stdout.String(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
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
// order; and Pdeathsig, so that it dies with ovnd even on SIGKILL.
type daemon struct {
	name string
	log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid once done is closed
}

// startDaemon starts argv with its stdout and stderr appended to logPath.
func startDaemon(name, logPath string, env []string, argv ...string) (*daemon, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go d.routineWait()
	return d, nil
}

func (d *daemon) routineWait() {
	d.err = d.cmd.Wait()
	close(d.done)
}

// exited reports the daemon's exit, if it has exited.
func (d *daemon) exited() (bool, error) {
	select {
	case <-d.done:
		err := fmt.Errorf("%s exited", d.name)
		if d.err != nil {
			err = fmt.Errorf("%s exited: %w", d.name, d.err)
		}
		if tail := lastLines(d.log, 3); tail != "" {
			err = fmt.Errorf("%w; its output ends:\n%s", err, tail)
		}
		return true, err
	default:
		return false, nil
	}
}

// stop sends SIGTERM and waits up to 5 s before killing the daemon.
func (d *daemon) stop() {
	if d == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
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
	if !cmdlineMentions(pid, dir) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if alive(pid) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill stale pid %d: %w", pid, err)
		}
	}
	return nil
}

// cmdlineMentions reports whether process pid runs with s in its command
// line.
func cmdlineMentions(pid int, s string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(data, []byte(s))
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

// lastLines returns the last n lines of the file at path, or "".
func lastLines(path string, n int) string {
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

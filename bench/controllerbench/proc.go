package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemon is a long-running process the benchmark started; it never
// outlives the benchmark (parent-death signal) and is stopped in order.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	started time.Time
}

// spawn starts argv in network namespace ns ("" for the current one) with
// extra environment env, its output in dir/name.out.
func spawn(dir, name, ns string, env []string, argv ...string) (*daemon, error) {
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	logPath := filepath.Join(dir, name+".out")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	d := &daemon{name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath}
	d.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(d.done) }()
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

func (d *daemon) alive() error {
	select {
	case <-d.done:
		return fmt.Errorf("%s exited: %s", d.name, d.tail())
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, SIGKILL after 5 s, and waits.
func (d *daemon) stop() { d.stopWithin(5 * time.Second) }

// stopWithin is stop with another grace period.
func (d *daemon) stopWithin(grace time.Duration) {
	_ = syscall.Kill(-d.pid(), syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(grace):
		_ = syscall.Kill(-d.pid(), syscall.SIGKILL)
		<-d.done
	}
}

// tail is the end of the daemon's output, for error messages.
func (d *daemon) tail() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 1200 {
		b = b[len(b)-1200:]
	}
	return strings.TrimSpace(string(b))
}

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

// procStatus reads VmRSS and VmHWM (bytes) from /proc/PID/status.
func procStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return statusMemory(string(b))
}

func statusMemory(status string) (rss, hwm int64, err error) {
	seen := map[string]int64{}
	for _, line := range strings.Split(status, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(val), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || strings.TrimSpace(unit) != "kB" {
			return 0, 0, fmt.Errorf("status line %q: want a number of kB", line)
		}
		seen[key] = n * 1024
	}
	if len(seen) != 2 {
		return 0, 0, fmt.Errorf("status has no VmRSS or no VmHWM")
	}
	return seen["VmRSS"], seen["VmHWM"], nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// procCPU is the CPU time (user + system) process pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return statCPU(string(b))
}

// statCPU reads utime and stime, fields 14 and 15 of /proc/PID/stat; the
// command name (field 2) may hold spaces, so fields count from its ')'.
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

package proc

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStatusMemory(t *testing.T) {
	rss, hwm, err := statusMemory("Name:\tovnd\nVmHWM:\t  4096 kB\nVmRSS:\t  3072 kB\nThreads:\t9\n")
	if err != nil || rss != 3<<20 || hwm != 4<<20 {
		t.Fatalf("got %d %d %v, want 3 MiB and 4 MiB", rss, hwm, err)
	}
	for _, bad := range []string{"VmRSS:\t1 MB\nVmHWM:\t1 kB\n", "VmRSS:\tx kB\nVmHWM:\t1 kB\n", "Name:\tx\n"} {
		if _, _, err := statusMemory(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestStatCPU(t *testing.T) {
	// utime 150 and stime 50 ticks; the name holds a space and a ')'.
	stat := "4242 (ovn controller) S 1 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 3 0 100 0 0"
	got, err := statCPU(stat)
	if err != nil || got != 2*time.Second {
		t.Fatalf("got %v %v, want 2s", got, err)
	}
	if _, err := statCPU("4242 (x) S 1 2"); err == nil {
		t.Error("short stat accepted")
	}
}

func TestSelf(t *testing.T) {
	pid := os.Getpid()
	if !Running(pid) {
		t.Error("this test is not running")
	}
	if rss, hwm, err := Memory(pid); err != nil || rss <= 0 || hwm < rss {
		t.Errorf("Memory: %d %d %v", rss, hwm, err)
	}
	if _, err := CPU(pid); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if !CmdlineMentions(pid, filepath.Base(os.Args[0])) {
		t.Error("CmdlineMentions: the test binary's own name not found")
	}
}

func TestDaemonExitsOnItsOwn(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d.out")
	d, err := Start("sh-test", out, Options{Env: []string{"PROC_TEST=hello"}}, "sh", "-c", `echo "$PROC_TEST"; echo second; exit 3`)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("sh did not exit")
	}
	err = d.Alive()
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "sh-test") ||
		!strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "hello\nsecond") {
		t.Errorf("Alive() = %v", err)
	}
	d.Stop(time.Second) // stopping an exited daemon returns at once
}

func TestDaemonStopKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "d.out")
	// The daemon ignores SIGTERM and leaves a child of its own behind.
	d, err := Start("stubborn", out, Options{}, "sh", "-c", `trap "" TERM; sleep 300 & echo $! > `+dir+`/child; wait`)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for deadline := time.Now().Add(10 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(dir, "child")); err == nil && len(b) > 1 {
			if child, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if child == 0 || d.Alive() != nil {
		t.Fatalf("daemon not started: %v", d.Alive())
	}
	start := time.Now()
	d.Stop(200 * time.Millisecond)
	if done, _ := d.Exited(); !done {
		t.Fatal("daemon still running after Stop")
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("Stop took %v", time.Since(start))
	}
	for deadline := time.Now().Add(5 * time.Second); Running(child); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's child %d survived Stop", child)
		}
	}
	var nilDaemon *Daemon
	nilDaemon.Stop(time.Second)
}

func TestOutputAppendOrTruncate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "d.out")
	for i, o := range []Options{{}, {Append: true}, {}} {
		d, err := Start("echo", out, o, "echo", "line")
		if err != nil {
			t.Fatal(err)
		}
		<-d.Done()
		b, _ := os.ReadFile(out)
		want := []string{"line\n", "line\nline\n", "line\n"}[i]
		if string(b) != want {
			t.Errorf("run %d: output %q, want %q", i, b, want)
		}
	}
	if _, err := Start("none", out, Options{}, "/nonexistent/binary"); err == nil {
		t.Error("a missing binary started")
	}
	if _, err := Start("none", out, Options{}); err == nil {
		t.Error("an empty command started")
	}
}

func TestRun(t *testing.T) {
	got, err := Run(10*time.Second, "", []string{"PROC_TEST=x"}, "sh", "-c", `echo "out $PROC_TEST"`)
	if err != nil || got != "out x\n" {
		t.Errorf("Run = %q, %v", got, err)
	}
	_, err = Run(10*time.Second, "", nil, "sh", "-c", "echo oops >&2; exit 1")
	if err == nil || !strings.Contains(err.Error(), "oops") || !strings.Contains(err.Error(), "sh -c") {
		t.Errorf("failing Run: %v", err)
	}
	start := time.Now()
	_, err = Run(200*time.Millisecond, "", nil, "sleep", "30")
	if err == nil || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 5*time.Second {
		t.Errorf("Run past its timeout: %v after %v", err, time.Since(start))
	}
}

func TestLastLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("a\nb\nc\nd\n"), 0o644)
	if got := LastLines(p, 2); got != "c\nd" {
		t.Errorf("LastLines = %q", got)
	}
	if got := LastLines(p+".missing", 2); got != "" {
		t.Errorf("LastLines of a missing file = %q", got)
	}
}

package interop

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Monitor is a background ovsdb-client (monitor, monitor-cond, ...) whose
// output is collected until it is stopped.
type Monitor struct {
	cancel context.CancelFunc
	cmd    *exec.Cmd
	done   chan struct{}

	mu  sync.Mutex // guards out
	out bytes.Buffer
}

// StartMonitor runs ovsdb-client with args in the background for at most
// 30 seconds; it is stopped in t.Cleanup.
func StartMonitor(t testing.TB, args ...string) *Monitor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	m := &Monitor{cancel: cancel, done: make(chan struct{})}
	m.cmd = exec.CommandContext(ctx, "ovsdb-client", args...)
	m.cmd.Env = clientEnv()
	m.cmd.Stdout = m
	m.cmd.Stderr = m
	if err := m.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("ovsdb-client %s: %v", strings.Join(args, " "), err)
	}
	go m.routineWait()
	t.Cleanup(m.Stop)
	return m
}

func (m *Monitor) routineWait() {
	_ = m.cmd.Wait()
	close(m.done)
}

// Write collects the client's output.
func (m *Monitor) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.Write(p)
}

// Output returns what the client printed so far.
func (m *Monitor) Output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.out.String()
}

// WaitFor waits until the output contains want.
func (m *Monitor) WaitFor(want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(m.Output(), want) {
		select {
		case <-m.done:
			return fmt.Errorf("ovsdb-client exited before printing %q; output:\n%s", want, m.Output())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q within %v; output:\n%s", want, timeout, m.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Stop ends the client and waits for it.
func (m *Monitor) Stop() {
	m.cancel()
	<-m.done
}

package testbed

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// pollInterval is the pause between two checks of a condition.
const pollInterval = 200 * time.Millisecond

// poll calls cond until it returns nil or timeout passes, and then returns
// cond's last error.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if errors.Is(err, errExited) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollInterval)
	}
}

// WaitFor waits until cond returns nil. When timeout passes first, or a
// daemon of the topology stops, it dumps the state of the topology and
// fails the test with desc and cond's last error.
func (tb *Topology) WaitFor(t testing.TB, desc string, timeout time.Duration, cond func() error) {
	t.Helper()
	start := time.Now()
	err := poll(timeout, func() error {
		if err := tb.checkDaemons(); err != nil {
			return err
		}
		return cond()
	})
	if err != nil {
		tb.fail(t, "%s: not reached after %v: %v", desc, time.Since(start).Round(time.Millisecond), err)
	}
}

// fail dumps the topology and fails the test now.
func (tb *Topology) fail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	tb.Dump(t, msg)
	t.Fatal(msg)
}

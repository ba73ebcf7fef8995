package ovsdbfile

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if a writer goroutine outlives the tests: every
// Log a test opens must be closed, and Close must stop its goroutine.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && os.Getenv(crashEnv) == "" {
		if stack := leakedWriter(); stack != "" {
			fmt.Fprintf(os.Stderr, "leaked writer goroutine:\n%s\n", stack)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedWriter returns the goroutine stacks if a writer goroutine is
// alive. One that has just called wg.Done may still be unwinding, so it
// looks a few times before reporting.
func leakedWriter() string {
	var stacks string
	for range 50 {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, ".routineWrite(") {
			return ""
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stacks
}

package ovsdbfile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// crashEnv names the file a TestCrashChild process writes.
const crashEnv = "OVSDBFILE_CRASH_CHILD"

// crashLimit is how many records a crash child appends at most.
const crashLimit = 20000

// TestCrash runs children that append records, mostly durable, from several
// goroutines while compacting every 100 records, kills each with SIGKILL
// after a random number of acknowledged records, and checks that the file
// opens and holds a prefix of the records that includes every
// acknowledged one.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for range 6 {
		path := dbPath(t)
		acked := runCrashChild(t, path, 1+rng.IntN(3000))
		records := reopen(t, path)
		m := checkSnapshotPrefix(t, records, acked, crashLimit)
		t.Logf("killed after ack %d; file holds up to %d in %d records", acked, m, len(records))
	}
}

// runCrashChild starts a child appending to path, SIGKILLs it after it
// acknowledged kill records, and returns the highest record it
// acknowledged.
func runCrashChild(t *testing.T, path string, kill int) int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	maxAck, count := 0, 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var n int
		if _, err := fmt.Sscanf(sc.Text(), "ack %d", &n); err != nil {
			continue
		}
		maxAck = max(maxAck, n)
		if count++; count == kill {
			cmd.Process.Kill()
		}
	}
	cmd.Wait()
	if count < kill {
		t.Logf("child ended on its own after %d acks; stderr:\n%s", count, stderr.Bytes())
	}
	return maxAck
}

// TestCrashChild is the child of TestCrash; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash")
	}
	l, err := Create(path, testSchema, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &crashChild{l: l}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(c.routineAppend)
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// crashChild appends records n = 1, 2, ... so that record n has seq n.
type crashChild struct {
	l     *Log
	mu    sync.Mutex // the commit lock: orders n and Append
	n     int
	outMu sync.Mutex // one ack line per write
}

func (c *crashChild) routineAppend() {
	for {
		c.mu.Lock()
		if c.n >= crashLimit {
			c.mu.Unlock()
			return
		}
		c.n++
		n, durable := c.n, c.n%5 != 0
		seq := c.l.Append(rec(n), durable)
		c.mu.Unlock()
		if err := c.l.Wait(context.Background(), seq); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if durable {
			c.outMu.Lock()
			fmt.Fprintf(os.Stdout, "ack %d\n", n)
			c.outMu.Unlock()
		}
		if n%100 == 0 {
			c.compact()
		}
	}
}

func (c *crashChild) compact() {
	c.mu.Lock()
	seq := c.l.LastSeq()
	c.mu.Unlock()
	if err := c.l.Compact(snap(seq), seq); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

package embeddeddb

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestKillChild is the server process of TestKillNine, which re-runs this
// binary with OVND_KILLTEST_CHILD set; otherwise it does nothing.
func TestKillChild(t *testing.T) {
	dir := os.Getenv("OVND_KILLTEST_CHILD")
	if dir == "" {
		return
	}
	runKillChild(dir)
	os.Exit(0)
}

func runKillChild(dir string) {
	s, err := New(Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NBRemotes: []string{"punix:" + filepath.Join(dir, "nb.sock")},
		SBRemotes: []string{"punix:" + filepath.Join(dir, "sb.sock")}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s.Serve(ctx)
}

func startKillChild(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
	cmd.Env = append(os.Environ(), "OVND_KILLTEST_CHILD="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", filepath.Join(dir, "nb.sock")); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("child server did not start")
	return nil
}

type rawClient struct {
	c   net.Conn
	dec *json.Decoder
	id  int
}

func dialRaw(t *testing.T, path string) *rawClient {
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return &rawClient{c: c, dec: json.NewDecoder(bufio.NewReader(c))}
}

// call sends one request and returns its reply's result, skipping
// notifications.
func (r *rawClient) call(method string, params ...any) (json.RawMessage, error) {
	r.id++
	msg, _ := json.Marshal(map[string]any{"id": r.id, "method": method, "params": params})
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(msg); err != nil {
		return nil, err
	}
	for {
		var rep struct {
			ID     any             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := r.dec.Decode(&rep); err != nil {
			return nil, err
		}
		if id, ok := rep.ID.(float64); ok && int(id) == r.id {
			if len(rep.Error) > 0 && string(rep.Error) != "null" {
				return nil, fmt.Errorf("error reply: %s", rep.Error)
			}
			return rep.Result, nil
		}
	}
}

// TestKillNine kills the server with SIGKILL in the middle of a stream of
// durable commits and checks that the restarted server holds a prefix of
// the commits that includes every acknowledged one.
func TestKillNine(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	next := 0  // next switch number to insert
	acked := 0 // every switch below this was acknowledged
	for round := 0; round < 4; round++ {
		child := startKillChild(t, dir)
		c := dialRaw(t, filepath.Join(dir, "nb.sock"))
		got := switchNumbers(t, c)
		for i := 0; i < len(got); i++ {
			if !got[i] {
				t.Fatalf("round %d: switch %d missing but %d present: not a prefix", round, i, len(got))
			}
		}
		if len(got) < acked {
			t.Fatalf("round %d: %d switches survived, %d were acknowledged as durable", round, len(got), acked)
		}
		next = len(got)
		acked = next
		killAfter := time.Duration(20+rand.IntN(200)) * time.Millisecond
		timer := time.AfterFunc(killAfter, func() { child.Process.Signal(syscall.SIGKILL) })
		for i := 0; i < 5000; i++ {
			_, err := c.call("transact", "OVN_Northbound",
				map[string]any{"op": "insert", "table": "Logical_Switch", "row": map[string]any{"name": fmt.Sprintf("sw%d", next)}},
				map[string]any{"op": "commit", "durable": true})
			if err != nil {
				break
			}
			next++
			acked = next
		}
		timer.Stop()
		child.Process.Signal(syscall.SIGKILL)
		child.Wait()
		c.c.Close()
		t.Logf("round %d: %d durable commits acknowledged before SIGKILL at %v", round, acked, killAfter)
	}
}

// switchNumbers returns which switch numbers exist, as a dense slice.
func switchNumbers(t *testing.T, c *rawClient) []bool {
	res, err := c.call("transact", "OVN_Northbound",
		map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []struct {
		Rows []struct {
			Name string `json:"name"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, len(out[0].Rows))
	for _, r := range out[0].Rows {
		var n int
		if _, err := fmt.Sscanf(r.Name, "sw%d", &n); err != nil || n >= len(seen) {
			t.Fatalf("unexpected switch %q among %d (not a prefix)", r.Name, len(seen))
		}
		seen[n] = true
	}
	return seen
}

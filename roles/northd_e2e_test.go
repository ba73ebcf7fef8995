package roles

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNorthdOnEmbeddedDatabase runs the database and northd roles in one
// process and drives them with the real ovn-nbctl and ovn-sbctl: --wait=sb
// returns once northd has written SB, and the flows are there.
func TestNorthdOnEmbeddedDatabase(t *testing.T) {
	for _, b := range []string{"ovn-nbctl", "ovn-sbctl"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skip(err)
		}
	}
	dir, err := os.MkdirTemp("", "ndr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	nb, sb := filepath.Join(dir, "nb.sock"), filepath.Join(dir, "sb.sock")
	cfg := configWith(RoleDatabase, RoleNorthd)
	cfg.Database = DatabaseConfig{Dir: dir, NBRemotes: []string{"punix:" + nb}, SBRemotes: []string{"punix:" + sb}}
	cfg.Northd = NorthdConfig{NB: "unix:" + nb, SB: "unix:" + sb}
	ctx, cancel := context.WithCancel(context.Background())
	done, ready := make(chan error, 1), make(chan struct{})
	go func() {
		opts := Options{Ready: func() { close(ready) }}
		done <- run(ctx, cfg, opts, map[string]builder{RoleDatabase: newDatabase, RoleNorthd: newNorthd})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("run stopped before ready: %v", err)
	}
	ctl := func(tool, db string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, tool, append([]string{"--db=unix:" + db}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v: %s", tool, args, err, out)
		}
		return string(out)
	}
	for _, c := range [][]string{
		{"--wait=sb", "ls-add", "sw0"},
		{"lsp-add", "sw0", "p1"},
		{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"},
		{"--wait=sb", "sync"},
	} {
		ctl("ovn-nbctl", nb, c...)
	}
	flows := ctl("ovn-sbctl", sb, "lflow-list")
	if !strings.Contains(flows, `match=(eth.dst == 00:00:00:00:00:01), action=(outport = "p1"; output;)`) {
		t.Errorf("no L2 lookup flow for p1 in:\n%s", flows)
	}
}

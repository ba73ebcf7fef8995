package difftest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"
)

func startEnv(t *testing.T) *Env {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "nd")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Start(dir, log)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); os.RemoveAll(dir) })
	return e
}

func apply(t *testing.T, e *Env, cmds [][]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range cmds {
		if err := e.NBCtl(ctx, c...); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func diff(t *testing.T, e *Env) []StageDiff {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := e.Diff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("per stage, real ovn-northd vs ovnd:\n%s", Report(d))
	if len(d) == 0 {
		t.Fatal("no logical flows in either southbound database")
	}
	return d
}

var twoPorts = [][]string{
	{"ls-add", "sw0"},
	{"lsp-add", "sw0", "p1"},
	{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"},
	{"lsp-set-port-security", "p1", "00:00:00:00:00:01 10.0.0.1"},
	{"lsp-add", "sw0", "p2"},
	{"lsp-set-addresses", "p2", "00:00:00:00:00:02 10.0.0.2"},
	{"lsp-set-port-security", "p2", "00:00:00:00:00:02 10.0.0.2"},
}

// TestTwoPorts is the first slice's topology: one switch, two VIF ports
// with addresses and port security. Every stage must be identical.
func TestTwoPorts(t *testing.T) {
	e := startEnv(t)
	apply(t, e, twoPorts)
	if d := diff(t, e); !Clean(d) {
		t.Errorf("lflows differ from ovn-northd 23.03:\n%s", Report(d))
	}
}

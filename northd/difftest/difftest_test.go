package difftest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestScenarios runs every testdata/*.txt script through both northds:
// every stage's flows and the other SB tables must be identical.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cmds, err := ParseScript(string(text))
			if err != nil {
				t.Fatal(err)
			}
			e := startEnv(t)
			apply(t, e, cmds)
			if d := diff(t, e); !Clean(d) {
				t.Errorf("lflows differ from ovn-northd 23.03:\n%s", Report(d))
			}
			compareRows(t, e)
		})
	}
}

// compareRows checks the other SB tables and the Logical_Flow row count.
func compareRows(t *testing.T, e *Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tb := range SBTables {
		want, err := Rows(ctx, e.RealSB, tb.Table, tb.Columns)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Rows(ctx, e.OurSB, tb.Table, tb.Columns)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-ovn-northd +ovnd):\n%s", tb.Table, diff)
		}
	}
	wantNB, err := NBPorts(ctx, e.RealNB)
	if err != nil {
		t.Fatal(err)
	}
	gotNB, err := NBPorts(ctx, e.OurNB)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantNB, gotNB); diff != "" {
		t.Errorf("NB Logical_Switch_Port name,up,tag (-ovn-northd +ovnd):\n%s", diff)
	}
	want, err := FlowRows(ctx, e.RealSB)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FlowRows(ctx, e.OurSB)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Logical_Flow rows: ovnd %d, ovn-northd %d", got, want)
	}
}

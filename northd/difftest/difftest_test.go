package difftest

import (
	"context"
	"log/slog"
	"os"
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
	compareRows(t, e)
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

// scenarios extend twoPorts; each must come out identical.
var scenarios = []struct {
	name string
	cmds [][]string
}{
	{"unknown-and-second-switch", [][]string{
		{"lsp-add", "sw0", "p3"},
		{"lsp-set-addresses", "p3", "unknown"},
		{"ls-add", "sw1"},
		{"lsp-add", "sw1", "q1"},
		{"lsp-set-addresses", "q1", "00:00:00:00:01:01 10.1.0.1", "unknown"},
		{"lsp-add", "sw1", "q2"},
		{"lsp-set-addresses", "q2", "00:00:00:00:01:02"},
		{"--", "set", "logical_switch_port", "q2", "enabled=false"},
	}},
	{"stateless-acls", [][]string{
		{"acl-add", "sw0", "to-lport", "1000", "ip4.src == 10.0.0.9", "drop"},
		{"acl-add", "sw0", "from-lport", "900", "tcp", "allow"},
		{"acl-add", "sw0", "to-lport", "700", "icmp4", "reject"},
		{"acl-add", "sw0", "from-lport", "500", "icmp6", "reject"},
	}},
	{"stateful-acls", [][]string{
		{"acl-add", "sw0", "from-lport", "1001", "ip4", "allow-related"},
		{"acl-add", "sw0", "to-lport", "1000", "ip4.src == 10.0.0.9", "drop"},
		{"acl-add", "sw0", "from-lport", "900", "tcp", "allow"},
		{"acl-add", "sw0", "from-lport", "800", "udp", "allow-stateless"},
		{"acl-add", "sw0", "to-lport", "700", "icmp4", "reject"},
	}},
	{"port-group-acls", [][]string{
		{"ls-add", "sw1"},
		{"lsp-add", "sw1", "q1"},
		{"lsp-set-addresses", "q1", "00:00:00:00:01:01 10.1.0.1"},
		{"pg-add", "pg1", "p1", "q1"},
		{"acl-add", "pg1", "to-lport", "600", "outport == @pg1 && ip4.src == $pg1_ip4", "allow-related"},
		{"acl-add", "pg1", "from-lport", "500", "inport == @pg1 && ip6", "drop"},
	}},
}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			e := startEnv(t)
			apply(t, e, append(twoPorts[:len(twoPorts):len(twoPorts)], sc.cmds...))
			if d := diff(t, e); !Clean(d) {
				t.Errorf("lflows differ from ovn-northd 23.03:\n%s", Report(d))
			}
			compareRows(t, e)
		})
	}
}

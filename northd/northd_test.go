package northd_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnd/ovnd/northd"
	"github.com/ovnd/ovnd/northd/difftest"
)

// dbs starts private NB and SB ovsdb-servers.
func dbs(t *testing.T) (nb, sb string) {
	t.Helper()
	if err := difftest.Available(); err != nil {
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "ndl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, db := range []struct {
		name, schema string
		remote       *string
	}{{"nb", difftest.NBSchema, &nb}, {"sb", difftest.SBSchema, &sb}} {
		p, r, err := difftest.OVSDB(dir, db.name, db.schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		*db.remote = r
	}
	return nb, sb
}

// startNorthd runs ovnd's northd until the returned stop is called (or
// the test ends).
func startNorthd(t *testing.T, nb, sb string) (stop func()) {
	t.Helper()
	return startNorthdLog(t, nb, sb, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func startNorthdLog(t *testing.T, nb, sb string, log *slog.Logger) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- northd.New(northd.Config{NB: nb, SB: sb, Logger: log}).Serve(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func ctl(t *testing.T, f func(context.Context, string, ...string) (string, error), db string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := f(ctx, db, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func setup(t *testing.T, nb string) {
	t.Helper()
	for _, c := range [][]string{
		{"ls-add", "sw0"},
		{"lsp-add", "sw0", "p1"},
		{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"},
		{"--wait=sb", "sync"},
	} {
		ctl(t, difftest.NBCtl, nb, c...)
	}
}

// TestFeedback checks what northd writes back to NB: sb_cfg (so --wait=sb
// returns, which setup relies on), hv_cfg from Chassis_Private and
// Logical_Switch_Port.up from Port_Binding.up and its chassis.
func TestFeedback(t *testing.T) {
	nb, sb := dbs(t)
	startNorthd(t, nb, sb)
	setup(t, nb)
	nbGet := func(args ...string) func() string {
		return func() string { return ctl(t, difftest.NBCtl, nb, append([]string{"get"}, args...)...) }
	}
	if got, want := nbGet("NB_Global", ".", "sb_cfg")(), nbGet("NB_Global", ".", "nb_cfg")(); got != want {
		t.Errorf("sb_cfg = %s, want nb_cfg %s", got, want)
	}
	if ts := nbGet("NB_Global", ".", "sb_cfg_timestamp")(); ts == "0" {
		t.Errorf("sb_cfg_timestamp not set")
	}
	// A new binding starts with up=false, which is what makes
	// ovn-controller report it up later.
	if got := ctl(t, difftest.SBCtl, sb, "get", "Port_Binding", "p1", "up"); got != "false" {
		t.Errorf("new Port_Binding up = %s, want false", got)
	}
	// Set up without a chassis: still down.
	ctl(t, difftest.SBCtl, sb, "set", "Port_Binding", "p1", "up=true")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if got := nbGet("Logical_Switch_Port", "p1", "up")(); got != "false" {
		t.Errorf("unbound port up = %s, want false", got)
	}
	// Bound to a chassis that reports up itself: follows Port_Binding.up.
	ctl(t, difftest.SBCtl, sb, "chassis-add", "hv1", "geneve", "127.0.0.1",
		"--", "set", "Chassis", "hv1", "other_config:port-up-notif=true")
	// ovn-sbctl lsp-bind sets up=true itself, hence the set after it.
	ctl(t, difftest.SBCtl, sb, "lsp-bind", "p1", "hv1", "--", "set", "Port_Binding", "p1", "up=false")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if got := nbGet("Logical_Switch_Port", "p1", "up")(); got != "false" {
		t.Errorf("bound port whose chassis has not reported it up: up = %s, want false", got)
	}
	ctl(t, difftest.SBCtl, sb, "set", "Port_Binding", "p1", "up=true")
	eventually(t, "p1 up in NB", func() bool { return nbGet("Logical_Switch_Port", "p1", "up")() == "true" })
	// A chassis without port-up-notif: bound is up.
	ctl(t, difftest.SBCtl, sb, "set", "Port_Binding", "p1", "up=false", "--", "remove", "Chassis", "hv1", "other_config", "port-up-notif")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if got := nbGet("Logical_Switch_Port", "p1", "up")(); got != "true" {
		t.Errorf("port bound to a chassis without port-up-notif: up = %s, want true", got)
	}

	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw0", "rp", "--", "lsp-set-type", "rp", "router")
	if got := nbGet("Logical_Switch_Port", "rp", "up")(); got != "true" {
		t.Errorf("router port up = %s, want true", got)
	}

	hv1 := ctl(t, difftest.SBCtl, sb, "get", "Chassis", "hv1", "_uuid")
	ctl(t, difftest.SBCtl, sb, "create", "Chassis_Private", "name=hv1", "chassis="+hv1, "nb_cfg=0", "nb_cfg_timestamp=1234")
	eventually(t, "hv_cfg 0", func() bool { return nbGet("NB_Global", ".", "hv_cfg")() == "0" })
	if got := nbGet("NB_Global", ".", "hv_cfg_timestamp")(); got != "1234" {
		t.Errorf("hv_cfg_timestamp = %s, want the lagging chassis's 1234", got)
	}
	// A Chassis_Private without its Chassis does not hold hv_cfg back.
	ctl(t, difftest.SBCtl, sb, "create", "Chassis_Private", "name=gone", "nb_cfg=0")
	cfg := nbGet("NB_Global", ".", "nb_cfg")()
	ctl(t, difftest.SBCtl, sb, "set", "Chassis_Private", "hv1", "nb_cfg="+cfg, "nb_cfg_timestamp=5678")
	eventually(t, "hv_cfg "+cfg, func() bool { return nbGet("NB_Global", ".", "hv_cfg")() == cfg })
	if got := nbGet("NB_Global", ".", "hv_cfg_timestamp")(); got != "5678" {
		t.Errorf("hv_cfg_timestamp = %s, want 5678", got)
	}
}

// TestUnrelatedChangeKeepsRows checks that a round with nothing new to
// write leaves SB alone: the logical flows keep their UUIDs.
func TestUnrelatedChangeKeepsRows(t *testing.T) {
	nb, sb := dbs(t)
	startNorthd(t, nb, sb)
	setup(t, nb)
	before := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "Logical_Flow")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "set", "NB_Global", ".", "external_ids:x=y")
	if after := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "Logical_Flow"); after != before {
		t.Errorf("flows rewritten by an unrelated change")
	}
}

// TestStandbyTakesOver runs two northds: the second stands by while the
// first holds ovn_northd, and takes over when the first stops.
func TestStandbyTakesOver(t *testing.T) {
	nb, sb := dbs(t)
	stopFirst := startNorthd(t, nb, sb)
	setup(t, nb)
	var second lockedBuffer
	startNorthdLog(t, nb, sb, slog.New(slog.NewTextHandler(&second, nil)))
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "ls-add", "sw9")
	if strings.Contains(second.String(), "held=true") {
		t.Fatalf("standby took the lock while the first northd held it:\n%s", second.String())
	}
	stopFirst()
	ctl(t, difftest.NBCtl, nb, "lsp-add", "sw0", "p2")
	ctl(t, difftest.NBCtl, nb, "lsp-set-addresses", "p2", "00:00:00:00:00:02")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if flows := ctl(t, difftest.SBCtl, sb, "lflow-list"); !strings.Contains(flows, `outport = "p2"`) || !strings.Contains(second.String(), "held=true") {
		t.Errorf("standby did not take over:\n%s", flows)
	}
}

// TestRestartKeepsSB restarts northd: SB is left as it was, tunnel keys
// and flow rows included.
func TestRestartKeepsSB(t *testing.T) {
	nb, sb := dbs(t)
	stop := startNorthd(t, nb, sb)
	setup(t, nb)
	ctl(t, difftest.NBCtl, nb, "ls-add", "a-first")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw0", "p0")
	list := func() string {
		return ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid,tunnel_key", "list", "Datapath_Binding", "--", "list", "Port_Binding") +
			ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "Logical_Flow")
	}
	before := list()
	stop()
	startNorthd(t, nb, sb)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if after := list(); after != before {
		t.Errorf("SB changed across a restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestContainerTag checks that a container port's requested tag is
// written back to NB, as ovn-northd does.
func TestContainerTag(t *testing.T) {
	nb, sb := dbs(t)
	startNorthd(t, nb, sb)
	setup(t, nb)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-add", "sw0", "c1", "p1", "7")
	if got := ctl(t, difftest.NBCtl, nb, "get", "Logical_Switch_Port", "c1", "tag"); got != "7" {
		t.Errorf("NB tag = %q, want 7", got)
	}
	if got := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=tag", "find", "Port_Binding", "logical_port=c1"); got != "7" {
		t.Errorf("SB tag = %q, want 7", got)
	}
}

// lockedBuffer is a log sink safe for the logging goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRBAC checks the ovn-controller role that SB RBAC needs: written as
// ovn-northd writes it, repaired when changed, and left alone otherwise.
func TestRBAC(t *testing.T) {
	nb, sb := dbs(t)
	startNorthd(t, nb, sb)
	setup(t, nb)
	perms := func() string {
		rows := strings.Split(ctl(t, difftest.SBCtl, sb, "--format=csv", "--data=bare", "--no-headings",
			"--columns=table,authorization,insert_delete,update", "list", "RBAC_Permission"), "\n")
		slices.Sort(rows)
		return strings.Join(rows, "\n")
	}
	want := perms()
	if !strings.Contains(want, "Chassis_Private,name,true,") || strings.Count(want, "\n") != 9 {
		t.Fatalf("RBAC_Permission rows:\n%s", want)
	}
	uuids := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "RBAC_Permission")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "set", "NB_Global", ".", "external_ids:x=1")
	if got := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "RBAC_Permission"); got != uuids {
		t.Error("permissions rewritten although unchanged")
	}
	ctl(t, difftest.SBCtl, sb, "set", "RBAC_Permission", strings.Fields(uuids)[0], "insert_delete=false", "update=[]")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	eventually(t, "permissions repaired", func() bool { return perms() == want })
	if got := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=name", "list", "RBAC_Role"); got != "ovn-controller" {
		t.Errorf("RBAC_Role names = %q", got)
	}
}

package northd_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/northd/difftest"
)

// TestBulkLoad loads 60 switches of 30 ports (some 6,000 SB operations,
// a bulk round) in one NB transaction with --wait=sb: when ovn-nbctl
// returns (sb_cfg reported, before the ports' up feedback), SB holds
// every binding; the ports' up=false follows, and hv_cfg with no
// chassis follows nb_cfg.
func TestBulkLoad(t *testing.T) {
	nb, sb := dbs(t)
	var log lockedBuffer
	startNorthdLog(t, nb, sb, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn})))
	setup(t, nb)
	const switches, ports = 60, 30
	args := []string{"--wait=sb"}
	for i := range switches {
		args = append(args, "--", "ls-add", fmt.Sprintf("bulk%d", i))
		for j := range ports {
			p := fmt.Sprintf("b%d_%d", i, j)
			args = append(args, "--", "lsp-add", fmt.Sprintf("bulk%d", i), p,
				"--", "lsp-set-addresses", p, fmt.Sprintf("0a:00:00:01:%02x:%02x 10.1.%d.%d", i, j, i, j+2))
		}
	}
	args = append(args, "--", "pg-add", "pg_bulk")
	ctl(t, difftest.NBCtl, nb, args...)
	bindings := strings.Fields(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=logical_port", "list", "Port_Binding"))
	if want := switches*ports + 1; len(bindings) != want {
		t.Fatalf("SB has %d port bindings when --wait=sb returned, want %d", len(bindings), want)
	}
	cfg := ctl(t, difftest.NBCtl, nb, "get", "NB_Global", ".", "nb_cfg")
	if got := ctl(t, difftest.NBCtl, nb, "get", "NB_Global", ".", "sb_cfg"); got != cfg {
		t.Errorf("sb_cfg = %s, want nb_cfg %s", got, cfg)
	}
	eventually(t, "every bulk port up=false in NB", func() bool {
		ups := strings.Fields(ctl(t, difftest.NBCtl, nb, "--bare", "--columns=up", "find", "Logical_Switch_Port", "up=false"))
		return len(ups) == switches*ports+1
	})
	eventually(t, "hv_cfg "+cfg, func() bool { return ctl(t, difftest.NBCtl, nb, "get", "NB_Global", ".", "hv_cfg") == cfg })

	// The bulk round's rows are known by their real UUIDs afterwards
	// (resolved after sb_cfg was reported): incremental rounds change
	// and delete them.
	before := len(log.String())
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "lsp-del", "b3_4", "--", "ls-del", "bulk7",
		"--", "lsp-set-addresses", "b5_5", "0a:00:00:02:05:05 10.2.5.7")
	bindings = strings.Fields(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=logical_port", "list", "Port_Binding"))
	if want := switches*ports + 1 - 1 - ports; len(bindings) != want {
		t.Errorf("after deleting a bulk port and a bulk switch: %d port bindings, want %d", len(bindings), want)
	}
	if mac := ctl(t, difftest.SBCtl, sb, "get", "Port_Binding", "b5_5", "mac"); !strings.Contains(mac, "0a:00:00:02:05:05") {
		t.Errorf("b5_5's binding after its address changed: mac %s", mac)
	}
	if dps := strings.Fields(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "Datapath_Binding")); len(dps) != switches {
		t.Errorf("after deleting a bulk switch: %d datapaths, want %d", len(dps), switches)
	}
	// ... without a failed write repaired by a full round.
	if l := log.String()[before:]; strings.Contains(l, "sync failed") {
		t.Errorf("a round failed:\n%s", l)
	}
}

// TestBulkLoadThenSync: a bulk load, and at once `ovn-nbctl --wait=sb
// sync` (a new nb_cfg in a transaction of its own, as the benchmark
// does). The bulk round, seeing the new nb_cfg already waiting, leaves
// its ports' up feedback to the next round, which reports the new
// sb_cfg without first waiting for 1,800 ports' up to commit; no
// port's feedback is lost.
func TestBulkLoadThenSync(t *testing.T) {
	nb, sb := dbs(t)
	var log lockedBuffer
	startNorthdLog(t, nb, sb, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
	setup(t, nb)
	const switches, ports = 60, 30
	var args []string
	for i := range switches {
		args = append(args, "--", "ls-add", fmt.Sprintf("bulk%d", i))
		for j := range ports {
			p := fmt.Sprintf("b%d_%d", i, j)
			args = append(args, "--", "lsp-add", fmt.Sprintf("bulk%d", i), p,
				"--", "lsp-set-addresses", p, fmt.Sprintf("0a:00:00:01:%02x:%02x 10.1.%d.%d", i, j, i, j+2))
		}
	}
	ctl(t, difftest.NBCtl, nb, args[1:]...)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	cfg := ctl(t, difftest.NBCtl, nb, "get", "NB_Global", ".", "nb_cfg")
	if got := ctl(t, difftest.NBCtl, nb, "get", "NB_Global", ".", "sb_cfg"); got != cfg {
		t.Errorf("sb_cfg = %s, want nb_cfg %s", got, cfg)
	}
	if bindings := strings.Fields(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=logical_port", "list", "Port_Binding")); len(bindings) != switches*ports+1 {
		t.Errorf("SB has %d port bindings, want %d", len(bindings), switches*ports+1)
	}
	eventually(t, "every port up=false in NB", func() bool {
		ups := strings.Fields(ctl(t, difftest.NBCtl, nb, "--bare", "--columns=up", "find", "Logical_Switch_Port", "up=false"))
		return len(ups) == switches*ports+1
	})
	if !strings.Contains(log.String(), "port feedback deferred") {
		t.Log("the bulk round did not see the new nb_cfg waiting; its feedback went out at once")
	}
}

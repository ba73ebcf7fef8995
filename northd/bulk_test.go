package northd_test

import (
	"fmt"
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
	startNorthd(t, nb, sb)
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
}

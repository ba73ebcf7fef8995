package northd_test

import (
	"strings"
	"testing"

	"github.com/ovnd/ovnd/northd/difftest"
)

// TestCreatesNBGlobal starts northd on an NB without NB_Global: northd
// creates it, with mac_prefix and svc_monitor_mac, as ovn-northd does,
// and SB_Global gets them.
func TestCreatesNBGlobal(t *testing.T) {
	nb, sb := dbs(t)
	startNorthd(t, nb, sb)
	opts := func() string {
		return ctl(t, difftest.NBCtl, nb, "--bare", "--columns=options", "list", "NB_Global")
	}
	eventually(t, "NB_Global with mac_prefix and svc_monitor_mac", func() bool {
		o := opts()
		return strings.Contains(o, "mac_prefix=") && strings.Contains(o, "svc_monitor_mac=")
	})
	eventually(t, "SB_Global with mac_prefix", func() bool {
		return strings.Contains(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=options", "list", "SB_Global"), "mac_prefix=")
	})
}

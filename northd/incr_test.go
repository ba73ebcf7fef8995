package northd_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/northd/difftest"
)

// TestIncrementalThenRestart makes every kind of change the loop handles
// incrementally (and some it leaves to a full round) through ovn-nbctl,
// then restarts northd: the new process's full round must find SB
// exactly as the incremental rounds left it, rows and UUIDs alike.
func TestIncrementalThenRestart(t *testing.T) {
	nb, sb := dbs(t)
	stop := startNorthd(t, nb, sb)
	setup(t, nb)
	steps := [][]string{
		{"ls-add", "sw1"},
		{"lsp-add", "sw1", "q1", "--", "lsp-set-addresses", "q1", "00:00:00:00:01:01 10.1.0.1"},
		{"lsp-add", "sw1", "q2", "--", "lsp-set-addresses", "q2", "00:00:00:00:01:02 10.1.0.2", "--", "lsp-set-port-security", "q2", "00:00:00:00:01:02 10.1.0.2"},
		{"lsp-add", "sw0", "p2", "--", "lsp-set-addresses", "p2", "unknown"},
		{"pg-add", "pg1", "p1", "q1"},
		{"acl-add", "pg1", "to-lport", "1002", "outport == @pg1 && ip4.src == $pg1_ip4", "allow-related"},
		{"acl-add", "pg1", "from-lport", "1001", "inport == @pg1 && ip4", "allow-related"},
		{"create", "Address_Set", "name=as1", "addresses=10.9.0.1,10.9.0.2"},
		{"acl-add", "sw1", "to-lport", "900", "ip4.src == $as1", "drop"},
		{"add", "Address_Set", "as1", "addresses", "10.9.0.3"},
		{"pg-set-ports", "pg1", "p1", "q1", "q2"},
		{"lsp-set-addresses", "q1", "00:00:00:00:01:11 10.1.0.11"},
		{"lsp-set-enabled", "q2", "disabled"},
		{"set", "NB_Global", ".", "options:svc_monitor_mac=0a:00:00:00:00:09"},
		{"acl-del", "pg1", "to-lport", "1002", "outport == @pg1 && ip4.src == $pg1_ip4"},
		{"lsp-del", "p2"},
		{"ls-add", "sw2"},
		{"lsp-add", "sw2", "r1", "--", "lsp-set-addresses", "r1", "00:00:00:00:02:01 10.2.0.1"},
		{"pg-set-ports", "pg1", "r1", "q2"},
		{"ls-del", "sw1"},
		{"acl-add", "sw2", "from-lport", "1000", "ip4 &&& broken", "drop"},
		{"lb-add", "lb1", "10.3.0.10:80", "10.2.0.1:8080", "tcp"},
		{"ls-lb-add", "sw2", "lb1"},
		{"lsp-add", "sw2", "r2", "--", "lsp-set-addresses", "r2", "00:00:00:00:02:02 10.2.0.2"},
	}
	for i, s := range steps {
		ctl(t, difftest.NBCtl, nb, append([]string{"--wait=sb"}, s...)...)
		if i%6 == 5 {
			t.Logf("after step %d: %d flows", i, len(strings.Fields(ctl(t, difftest.SBCtl, sb, "--bare", "--columns=_uuid", "list", "Logical_Flow"))))
		}
	}
	list := func() string {
		var out string
		for _, table := range []string{"Datapath_Binding", "Port_Binding", "Multicast_Group", "Port_Group", "Address_Set",
			"Logical_DP_Group", "Logical_Flow", "Load_Balancer"} {
			out += fmt.Sprintf("== %s\n%s", table, ctl(t, difftest.SBCtl, sb, "list", table))
		}
		return out
	}
	before := list()
	stop()
	startNorthd(t, nb, sb)
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "sync")
	if diff := lineDiff(before, list()); diff != "" {
		t.Errorf("a full round after the incremental ones changed SB:\n%s", diff)
	}
}

// lineDiff lists the lines whose number of occurrences differs between a
// and b ("-" more in a, "+" more in b), or "" when they have the same
// lines (in any order: ovn-sbctl lists rows in no fixed order).
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		switch {
		case n > 0:
			out = append(out, fmt.Sprintf("- %s (x%d)", l, n))
		case n < 0:
			out = append(out, fmt.Sprintf("+ %s (x%d)", l, -n))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

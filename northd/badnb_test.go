package northd_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/northd/difftest"
)

// TestBadNB feeds northd bad NB content through ovn-nbctl: each bad row
// is logged with its name and skipped, SB keeps one Port_Binding per
// logical port, and northd goes on building the rest, including changes
// made after the bad rows.
func TestBadNB(t *testing.T) {
	nb, sb := dbs(t)
	var log lockedBuffer
	startNorthdLog(t, nb, sb, slog.New(slog.NewTextHandler(&log, nil)))
	setup(t, nb) // sw0 with p1 "00:00:00:00:00:01 10.0.0.1"
	p1 := ctl(t, difftest.NBCtl, nb, "get", "Logical_Switch_Port", "p1", "_uuid")
	for _, c := range [][]string{
		{"ls-add", "sw1"},
		// A match that does not parse.
		{"--", "--id=@a", "create", "ACL", "name=broken", "direction=to-lport", "priority=1000", `match="ip4.src =="`, "action=drop",
			"--", "add", "Logical_Switch", "sw0", "acls", "@a"},
		// p1 listed by a second switch (names are unique in NB, rows
		// shared by two switches are not).
		{"add", "Logical_Switch", "sw1", "ports", p1},
		// An invalid MAC, and p1's MAC and IP again on sw0.
		{"lsp-add", "sw0", "badmac", "--", "set", "Logical_Switch_Port", "badmac", `addresses="zz:00:00:00:00:05 10.0.0.5"`},
		{"lsp-add", "sw0", "dup", "--", "set", "Logical_Switch_Port", "dup", `addresses="00:00:00:00:00:01 10.0.0.6","00:00:00:00:00:07 10.0.0.1","00:00:00:00:00:08 10.0.0.8"`},
		// A good change after all of it.
		{"lsp-add", "sw1", "ok", "--", "lsp-set-addresses", "ok", "00:00:00:00:00:0a 10.0.1.10"},
		{"--wait=sb", "sync"},
	} {
		ctl(t, difftest.NBCtl, nb, c...)
	}
	logged := log.String()
	for _, want := range []string{
		`acl \"broken\" (`, `on switch \"sw1\": port name already on switch \"sw0\"`,
		`port \"badmac\" (`, `address \"zz:00:00:00:00:05 10.0.0.5\": invalid MAC`,
		`port \"dup\" (`, `mac 00:00:00:00:00:01 is already port \"p1\"'s`, `ip 10.0.0.1 is already port \"p1\"'s`,
	} {
		if !strings.Contains(logged, want) {
			t.Errorf("log does not name %s:\n%s", want, logged)
		}
	}
	if n := strings.Count(logged, "skipped nb row"); n != 5 {
		t.Errorf("%d skipped-row lines, want 5 (each problem once):\n%s", n, logged)
	}
	if got := ctl(t, difftest.SBCtl, sb, "--bare", "--columns=logical_port", "find", "Port_Binding", "logical_port=p1"); got != "p1" {
		t.Errorf("Port_Binding p1: %q, want one row", got)
	}
	flows := ctl(t, difftest.SBCtl, sb, "lflow-list")
	for _, want := range []string{`outport = "ok"`, `outport = "p1"`, `outport = "dup"`, "eth.dst == 00:00:00:00:00:08"} {
		if !strings.Contains(flows, want) {
			t.Errorf("no flow with %s", want)
		}
	}
	for _, bad := range []string{"zz:00", "ip4.src ==)", "00:00:00:00:00:07"} {
		if strings.Contains(flows, bad) {
			t.Errorf("flow built from a skipped row or entry: %s", bad)
		}
	}
	// Fixing the rows brings them in and clears the problems.
	ctl(t, difftest.NBCtl, nb, "--wait=sb", "set", "Logical_Switch_Port", "badmac", `addresses="00:00:00:00:00:05 10.0.0.5"`)
	if flows := ctl(t, difftest.SBCtl, sb, "lflow-list"); !strings.Contains(flows, "eth.dst == 00:00:00:00:00:05") {
		t.Error("the fixed port has no L2 lookup flow")
	}
}

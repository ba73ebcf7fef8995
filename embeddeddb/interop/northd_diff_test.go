package interop

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNorthdDifferential runs the real ovn-northd against ovsdb-server and
// against the target, feeds both the nbctl script, and compares what
// northd wrote to the SB: logical flows as lflow-list prints them and a
// dump of every SB table, one line per row, UUIDs and timestamps masked.
func TestNorthdDifferential(t *testing.T) {
	t.Parallel()
	want := northdOutput(t, StartServer(t, TargetOVSDBServer, Options{}))
	got := northdOutput(t, StartTarget(t, Options{}))
	for _, k := range []string{"lflow-list", "sb dump"} {
		if d := cmp.Diff(want[k], got[k]); d != "" {
			t.Errorf("%s after ovn-northd (-ovsdb-server +target):\n%s", k, d)
		}
	}
}

// timestampRE matches the millisecond timestamps northd stamps into rows.
var timestampRE = regexp.MustCompile(`\b1[6-9]\d{11}\b`)

// stageHintRE matches the UUID prefixes northd puts in lflow stage hints,
// quoted or not depending on whether they look like numbers.
var stageHintRE = regexp.MustCompile(`stage-hint=["\\]*[0-9a-f]{8}["\\]*`)

func northdOutput(t *testing.T, s *Server) map[string][]string {
	t.Helper()
	n := startNorthd(t, s, string(s.Target))
	n.waitStatus(t, "active", 10*time.Second)
	nb, sb := NBCtl(s), SBCtl(s)
	// northd picks these at random when they are unset.
	nb.Must(t, "init")
	nb.Must(t, "set", "NB_Global", ".", "options:mac_prefix=0a:00:00", "options:svc_monitor_mac=0a:00:00:00:00:fe")
	directClients(s).transcript(t, loadScript(t, "nbctl.txt"))
	nb.Must(t, "--wait=sb", "sync")
	mask := func(out string) []string {
		out = timestampRE.ReplaceAllString(uuidRE.ReplaceAllString(out, "<uuid>"), "<time>")
		out = stageHintRE.ReplaceAllString(out, "stage-hint=<hint>")
		return strings.Split(out, "\n")
	}
	return map[string][]string{
		"lflow-list": mask(sb.Must(t, "lflow-list")),
		"sb dump":    sortedLines(strings.Join(mask(ovsdbClient(t, "--format=csv", "dump", s.SB(), "OVN_Southbound")), "\n")),
	}
}

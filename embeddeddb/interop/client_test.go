package interop

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ovsdbClient runs ovsdb-client and fails the test unless it exits 0.
func ovsdbClient(t *testing.T, args ...string) string {
	t.Helper()
	r := Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=10"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("ovsdb-client %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

func parseJSON(t *testing.T, what string, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// TestGetSchema compares get-schema with the schema files, as schemas
// (defaults spelled out), and with ovsdb-server's get-schema as JSON
// values.
func TestGetSchema(t *testing.T) {
	t.Parallel()
	ref := StartServer(t, TargetOVSDBServer, Options{})
	s := StartTarget(t, Options{})
	for _, c := range []struct{ remote, db, file string }{
		{s.NB(), "OVN_Northbound", NBSchema},
		{s.SB(), "OVN_Southbound", SBSchema},
	} {
		file, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		got := []byte(ovsdbClient(t, "get-schema", c.remote, c.db))
		want := canonicalSchema(parseJSON(t, c.file, file))
		if d := cmp.Diff(want, canonicalSchema(parseJSON(t, "get-schema "+c.db, got))); d != "" {
			t.Errorf("get-schema %s differs from %s (-file +server):\n%s", c.db, c.file, d)
		}
		ovsdb := parseJSON(t, "reference get-schema", []byte(ovsdbClient(t, "get-schema", ref.NB(), c.db)))
		if d := cmp.Diff(ovsdb, parseJSON(t, "get-schema "+c.db, got)); d != "" {
			t.Errorf("get-schema %s differs from ovsdb-server's (-ovsdb-server +target):\n%s", c.db, d)
		}
	}
}

// TestServerDatabase checks the _Server database: its schema and its dump
// are those of ovsdb-server.
func TestServerDatabase(t *testing.T) {
	t.Parallel()
	ref := StartServer(t, TargetOVSDBServer, Options{})
	s := StartTarget(t, Options{})
	want := parseJSON(t, "reference _Server schema", []byte(ovsdbClient(t, "get-schema", ref.NB(), "_Server")))
	got := parseJSON(t, "_Server schema", []byte(ovsdbClient(t, "get-schema", s.NB(), "_Server")))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("_Server schema (-ovsdb-server +target):\n%s", d)
	}
	dump := ovsdbClient(t, "dump", s.NB(), "_Server")
	for _, db := range []string{"OVN_Northbound", "OVN_Southbound", "_Server"} {
		if !strings.Contains(dump, db) {
			t.Errorf("dump _Server lacks %s:\n%.2000s", db, dump)
		}
	}
	if d := cmp.Diff(maskedSortedDump(ovsdbClient(t, "dump", ref.NB(), "_Server")), maskedSortedDump(dump)); d != "" {
		t.Errorf("dump _Server (-ovsdb-server +target):\n%s", d)
	}
}

// maskedSortedDump makes a table dump comparable across servers: UUIDs
// masked, lines sorted.
func maskedSortedDump(out string) []string {
	lines := strings.Split(uuidRE.ReplaceAllString(out, "<uuid>"), "\n")
	sort.Strings(lines)
	return lines
}

// TestDumpDifferential runs the nbctl and sbctl scripts on ovsdb-server
// and on the target and compares full dumps of both databases, in table
// and JSON formats.
func TestDumpDifferential(t *testing.T) {
	t.Parallel()
	dumps := func(target Target) map[string][]string {
		s := StartServer(t, target, Options{})
		c := directClients(s)
		c.transcript(t, loadScript(t, "nbctl.txt"))
		c.transcript(t, loadScript(t, "sbctl.txt"))
		out := map[string][]string{}
		for _, db := range []struct{ remote, name string }{{s.NB(), "OVN_Northbound"}, {s.SB(), "OVN_Southbound"}} {
			out[db.name] = maskedSortedDump(ovsdbClient(t, "dump", db.remote, db.name))
			out[db.name+" json"] = maskedSortedDump(ovsdbClient(t, "--format=json", "dump", db.remote, db.name))
		}
		return out
	}
	target, err := TargetFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(dumps(TargetOVSDBServer), dumps(target)); d != "" {
		t.Errorf("dumps (-ovsdb-server +target):\n%s", d)
	}
}

// monitorScenario makes the changes the monitor tests watch for: sw1 and
// sw2 come, sw1 changes a column, both go.
func monitorScenario(t *testing.T, nb *Ctl) {
	nb.Must(t, "ls-add", "sw1")
	nb.Must(t, "ls-add", "sw2")
	nb.Must(t, "set", "Logical_Switch", "sw1", "other_config:a=b")
	nb.Must(t, "ls-del", "sw1")
	nb.Must(t, "ls-del", "sw2")
}

// TestMonitor runs ovsdb-client monitor and monitor-cond in the background
// and checks the updates they print for a known sequence of changes.
func TestMonitor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		args func(s *Server) []string
		last string
		want string
	}{
		{"monitor", func(s *Server) []string {
			return []string{"monitor", s.NB(), "OVN_Northbound", "Logical_Switch", "name", "other_config"}
		}, "delete sw2", monitorWant},
		{"monitor-json", func(s *Server) []string {
			return []string{"--format=json", "monitor", s.NB(), "OVN_Northbound", "Logical_Switch", "name"}
		}, `"delete","sw2"`, monitorJSONWant},
		{"monitor-cond", func(s *Server) []string {
			return []string{"monitor-cond", s.NB(), "OVN_Northbound", condMarkerOrSW1, "Logical_Switch", "name"}
		}, "delete", monitorCondWant},
		{"monitor-cond-since", func(s *Server) []string {
			return []string{"monitor-cond-since", s.NB(), "OVN_Northbound", condMarkerOrSW1, "Logical_Switch", "name"}
		}, "delete", monitorCondSinceWant},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := StartTarget(t, Options{})
			nb := NBCtl(s)
			nb.Must(t, "ls-add", "marker")
			m := StartMonitor(t, c.args(s)...)
			if err := m.WaitFor("marker", 5*time.Second); err != nil {
				t.Fatal(err)
			}
			monitorScenario(t, nb)
			if err := m.WaitFor(c.last, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			m.Stop()
			got := uuidNamer{}.rename(zeroTxnIDs(stripSignalLine(m.Output())))
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("%s output (-want +got):\n%s", c.name, d)
			}
		})
	}
}

// condMarkerOrSW1 is a monitor condition: its clauses are alternatives,
// so the monitor's initial rows show the marker and then only sw1 follows.
const condMarkerOrSW1 = `[["name","==","marker"],["name","==","sw1"]]`

// stripSignalLine drops the log line ovsdb-client prints when killed.
func stripSignalLine(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(l, "|fatal_signal|") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

const monitorWant = `row                                  action  name   other_config
------------------------------------ ------- ------ ------------
<uuid1> initial marker {}

row                                  action name other_config
------------------------------------ ------ ---- ------------
<uuid2> insert sw1  {}

row                                  action name other_config
------------------------------------ ------ ---- ------------
<uuid3> insert sw2  {}

row                                  action name other_config
------------------------------------ ------ ---- ------------
<uuid2> old         {}
                                     new    sw1  {a=b}

row                                  action name other_config
------------------------------------ ------ ---- ------------
<uuid2> delete sw1  {a=b}

row                                  action name other_config
------------------------------------ ------ ---- ------------
<uuid3> delete sw2  {}
`

const monitorJSONWant = `{"data":[["<uuid1>","initial","marker"]],"headings":["row","action","name"]}
{"data":[["<uuid2>","insert","sw1"]],"headings":["row","action","name"]}
{"data":[["<uuid3>","insert","sw2"]],"headings":["row","action","name"]}
{"data":[["<uuid2>","delete","sw1"]],"headings":["row","action","name"]}
{"data":[["<uuid3>","delete","sw2"]],"headings":["row","action","name"]}
`

const monitorCondWant = `row                                  action  name
------------------------------------ ------- ------
<uuid1> initial marker

row                                  action name
------------------------------------ ------ ----
<uuid2> insert sw1

row                                  action name
------------------------------------ ------ ----
<uuid2> delete
`

const monitorCondSinceWant = `found: false, last_id: 00000000-0000-0000-0000-000000000000
row                                  action  name
------------------------------------ ------- ------
<uuid1> initial marker

last_id: 00000000-0000-0000-0000-000000000000
row                                  action name
------------------------------------ ------ ----
<uuid2> insert sw1

last_id: 00000000-0000-0000-0000-000000000000
row                                  action name
------------------------------------ ------ ----
<uuid2> delete
`

package interop

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// snapshot is what a server's databases look like through the clients:
// ovn-nbctl show, ovn-sbctl show and full dumps, UUIDs included.
type snapshot struct {
	NBShow, SBShow string
	NBDump, SBDump []string
}

func takeSnapshot(t *testing.T, s *Server) snapshot {
	t.Helper()
	return snapshot{
		NBShow: NBCtl(s).Must(t, "show"),
		SBShow: SBCtl(s).Must(t, "show"),
		NBDump: sortedLines(ovsdbClient(t, "dump", s.NB(), "OVN_Northbound")),
		SBDump: sortedLines(ovsdbClient(t, "dump", s.SB(), "OVN_Southbound")),
	}
}

// sortedLines sorts out's lines: dumps list rows in an order that may
// change when a server reloads its files.
func sortedLines(out string) []string {
	lines := strings.Split(out, "\n")
	slices.Sort(lines)
	return lines
}

// populate runs the nbctl and sbctl scripts against s.
func populate(t *testing.T, s *Server) {
	t.Helper()
	c := directClients(s)
	c.transcript(t, loadScript(t, "nbctl.txt"))
	c.transcript(t, loadScript(t, "sbctl.txt"))
}

// TestPersistence stops the target, with SIGTERM or SIGKILL, and starts it
// again on the same files: everything committed before is there, with the
// same UUIDs.
func TestPersistence(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"sigterm", "sigkill"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s := StartTarget(t, Options{})
			populate(t, s)
			before := takeSnapshot(t, s)
			if how == "sigterm" {
				s.Stop(t)
			} else {
				s.Kill()
			}
			s.Start(t)
			if d := cmp.Diff(before, takeSnapshot(t, s)); d != "" {
				t.Errorf("after %s and restart (-before +after):\n%s", how, d)
			}
		})
	}
}

// TestMigrationFromOVSDBServer serves files written by the real
// ovsdb-server with the target: the clients see the same databases.
func TestMigrationFromOVSDBServer(t *testing.T) {
	t.Parallel()
	ref := StartServer(t, TargetOVSDBServer, Options{})
	populate(t, ref)
	want := takeSnapshot(t, ref)
	ref.Stop(t)
	s := StartTarget(t, Options{
		NBFile: filepath.Join(ref.StateDir, NBFile),
		SBFile: filepath.Join(ref.StateDir, SBFile),
	})
	if d := cmp.Diff(want, takeSnapshot(t, s)); d != "" {
		t.Errorf("target serving ovsdb-server's files (-ovsdb-server +target):\n%s", d)
	}
}

// TestFilesReadByOVSDBTool checks that the target's database files are in
// ovsdb-server's format: ovsdb-tool reads them, and the real ovsdb-server
// serves them with the same content.
func TestFilesReadByOVSDBTool(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	populate(t, s)
	want := takeSnapshot(t, s)
	s.Stop(t)
	nbFile := filepath.Join(s.StateDir, NBFile)

	query := tool(t, "ovsdb-tool", "query", nbFile,
		`["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[["name","==","sw0"]],"columns":["name"]}]`)
	if query != `[{"rows":[{"name":"sw0"}]}]`+"\n" {
		t.Errorf("ovsdb-tool query: %q", query)
	}
	log := tool(t, "ovsdb-tool", "show-log", nbFile)
	if !strings.HasPrefix(log, `record 0: "OVN_Northbound" schema, version="7.0.0"`) {
		t.Errorf("ovsdb-tool show-log: record 0 is not the OVN_Northbound schema:\n%.500s", log)
	}
	if !strings.Contains(log, "ls-add sw0") {
		t.Errorf("ovsdb-tool show-log: no record carries ovn-nbctl's comment for ls-add sw0:\n%.2000s", log)
	}
	for _, f := range []string{NBFile, SBFile} {
		tool(t, "ovsdb-tool", "db-name", filepath.Join(s.StateDir, f))
	}
	back := StartServer(t, TargetOVSDBServer, Options{NBFile: nbFile, SBFile: filepath.Join(s.StateDir, SBFile)})
	if d := cmp.Diff(want, takeSnapshot(t, back)); d != "" {
		t.Errorf("ovsdb-server serving the target's files (-target +ovsdb-server):\n%s", d)
	}
}

// tool runs a command and fails the test unless it exits 0.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	r := Run(context.Background(), nil, name, args...)
	if r.Code != 0 {
		t.Fatalf("%s %s: exit %d: %s", name, strings.Join(args, " "), r.Code, r.Stderr)
	}
	return r.Stdout
}

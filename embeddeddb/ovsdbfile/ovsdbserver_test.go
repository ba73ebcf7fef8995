package ovsdbfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema"
)

// TestOVSDBServerServesOurFile has the real ovsdb-server load a compacted
// file written here, commit a transaction to it, and checks that Open then
// reads ovsdb-server's record after ours.
func TestOVSDBServerServesOurFile(t *testing.T) {
	for _, tool := range []string{"ovsdb-server", "ovsdb-client", "ovs-appctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "nb.db")
	l, err := Create(path, ovnschema.Northbound, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, nbRecords...)
	snapshot := []byte(`{"_date":1795466650900,"NB_Global":{"` + uGlobal + `":{"name":"global"}},"Logical_Switch":{"` + uLS1 + `":{"name":"ls1"}},"_is_diff":true,"_comment":"compacting database online"}`)
	if err := l.Compact(snapshot, 4); err != nil {
		t.Fatal(err)
	}
	l.Close()

	sock, ctl := filepath.Join(dir, "db.sock"), filepath.Join(dir, "db.ctl")
	server := exec.Command("ovsdb-server", path, "--remote=punix:"+sock, "--unixctl="+ctl,
		"--log-file="+filepath.Join(dir, "db.log"), "--no-chdir")
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill() // in case a step below fails
	run(t, "ovsdb-client", "--timeout=60", "wait", "unix:"+sock, "OVN_Northbound", "connected")
	out := run(t, "ovsdb-client", "transact", "unix:"+sock,
		`["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"from-ovsdb-server"}}]`)
	t.Logf("transact: %s", out)
	out = run(t, "ovsdb-client", "dump", "unix:"+sock, "OVN_Northbound", "Logical_Switch", "name")
	if !strings.Contains(out, "ls1") || !strings.Contains(out, "from-ovsdb-server") {
		t.Errorf("dump:\n%s", out)
	}
	run(t, "ovs-appctl", "-t", ctl, "exit")
	if err := server.Wait(); err != nil {
		t.Fatalf("ovsdb-server: %v", err)
	}

	l, _, records, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if len(records) != 2 || string(records[0]) != string(snapshot) ||
		!strings.Contains(string(records[1]), `"name":"from-ovsdb-server"`) {
		t.Fatalf("records after ovsdb-server: %q", records)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, "db.log")); strings.Contains(string(log), "ERR") {
		t.Errorf("ovsdb-server log:\n%s", log)
	}
}

// run runs a command and returns its output, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

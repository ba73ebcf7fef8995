package embeddeddb

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema"
)

// olderNB returns the NB schema made to look like an earlier release: an
// older version, without the Copp table and without Logical_Switch's
// other_config column.
func olderNB(t *testing.T) []byte {
	var s map[string]any
	if err := json.Unmarshal(ovnschema.Northbound, &s); err != nil {
		t.Fatal(err)
	}
	s["version"] = "6.3.0"
	delete(s, "cksum")
	tables := s["tables"].(map[string]any)
	delete(tables, "Copp")
	for _, tn := range []string{"Logical_Switch", "Logical_Router"} {
		cols := tables[tn].(map[string]any)["columns"].(map[string]any)
		delete(cols, "copp")
		if tn == "Logical_Switch" {
			delete(cols, "other_config")
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpenConvertsOlderSchema opens a file that the real ovsdb-tool wrote
// with an older NB schema and checks that ovnd serves its data under the
// current schema and rewrites the file with it.
func TestOpenConvertsOlderSchema(t *testing.T) {
	tool, err := exec.LookPath("ovsdb-tool")
	if err != nil {
		t.Skip("ovsdb-tool not installed")
	}
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "old.ovsschema")
	if err := os.WriteFile(schemaPath, olderNB(t), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, NBFile)
	run := func(args ...string) string {
		out, err := exec.Command(tool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ovsdb-tool %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("create", dbPath, schemaPath)
	run("transact", dbPath, `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"old-sw","external_ids":["map",[["k","v"]]]}}]`)

	s, err := New(Config{Dir: dir, NBRemotes: []string{"punix:" + filepath.Join(dir, "nb.sock")}})
	if err != nil {
		t.Fatalf("open older file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	c := dialRaw(t, filepath.Join(dir, "nb.sock"))
	res, err := c.call("transact", "OVN_Northbound",
		map[string]any{"op": "select", "table": "Logical_Switch", "where": []any{}, "columns": []string{"name", "external_ids", "other_config"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"rows":[{"name":"old-sw","external_ids":["map",[["k","v"]]],"other_config":["map",[]]}]}]`
	if string(res) != want {
		t.Errorf("converted data:\n got %s\nwant %s", res, want)
	}
	c.c.Close()
	cancel()
	<-done
	if v := strings.TrimSpace(run("db-version", dbPath)); v != "7.0.0" {
		t.Errorf("file schema version after open = %s, want 7.0.0", v)
	}
	if got := run("query", dbPath, `["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[],"columns":["name"]}]`); !strings.Contains(got, "old-sw") {
		t.Errorf("rewritten file lost the data: %s", got)
	}
}

package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oldNBSchema writes an NB schema as an older OVN had it: version 6.3.0,
// without the Mirror table and the port column that refers to it.
func oldNBSchema(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(NBSchema)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	schema["version"] = "6.3.0"
	delete(schema, "cksum")
	tables := schema["tables"].(map[string]any)
	delete(tables, "Mirror")
	lsp := tables["Logical_Switch_Port"].(map[string]any)
	delete(lsp["columns"].(map[string]any), "mirror_rules")
	if b, err = json.Marshal(schema); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "old-nb.ovsschema")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSchemaUpgrade serves an NB file made with an older schema, as after
// an OVN upgrade, and takes it to the installed schema the way ovn-ctl
// does for a running server: needs-conversion, then convert. A target
// that converts on its own at startup is accepted too. Either way the old
// data stays and the new table is usable.
func TestSchemaUpgrade(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	oldFile := filepath.Join(dir, "old-nb.db")
	tool(t, "ovsdb-tool", "create", oldFile, oldNBSchema(t, dir))
	tool(t, "ovsdb-tool", "transact", oldFile, `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"old-sw"}}]`)
	s := StartTarget(t, Options{NBFile: oldFile})

	version := strings.TrimSpace(ovsdbClient(t, "get-schema-version", s.NB(), "OVN_Northbound"))
	needs := strings.TrimSpace(ovsdbClient(t, "needs-conversion", s.NB(), NBSchema))
	switch {
	case version == "6.3.0" && needs == "yes":
		ovsdbClient(t, "convert", s.NB(), NBSchema)
	case version == "7.0.0" && needs == "no":
		t.Logf("%s converted the old file at startup", s.Target)
	default:
		t.Fatalf("old file served with schema version %q, needs-conversion %q", version, needs)
	}
	if v := strings.TrimSpace(ovsdbClient(t, "get-schema-version", s.NB(), "OVN_Northbound")); v != "7.0.0" {
		t.Fatalf("after convert: schema version %q", v)
	}
	if cols := ovsdbClient(t, "list-columns", s.NB(), "OVN_Northbound", "Logical_Switch_Port"); !strings.Contains(cols, "mirror_rules") {
		t.Errorf("after convert: Logical_Switch_Port lacks mirror_rules:\n%s", cols)
	}
	// ovsdb-server 3.1 leaves the old schema in _Server.Database, where
	// IDL clients such as ovn-nbctl read it, until it restarts; so restart
	// before using them. This also shows the conversion is on disk.
	s.Stop(t)
	s.Start(t)
	nb := NBCtl(s)
	if got := nb.Must(t, "--bare", "--columns=name", "list", "Logical_Switch"); got != "old-sw\n" {
		t.Errorf("after convert: switches %q, want old-sw", got)
	}
	nb.Must(t, "--id=@m", "create", "Mirror", "name=m1", "filter=from-lport", "sink=1.1.1.1", "type=gre", "index=1",
		"--", "lsp-add", "old-sw", "p1", "--", "add", "Logical_Switch_Port", "p1", "mirror_rules", "@m")
	if got := nb.Must(t, "--bare", "--columns=mirror_rules", "list", "Logical_Switch_Port"); !uuidRE.MatchString(got) {
		t.Errorf("p1 mirror_rules %q, want the mirror's UUID", got)
	}
}

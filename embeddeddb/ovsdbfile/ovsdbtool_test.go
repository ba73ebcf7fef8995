package ovsdbfile

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/ovnschema"
)

// Row UUIDs of the crafted OVN_Northbound records.
const (
	uGlobal = "0b5b0a36-5a5b-4b4e-9a55-0d6ad2d6b1e1"
	uLS1    = "6c2f0d1e-29a3-4c8e-b1a5-2f4d8b3c7a10"
	uLS2    = "9e4a7b2c-13d5-4f6a-8b9c-0a1b2c3d4e5f"
	uLS5    = "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9"
)

// nbRecords are transactions in the form ovsdb-server writes: insert
// NB_Global and ls1, insert ls2, add an external_id to ls1, delete ls2.
var nbRecords = [][]byte{
	[]byte(`{"_date":1795466650844,"NB_Global":{"` + uGlobal + `":{"name":"global"}},"Logical_Switch":{"` + uLS1 + `":{"name":"ls1"}},"_is_diff":true,"_comment":"ovnd test"}`),
	[]byte(`{"_date":1795466650845,"Logical_Switch":{"` + uLS2 + `":{"name":"ls2","other_config":["map",[["a","b"]]]}},"_is_diff":true}`),
	[]byte(`{"_date":1795466650846,"Logical_Switch":{"` + uLS1 + `":{"external_ids":["map",[["k","v"]]]}},"_is_diff":true}`),
	[]byte(`{"_date":1795466650847,"Logical_Switch":{"` + uLS2 + `":null},"_is_diff":true}`),
}

// ovsdbTool runs the real ovsdb-tool, skipping the test if it is absent.
func ovsdbTool(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("ovsdb-tool"); err != nil {
		t.Skip("ovsdb-tool not installed")
	}
	out, err := exec.Command("ovsdb-tool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovsdb-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// switchNames queries Logical_Switch names with ovsdb-tool query.
func switchNames(t *testing.T, path string) string {
	t.Helper()
	out := ovsdbTool(t, "query", path,
		`["OVN_Northbound",{"op":"select","table":"Logical_Switch","where":[],"columns":["name","external_ids"],"sort":["name"]}]`)
	var res []struct {
		Rows []struct {
			Name        string `json:"name"`
			ExternalIDs any    `json:"external_ids"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
		t.Fatalf("query output %q: %v", out, err)
	}
	var names []string
	for _, r := range res[0].Rows {
		ids, _ := json.Marshal(r.ExternalIDs)
		names = append(names, r.Name+string(ids))
	}
	return strings.Join(names, " ")
}

func TestOurFileReadByOVSDBTool(t *testing.T) {
	path := dbPath(t)
	ovsdbTool(t, "--version")
	l, err := Create(path, ovnschema.Northbound, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, nbRecords...)
	l.Close()
	if got := strings.TrimSpace(ovsdbTool(t, "db-name", path)); got != ovnschema.NorthboundName {
		t.Errorf("db-name = %q", got)
	}
	if got := strings.TrimSpace(ovsdbTool(t, "db-version", path)); got != "7.0.0" {
		t.Errorf("db-version = %q", got)
	}
	log := ovsdbTool(t, "show-log", path)
	if !strings.Contains(log, `record 4:`) || !strings.Contains(log, `"ovnd test"`) {
		t.Errorf("show-log:\n%s", log)
	}
	if got, want := switchNames(t, path), `ls1["map",[["k","v"]]]`; got != want {
		t.Errorf("switches = %s, want %s", got, want)
	}
}

func TestOurCompactedFileReadByOVSDBTool(t *testing.T) {
	ovsdbTool(t, "--version")
	path := dbPath(t)
	l, err := Create(path, ovnschema.Northbound, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, nbRecords...)
	snapshot := []byte(`{"_date":1795466650900,"NB_Global":{"` + uGlobal + `":{"name":"global"}},"Logical_Switch":{"` + uLS1 + `":{"name":"ls1","external_ids":["map",[["k","v"]]]}},"_comment":"compacted by ovnd"}`)
	if err := l.Compact(snapshot, 4); err != nil {
		t.Fatal(err)
	}
	appendWait(t, l, true, []byte(`{"_date":1795466650901,"Logical_Switch":{"`+uLS5+`":{"name":"ls5"}},"_is_diff":true}`))
	l.Close()
	log := ovsdbTool(t, "show-log", path)
	if !strings.Contains(log, `record 2:`) || strings.Contains(log, `record 3:`) || !strings.Contains(log, "compacted by ovnd") {
		t.Errorf("show-log:\n%s", log)
	}
	if got, want := switchNames(t, path), `ls1["map",[["k","v"]]] ls5["map",[]]`; got != want {
		t.Errorf("switches = %s, want %s", got, want)
	}
}

// TestOVSDBToolFileRead reads files that ovsdb-tool create, transact and
// compact wrote, then appends to one and has ovsdb-tool read it back.
func TestOVSDBToolFileRead(t *testing.T) {
	path := dbPath(t)
	ovsdbTool(t, "create", path, "/usr/share/ovn/ovn-nb.ovsschema")
	ovsdbTool(t, "transact", path, `["OVN_Northbound",{"op":"insert","table":"NB_Global","row":{}},{"op":"insert","table":"Logical_Switch","row":{"name":"ls1"}},{"op":"comment","comment":"hello"}]`)
	ovsdbTool(t, "transact", path, `["OVN_Northbound",{"op":"update","table":"Logical_Switch","where":[["name","==","ls1"]],"row":{"external_ids":["map",[["k","v"]]]}}]`)

	l, schema, records, err := Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Name, Version string }
	if err := json.Unmarshal(schema, &s); err != nil || s.Name != "OVN_Northbound" || s.Version != "7.0.0" {
		t.Fatalf("schema %+v, %v", s, err)
	}
	if len(records) != 2 || !strings.Contains(string(records[0]), `"_is_diff":true,"_comment":"hello"}`) {
		t.Fatalf("records %q", records)
	}
	appendWait(t, l, true, []byte(`{"_date":1795466650901,"Logical_Switch":{"`+uLS5+`":{"name":"ls5"}},"_is_diff":true}`))
	l.Close()
	if got, want := switchNames(t, path), `ls1["map",[["k","v"]]] ls5["map",[]]`; got != want {
		t.Errorf("switches = %s, want %s", got, want)
	}

	ovsdbTool(t, "compact", path)
	l, _, records, err = Open(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if len(records) != 1 || !strings.Contains(string(records[0]), `"_comment":"compacted by ovsdb-tool`) ||
		strings.Contains(string(records[0]), `_is_diff`) {
		t.Fatalf("compacted records %q", records)
	}
}

// TestLockExcludesOVSDBTool checks that an open Log keeps the real
// ovsdb-tool from writing the file, and that ovsdb-tool's lock keeps Open
// out.
func TestLockExcludesOVSDBTool(t *testing.T) {
	ovsdbTool(t, "--version")
	path := dbPath(t)
	l, err := Create(path, ovnschema.Northbound, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err := exec.Command("ovsdb-tool", "transact", path,
		`["OVN_Northbound",{"op":"insert","table":"NB_Global","row":{}}]`).CombinedOutput()
	if err == nil {
		t.Fatalf("ovsdb-tool transact wrote a file held by a Log: %s", out)
	}
	t.Logf("ovsdb-tool transact: %v: %s", err, out)
	if st, _ := os.Stat(path); st.Size() != int64(recordSize(l.Schema())) {
		t.Fatalf("file changed under the Log: size %d", st.Size())
	}
}

package ovnschema

import (
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type schemaFile struct {
	Name    string                     `json:"name"`
	Version string                     `json:"version"`
	Tables  map[string]json.RawMessage `json:"tables"`
}

type tableFile struct {
	Columns map[string]json.RawMessage `json:"columns"`
	Indexes json.RawMessage            `json:"indexes"`
	IsRoot  json.RawMessage            `json:"isRoot"`
	MaxRows json.RawMessage            `json:"maxRows"`
}

// canonical re-encodes JSON with sorted keys and no spaces.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMatchesInstalledSchemas proves, table by table and column by
// column, that the embedded schemas are the ones the Debian OVN 23.03
// packages install.
func TestMatchesInstalledSchemas(t *testing.T) {
	for _, c := range []struct {
		embedded []byte
		path     string
		name     string
		version  string
	}{
		{Northbound, "/usr/share/ovn/ovn-nb.ovsschema", NorthboundName, "7.0.0"},
		{Southbound, "/usr/share/ovn/ovn-sb.ovsschema", SouthboundName, "20.27.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var emb schemaFile
			if err := json.Unmarshal(c.embedded, &emb); err != nil {
				t.Fatal(err)
			}
			if emb.Name != c.name || emb.Version != c.version {
				t.Fatalf("embedded schema is %s %s, want %s %s", emb.Name, emb.Version, c.name, c.version)
			}
			raw, err := os.ReadFile(c.path)
			if err != nil {
				t.Skipf("installed schema not available (apt-get install ovn-common): %v", err)
			}
			var inst schemaFile
			if err := json.Unmarshal(raw, &inst); err != nil {
				t.Fatal(err)
			}
			if inst.Version != emb.Version {
				t.Errorf("installed %s is version %s, embedded %s", c.path, inst.Version, emb.Version)
			}
			compareTables(t, emb.Tables, inst.Tables)
		})
	}
}

func names[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func compareTables(t *testing.T, emb, inst map[string]json.RawMessage) {
	if d := cmp.Diff(names(inst), names(emb)); d != "" {
		t.Errorf("table sets differ (-installed +embedded):\n%s", d)
	}
	for _, name := range names(inst) {
		if emb[name] == nil {
			continue
		}
		var et, it tableFile
		if err := json.Unmarshal(emb[name], &et); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(inst[name], &it); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(names(it.Columns), names(et.Columns)); d != "" {
			t.Errorf("table %s: column sets differ (-installed +embedded):\n%s", name, d)
		}
		for _, col := range names(it.Columns) {
			if a, b := canonical(t, it.Columns[col]), canonical(t, et.Columns[col]); a != b {
				t.Errorf("table %s column %s: installed %s, embedded %s", name, col, a, b)
			}
		}
		for what, pair := range map[string][2]json.RawMessage{
			"indexes": {it.Indexes, et.Indexes}, "isRoot": {it.IsRoot, et.IsRoot}, "maxRows": {it.MaxRows, et.MaxRows},
		} {
			if a, b := canonical(t, pair[0]), canonical(t, pair[1]); a != b {
				t.Errorf("table %s %s: installed %s, embedded %s", name, what, a, b)
			}
		}
	}
}

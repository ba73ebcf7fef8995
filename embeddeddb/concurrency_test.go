package embeddeddb

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/embeddeddb/ovsdbtest"
)

// switchView is a monitor's picture of Logical_Switch: uuid → name and
// external_ids.
type switchView map[string]viewRow

type viewRow struct {
	Name string
	IDs  map[string]string
}

// apply folds one update2 table-updates object into the view.
func (v switchView) apply(t testing.TB, body json.RawMessage) {
	t.Helper()
	var tu map[string]map[string]map[string]json.RawMessage
	if err := json.Unmarshal(body, &tu); err != nil {
		t.Fatalf("bad table-updates: %s", body)
	}
	for u, ru := range tu["Logical_Switch"] {
		for kind, row := range ru {
			switch kind {
			case "initial", "insert":
				r := viewRow{IDs: map[string]string{}}
				r.merge(t, row, false)
				v[u] = r
			case "modify":
				r, found := v[u]
				if !found {
					t.Fatalf("modify of unknown row %s", u)
				}
				r.merge(t, row, true)
				v[u] = r
			case "delete":
				if _, found := v[u]; !found {
					t.Fatalf("delete of unknown row %s", u)
				}
				delete(v, u)
			default:
				t.Fatalf("unknown row update %q", kind)
			}
		}
	}
}

// merge applies a row (or, with diff, an update2 modify) to r.
func (r *viewRow) merge(t testing.TB, row json.RawMessage, diff bool) {
	t.Helper()
	var cols struct {
		Name *string            `json:"name"`
		IDs  *[]json.RawMessage `json:"external_ids"`
	}
	if err := json.Unmarshal(row, &cols); err != nil {
		t.Fatalf("bad row %s: %v", row, err)
	}
	if cols.Name != nil {
		r.Name = *cols.Name
	}
	if cols.IDs == nil {
		return
	}
	var pairs [][2]string
	if err := json.Unmarshal((*cols.IDs)[1], &pairs); err != nil {
		t.Fatalf("bad map %s", row)
	}
	if !diff {
		r.IDs = map[string]string{}
	} else {
		old := r.IDs
		r.IDs = make(map[string]string, len(old))
		for k, v := range old {
			r.IDs[k] = v
		}
	}
	for _, p := range pairs {
		old, had := r.IDs[p[0]]
		switch {
		case diff && had && old == p[1]:
			delete(r.IDs, p[0])
		default:
			r.IDs[p[0]] = p[1]
		}
	}
}

// TestConcurrentWritersAndMonitors: with several clients writing at once,
// every monitor's view, built from its updates alone, ends equal to the
// database.
func TestConcurrentWritersAndMonitors(t *testing.T) {
	ts := startServer(t, "")
	const writers, txns = 4, 40
	req := raw(`{"Logical_Switch":[{"columns":["name","external_ids"]}]}`)
	var mons []*ovsdbtest.Client
	var views []switchView
	for i := 0; i < 3; i++ {
		c := ts.dialNB(t)
		v := switchView{}
		v.apply(t, ok(t, c.Call("monitor_cond", nbName, "m", req)))
		mons, views = append(mons, c), append(views, v)
	}
	var wg sync.WaitGroup
	errs := make(chan string, writers)
	for w := 0; w < writers; w++ {
		c := ts.dialNB(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runWriter(c, w, txns)
		}()
	}
	// Drain the monitors while the writers run, so none falls behind.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	marker := ""
	for marker == "" {
		select {
		case <-done:
			marker = addSwitch(t, ts.dialNB(t), "marker")
		default:
		}
		for i, c := range mons {
			for {
				m, err := c.Next(quiet / 10)
				if err != nil {
					break
				}
				views[i].apply(t, params(t, m)[1])
			}
		}
	}
	for i := 0; i < writers; i++ {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
	// Every view catches up to the marker and then equals the database.
	want := databaseView(t, ts.dialNB(t))
	if len(want) < 3 {
		t.Fatalf("only %d switches at the end: the writers did too little", len(want))
	}
	for i, c := range mons {
		for _, seen := views[i][marker]; !seen; _, seen = views[i][marker] {
			views[i].apply(t, params(t, c.Notification("update2"))[1])
		}
		if diff := cmp.Diff(want, views[i]); diff != "" {
			t.Errorf("monitor %d view differs from the database (-db +view):\n%s", i, diff)
		}
	}
}

// runWriter inserts, renames, mutates and deletes its own switches; it
// returns a description of the first failure, or "".
func runWriter(c *ovsdbtest.Client, w, n int) string {
	rng := rand.New(rand.NewPCG(uint64(w), 7))
	for i := 0; i < n; i++ {
		var op string
		name := fmt.Sprintf("w%d-%d", w, rng.IntN(5))
		switch rng.IntN(4) {
		case 0:
			op = fmt.Sprintf(`{"op":"insert","table":"Logical_Switch","row":{"name":%q,"external_ids":["map",[["w","%d"]]]}}`, name, w)
		case 1:
			op = fmt.Sprintf(`{"op":"update","table":"Logical_Switch","where":[["name","==",%q]],"row":{"name":"%s-r"}}`, name, name)
		case 2:
			op = fmt.Sprintf(`{"op":"mutate","table":"Logical_Switch","where":[["external_ids","includes",["map",[["w","%d"]]]]],"mutations":[["external_ids","insert",["map",[["k%d","%d"]]]],["external_ids","delete",["set",["k%d"]]]]}`, w, i, i, i-1)
		default:
			op = fmt.Sprintf(`{"op":"delete","table":"Logical_Switch","where":[["name","==",%q]]}`, name)
		}
		id := c.Send("transact", nbName, json.RawMessage(op))
		m, err := c.Next(ovsdbtest.DefaultTimeout)
		if err != nil {
			return fmt.Sprintf("writer %d: %v", w, err)
		}
		if string(m.ID) != string(id) || m.ErrorTag() != "" || json.Valid(m.Result) == false {
			return fmt.Sprintf("writer %d: bad reply %s", w, m.Raw)
		}
		var res []map[string]any
		if json.Unmarshal(m.Result, &res) != nil || len(res) != 1 || res[0]["error"] != nil {
			return fmt.Sprintf("writer %d: %s failed: %s", w, op, m.Raw)
		}
	}
	return ""
}

// databaseView selects Logical_Switch into a switchView.
func databaseView(t testing.TB, c *ovsdbtest.Client) switchView {
	t.Helper()
	res := ok(t, c.Call("transact", nbName, raw(`{"op":"select","table":"Logical_Switch","where":[],"columns":["_uuid","name","external_ids"]}`)))
	var out []struct {
		Rows []struct {
			UUID []string        `json:"_uuid"`
			Name string          `json:"name"`
			IDs  json.RawMessage `json:"external_ids"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		t.Fatalf("bad select result: %s", res)
	}
	v := switchView{}
	for _, r := range out[0].Rows {
		row := viewRow{IDs: map[string]string{}}
		row.merge(t, mustMarshal(t, map[string]any{"name": r.Name, "external_ids": r.IDs}), false)
		v[r.UUID[1]] = row
	}
	return v
}

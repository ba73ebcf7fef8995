package interop

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// monitorRequests are the three monitor flavours of RFC 7047 and its
// extensions in ovsdb-server(7), each on its own connection, watching the
// switch and port tables.
var monitorRequests = []string{
	`{"method":"monitor","params":["OVN_Northbound","m1",{"Logical_Switch":{"columns":["name","ports","other_config","external_ids"]},"Logical_Switch_Port":{"columns":["name","addresses"]}}],"id":"m1"}`,
	`{"method":"monitor_cond","params":["OVN_Northbound","m2",{"Logical_Switch":[{"columns":["name","ports","other_config","external_ids"]}],"Logical_Switch_Port":[{"columns":["name","addresses"]}]}],"id":"m2"}`,
	`{"method":"monitor_cond_since","params":["OVN_Northbound","m3",{"Logical_Switch":[{"columns":["name","ports","other_config","external_ids"]}],"Logical_Switch_Port":[{"where":[["name","!=","hidden"]],"columns":["name","addresses"]}]},"00000000-0000-0000-0000-000000000000"],"id":"m3"}`,
}

// monitorSteps each make one transaction the monitors must report.
var monitorSteps = [][]string{
	{"ls-add", "sw1"},
	{"lsp-add", "sw1", "p1"},
	{"lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1"},
	{"set", "Logical_Switch", "sw1", "other_config:a=b", "external_ids:x=y"},
	{"remove", "Logical_Switch", "sw1", "other_config", "a"},
	{"lsp-del", "p1"},
	{"ls-del", "sw1"},
}

// TestMonitorWire compares, as JSON values with UUIDs renamed, the replies
// and update notifications of monitor, monitor_cond and monitor_cond_since
// from ovsdb-server and from the target for the same changes.
func TestMonitorWire(t *testing.T) {
	t.Parallel()
	want := monitorWire(t, StartServer(t, TargetOVSDBServer, Options{}))
	got := monitorWire(t, StartTarget(t, Options{}))
	for i := range want {
		for j := range max(len(want[i]), len(got[i])) {
			if d := cmp.Diff(at(want[i], j), at(got[i], j)); d != "" {
				t.Errorf("%s, message %d (after %s) (-ovsdb-server +target):\n%s",
					monitorMethod(i), j, monitorStepName(j), d)
			}
		}
	}
}

func at(msgs []string, i int) string {
	if i < len(msgs) {
		return msgs[i]
	}
	return "(none)"
}

func monitorMethod(i int) string { return []string{"monitor", "monitor_cond", "monitor_cond_since"}[i] }

// monitorStepName names what message j of a monitor connection answers:
// the monitor request, a step, or the final probe.
func monitorStepName(j int) string {
	switch {
	case j == 0:
		return "the request"
	case j <= len(monitorSteps):
		return strings.Join(monitorSteps[j-1], " ")
	default:
		return "the last step (expecting nothing more)"
	}
}

// monitorWire runs the monitors and steps against s and returns every
// message the monitors received, per connection, rendered.
func monitorWire(t *testing.T, s *Server) [][]string {
	t.Helper()
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "marker", "--", "lsp-add", "marker", "marker-p")
	conns := make([]*RawConn, len(monitorRequests))
	out := make([][]string, len(monitorRequests))
	names := make([]uuidNamer, len(monitorRequests))
	for i, req := range monitorRequests {
		names[i] = uuidNamer{}
		r, err := DialRaw(s.NBSock)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		conns[i] = r
		if err := r.Send([]byte(req)); err != nil {
			t.Fatal(err)
		}
		out[i] = append(out[i], nextRendered(t, r, names[i]))
	}
	for _, step := range monitorSteps {
		nb.Must(t, step...)
		for i, r := range conns {
			out[i] = append(out[i], nextRendered(t, r, names[i]))
		}
	}
	for i, r := range conns {
		out[i] = append(out[i], r.Exchange("")...)
	}
	return out
}

// nextRendered reads the next message on r and renders it.
func nextRendered(t *testing.T, r *RawConn, names uuidNamer) string {
	t.Helper()
	msg, err := r.Next(5 * time.Second)
	if err != nil {
		return fmt.Sprintf("(no message: %v)", err)
	}
	return renderMessage(t, msg, names)
}

// renderMessage renders a JSON-RPC message as canonical JSON with UUIDs
// renamed first: keys sorted, and the members of sets and maps and the
// rows of a select sorted, since servers order them by UUID or hash.
func renderMessage(t *testing.T, msg map[string]json.RawMessage, names uuidNamer) string {
	t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(names.rename(zeroTxnIDs(string(b)))), &v); err != nil {
		t.Fatal(err)
	}
	return marshalCanonical(sortUnordered(v))
}

func marshalCanonical(v any) string {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(buf.String(), "\n")
}

// sortUnordered sorts, all through v, the members of ["set", [...]] and
// ["map", [...]] and the elements of "rows" arrays.
func sortUnordered(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = sortUnordered(e)
			if rows, ok := v[k].([]any); ok && k == "rows" {
				sortByJSON(rows)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = sortUnordered(e)
		}
		if len(v) != 2 {
			break
		}
		if tag, ok := v[0].(string); ok && (tag == "set" || tag == "map") {
			if members, ok := v[1].([]any); ok {
				sortByJSON(members)
			}
		}
	}
	return v
}

func sortByJSON(items []any) {
	sort.Slice(items, func(i, j int) bool { return marshalCanonical(items[i]) < marshalCanonical(items[j]) })
}

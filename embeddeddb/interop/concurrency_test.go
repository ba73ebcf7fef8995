package interop

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentClients runs many ovn-nbctl at once, each adding a port
// to the same switch. Each one reads the switch's ports and writes them
// back guarded by a "wait" operation, so most of them conflict and must
// retry when the server reports the row changed; all ports must land,
// and a monitor must see each insert.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "sw0", "--", "lsp-add", "sw0", "marker")
	m := StartMonitor(t, "monitor", s.NB(), "OVN_Northbound", "Logical_Switch_Port", "name")
	if err := m.WaitFor("marker", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	const n = 24
	var wg sync.WaitGroup
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = nb.Run(t, "lsp-add", "sw0", fmt.Sprintf("p%02d", i), "--", "lsp-set-addresses", fmt.Sprintf("p%02d", i), fmt.Sprintf("00:00:00:00:00:%02x", i))
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.Code != 0 {
			t.Errorf("%s: exit %d: %s", strings.Join(r.Args, " "), r.Code, r.Stderr)
		}
	}
	ports := strings.Fields(nb.Must(t, "--bare", "--columns=ports", "list", "Logical_Switch", "sw0"))
	if len(ports) != n+1 {
		t.Errorf("sw0 has %d ports, want %d", len(ports), n+1)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	for i := range n {
		if err := m.WaitFor(fmt.Sprintf(" insert p%02d", i), 5*time.Second); err != nil {
			t.Errorf("monitor: %v", err)
			break
		}
	}
	want = append([]string{"marker"}, want...)
	got := strings.Fields(nb.Must(t, "--bare", "--columns=name", "list", "Logical_Switch_Port"))
	slices.Sort(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ports %v, want %v", got, want)
	}
}

package interop

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBulk makes a switch with 1000 ports in one ovn-nbctl transaction,
// reads them back, watches them arrive in a monitor, and deletes the
// switch, which takes its ports with it.
func TestBulk(t *testing.T) {
	t.Parallel()
	const n = 1000
	s := StartTarget(t, Options{})
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "marker", "--", "lsp-add", "marker", "marker-p")
	m := StartMonitor(t, "monitor", s.NB(), "OVN_Northbound", "Logical_Switch_Port", "name")
	if err := m.WaitFor("marker-p", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	args := []string{"ls-add", "big"}
	for i := range n {
		args = append(args, "--", "lsp-add", "big", fmt.Sprintf("p%04d", i), "--", "lsp-set-addresses", fmt.Sprintf("p%04d", i), fmt.Sprintf("00:00:00:00:%02x:%02x", i/256, i%256))
	}
	start := time.Now()
	nb.Must(t, args...)
	t.Logf("%s: one transaction of %d ports took %v", s.Target, n, time.Since(start))
	if got := strings.Count(nb.Must(t, "lsp-list", "big"), "\n"); got != n {
		t.Errorf("lsp-list big: %d ports, want %d", got, n)
	}
	if err := m.WaitFor("p0999", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(m.Output(), " insert "); got != n {
		t.Errorf("monitor saw %d inserts, want %d", got, n)
	}
	nb.Must(t, "ls-del", "big")
	if got := nb.Must(t, "--bare", "--columns=name", "list", "Logical_Switch_Port"); got != "marker-p\n" {
		t.Errorf("ports left after ls-del big: %.200q", got)
	}
}

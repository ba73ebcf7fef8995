package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRBAC checks the SB's role-based access control: with ovn-northd's
// RBAC rows and a role=ovn-controller SSL remote, a chassis may write its
// own Chassis row and nothing else. The transcripts of testdata/rbac.txt
// on ovsdb-server and on the target must match, and the script's own
// expectations hold.
func TestRBAC(t *testing.T) {
	t.Parallel()
	sc := loadScript(t, "rbac.txt")
	want := rbacClients(t, StartServer(t, TargetOVSDBServer, Options{TLS: true})).transcript(t, sc)
	got := rbacClients(t, StartTarget(t, Options{TLS: true})).record(t, sc, true)
	if testing.Verbose() {
		t.Logf("ovsdb-server transcript:\n%s", strings.Join(want, ""))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rbac.txt: target differs from ovsdb-server (-ovsdb-server +target):\n%s", d)
	}
}

// rbacClients starts ovn-northd on s so that it writes the RBAC rows, opens
// a role=ovn-controller SSL remote, and returns clients whose "alt" tool
// connects there as chassis ch1.
func rbacClients(t *testing.T, s *Server) *clients {
	t.Helper()
	n := startNorthd(t, s, string(s.Target))
	n.waitStatus(t, "active", 10*time.Second)
	sb := SBCtl(s)
	if err := waitUntil(5*time.Second, func() bool {
		return strings.Contains(sb.Run(t, "--bare", "--columns=name", "list", "RBAC_Role").Stdout, "ovn-controller")
	}); err != nil {
		t.Fatalf("ovn-northd made no ovn-controller RBAC role")
	}
	addr := freeTCPAddr(t)
	sb.Must(t, "set-connection", "role=ovn-controller", pssl(addr))
	key, cert, err := s.PKI.Issue("ch1")
	if err != nil {
		t.Fatal(err)
	}
	rbac := &Ctl{Tool: "ovn-sbctl", DB: "ssl:" + addr, SSL: sslOpts(key, cert, s.PKI.CACert)}
	if err := waitUntil(5*time.Second, func() bool { return rbac.Run(t, "list", "SB_Global").Code == 0 }); err != nil {
		t.Fatalf("no role=ovn-controller listener on %s: %s", addr, rbac.Run(t, "list", "SB_Global").Stderr)
	}
	c := directClients(s)
	c.alt = rbac
	return c
}

// TestReadOnly runs testdata/readonly.txt against ovsdb-server and the
// target, with "alt" on a read-only SB remote.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	sc := loadScript(t, "readonly.txt")
	want := readOnlyClients(t, StartServer(t, TargetOVSDBServer, Options{})).transcript(t, sc)
	got := readOnlyClients(t, StartTarget(t, Options{})).record(t, sc, true)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("readonly.txt: target differs from ovsdb-server (-ovsdb-server +target):\n%s", d)
	}
}

func readOnlyClients(t *testing.T, s *Server) *clients {
	t.Helper()
	addr := freeTCPAddr(t)
	SBCtl(s).Must(t, "set-connection", "read-only", ptcp(addr))
	alt := &Ctl{Tool: "ovn-sbctl", DB: "tcp:" + addr}
	if err := waitUntil(5*time.Second, func() bool { return alt.Run(t, "list", "SB_Global").Code == 0 }); err != nil {
		t.Fatalf("no read-only listener on %s: %s", addr, alt.Run(t, "list", "SB_Global").Stderr)
	}
	c := directClients(s)
	c.alt = alt
	return c
}

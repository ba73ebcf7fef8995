package interop

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDifferential runs each script against a real ovsdb-server and against
// the target and requires the same transcripts, stdout, stderr and exit
// codes, after UUIDs are renamed by order of first appearance. With target
// ovsdb-server it compares ovsdb-server with itself, which checks that the
// scripts and the normalisation are deterministic.
func TestDifferential(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"nbctl.txt", "sbctl.txt", "errors.txt", "refs.txt", "client.txt"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := loadScript(t, name)
			want := directClients(StartServer(t, TargetOVSDBServer, Options{})).transcript(t, sc)
			got := directClients(StartTarget(t, Options{})).transcript(t, sc)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s: target differs from ovsdb-server (-ovsdb-server +target):\n%s", name, d)
			}
		})
	}
}

func directClients(s *Server) *clients { return newClients(s, NBCtl(s), SBCtl(s)) }

// TestClientScript runs the ovsdb-client requests of testdata/client.txt
// against the target.
func TestClientScript(t *testing.T) {
	t.Parallel()
	directClients(StartTarget(t, Options{})).runScript(t, loadScript(t, "client.txt"))
}

// TestRefsScript runs testdata/refs.txt against the target.
func TestRefsScript(t *testing.T) {
	t.Parallel()
	directClients(StartTarget(t, Options{})).runScript(t, loadScript(t, "refs.txt"))
}

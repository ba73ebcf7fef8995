package interop

import "testing"

// TestSBCtl runs the ovn-sbctl command sets of testdata/sbctl.txt against
// the target, directly and through an ovn-sbctl daemon.
func TestSBCtl(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"direct", "daemon"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := StartTarget(t, Options{})
			nb, sb := NBCtl(s), SBCtl(s)
			if mode == "daemon" {
				nb, sb = nb.StartDaemon(t), sb.StartDaemon(t)
			}
			newClients(s, nb, sb).runScript(t, loadScript(t, "sbctl.txt"))
		})
	}
}

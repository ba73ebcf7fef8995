package interop

import "testing"

// TestNBCtl runs the ovn-nbctl command sets of testdata/nbctl.txt against
// the target, directly and through an ovn-nbctl daemon.
func TestNBCtl(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"direct", "daemon"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := StartTarget(t, Options{})
			nb, sb := NBCtl(s), SBCtl(s)
			if mode == "daemon" {
				nb, sb = nb.StartDaemon(t), sb.StartDaemon(t)
			}
			newClients(s, nb, sb).runScript(t, loadScript(t, "nbctl.txt"))
		})
	}
}

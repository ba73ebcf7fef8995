package flowtable

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInstallerBundleCommands: one bundle with adds before and after a
// strict modify, an add for a new cookie and a delete sends each flow
// with its own command, deletes first, the rest in key order.
func TestInstallerBundleCommands(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	d.Set("a", fls(t,
		"table=0,priority=100,in_port=2 actions=resubmit(,8)",
		"cookie=0x1,table=8,priority=50,metadata=0x1 actions=resubmit(,9)",
		"table=65,priority=100,reg15=0x1 actions=output:1"))
	if st, err := in.Install(ctx, d); err != nil || (st != Stats{Added: 3}) {
		t.Fatalf("first install: %+v %v", st, err)
	}
	d.Set("a", fls(t,
		"table=0,priority=100,in_port=1 actions=resubmit(,8)",
		"table=0,priority=100,in_port=2 actions=resubmit(,9)",
		"cookie=0x2,table=8,priority=50,metadata=0x1 actions=resubmit(,9)",
		"table=9,priority=0 actions=resubmit(,10)"))
	st, err := in.Install(ctx, d)
	if err != nil || (st != Stats{Added: 2, Modified: 2, Deleted: 1}) {
		t.Fatalf("second install: %+v %v", st, err)
	}
	want := []string{
		"DEL_STRICT table:65 priority=100,reg15=0x1 actions=drop",
		"ADD priority=100,in_port=1 actions=resubmit(,8)",
		"MOD_STRICT priority=100,in_port=2 actions=resubmit(,9)",
		"ADD table:8 priority=50,metadata=0x1 cookie:0x2 actions=resubmit(,9)",
		"ADD table:9 priority=0 actions=resubmit(,10)",
	}
	if diff := cmp.Diff(want, sw.lastBundle()); diff != "" {
		t.Fatalf("bundle (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(render(d), sw.dump()); diff != "" {
		t.Fatalf("switch differs from desired (-want +got):\n%s", diff)
	}
}

package flowtable

import (
	"context"
	"testing"
)

// Clause flows that two lflows share (same set, same priority) become one
// flow carrying both lflows' conjunction actions, on the switch too, and
// lose only the departing lflow's action when one goes.
func TestDesiredMergesConjunctionClauses(t *testing.T) {
	ctx := context.Background()
	sw, in := syncedInstaller(t)
	d := NewDesired(nil)
	d.Set("lflow-b", fls(t,
		"cookie=0x0,table=44,priority=2001,ip,reg15=0x2 actions=conjunction(7,1/2)",
		"cookie=0x0,table=44,priority=2001,ip,nw_src=10.0.0.1 actions=conjunction(7,2/2)",
		"cookie=0xb,table=44,priority=2001,conj_id=7,ip actions=resubmit(,45)"))
	d.Set("lflow-a", fls(t,
		"cookie=0x0,table=44,priority=2001,ip,reg15=0x2 actions=conjunction(3,1/2)",
		"cookie=0x0,table=44,priority=2001,ip,nw_src=10.0.0.9 actions=conjunction(3,2/2)",
		"cookie=0xa,table=44,priority=2001,conj_id=3,ip actions=drop"))
	want := `cookie=0xa, table=44, priority=2001,conj_id=3,ip actions=drop
cookie=0xb, table=44, priority=2001,conj_id=7,ip actions=resubmit(,45)
table=44, priority=2001,ip,nw_src=10.0.0.1 actions=conjunction(7,2/2)
table=44, priority=2001,ip,nw_src=10.0.0.9 actions=conjunction(3,2/2)
table=44, priority=2001,ip,reg15=0x2 actions=conjunction(3,1/2),conjunction(7,1/2)`
	if got := render(d); got != want {
		t.Fatalf("desired:\n%s\nwant:\n%s", got, want)
	}
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := sw.dump(); got != want {
		t.Fatalf("switch:\n%s\nwant:\n%s", got, want)
	}
	d.Remove("lflow-a")
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	want = `cookie=0xb, table=44, priority=2001,conj_id=7,ip actions=resubmit(,45)
table=44, priority=2001,ip,nw_src=10.0.0.1 actions=conjunction(7,2/2)
table=44, priority=2001,ip,reg15=0x2 actions=conjunction(7,1/2)`
	if got := sw.dump(); got != want {
		t.Fatalf("switch after lflow-a went:\n%s\nwant:\n%s", got, want)
	}
}

package physical

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
)

// TestOVSAcceptsFlows installs every physical flow of the sample on a real
// br-int through the installer and reads them back: OVS must take them
// all (one bundle: one bad flow would reject the lot) and print them as
// they render.
func TestOVSAcceptsFlows(t *testing.T) {
	o := flowtabletest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := flowtable.NewInstaller(nil)
	if err := in.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	flows, err := Flows(sampleInput())
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	for owner, fs := range flows {
		d.Set(owner, fs)
	}
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	want := renderAll(d.Flows())
	slices.Sort(want)
	if diff := cmp.Diff(want, o.DumpFlows()); diff != "" {
		t.Errorf("br-int differs from the physical flows (-physical +br-int):\n%s", diff)
	}
	// What the switch sends back is recognised as the same flows: a
	// restarted controller has nothing to change.
	fresh := flowtable.NewInstaller(nil)
	if err := fresh.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Errorf("fresh installer: %+v %v, want nothing to change", st, err)
	}
}

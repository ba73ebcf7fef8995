package difftest

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ovnd/ovnd/northd"
)

// Env is two OVN control planes side by side: private NB and SB
// ovsdb-servers with a real ovn-northd between them, and another pair with
// ovnd's northd.
type Env struct {
	RealNB, RealSB string
	OurNB, OurSB   string
	procs          []*Proc
	cancel         context.CancelFunc
	done           chan error
}

// Start brings up both control planes in dir, which must be short enough
// for unix socket paths. Close stops everything Start started.
func Start(dir string, log *slog.Logger) (e *Env, err error) {
	e = &Env{}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	for _, db := range []struct {
		name, schema string
		remote       *string
	}{
		{"real-nb", NBSchema, &e.RealNB}, {"real-sb", SBSchema, &e.RealSB},
		{"our-nb", NBSchema, &e.OurNB}, {"our-sb", SBSchema, &e.OurSB},
	} {
		p, remote, err := OVSDB(dir, db.name, db.schema)
		if err != nil {
			return e, err
		}
		e.procs = append(e.procs, p)
		*db.remote = remote
	}
	p, err := RealNorthd(dir, e.RealNB, e.RealSB)
	if err != nil {
		return e, err
	}
	e.procs = append(e.procs, p)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	nd := northd.New(northd.Config{NB: e.OurNB, SB: e.OurSB, Logger: log})
	go func() { e.done <- nd.Serve(ctx) }()
	return e, nil
}

// Close stops ovnd's northd and every daemon, and waits for them.
func (e *Env) Close() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
	for i := len(e.procs) - 1; i >= 0; i-- {
		e.procs[i].Stop()
	}
	e.procs = nil
}

// NBCtl runs the same ovn-nbctl command against both NB databases.
func (e *Env) NBCtl(ctx context.Context, args ...string) error {
	for _, nb := range []string{e.RealNB, e.OurNB} {
		if _, err := NBCtl(ctx, nb, args...); err != nil {
			return err
		}
	}
	return nil
}

// Sync waits until both northds have caught up with NB.
func (e *Env) Sync(ctx context.Context) error {
	return e.NBCtl(ctx, "--wait=sb", "sync")
}

// Diff compares both SBs' logical flows.
func (e *Env) Diff(ctx context.Context) ([]StageDiff, error) {
	real, err := SBCtl(ctx, e.RealSB, "lflow-list")
	if err != nil {
		return nil, fmt.Errorf("real lflow-list: %w", err)
	}
	ours, err := SBCtl(ctx, e.OurSB, "lflow-list")
	if err != nil {
		return nil, fmt.Errorf("ovnd lflow-list: %w", err)
	}
	return Compare(ParseLflowList(real), ParseLflowList(ours)), nil
}

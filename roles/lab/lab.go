// Package lab is `ovnd lab`: a complete single-node OVN in one process,
// for trying ovnd out on one machine. It owns the lab's life: checking the
// host, the state directory and its journal of changes, the local Open
// vSwitch (the host's if one runs, else a private one), ovnd's roles
// configured in code, the optional demo topology with its VIF namespaces,
// and undoing all of it on stop or after a crashed run.
//
// The lab's files live in the state directory (default /run/ovnd-lab):
//
//	ovnd.toml   the config of the roles the lab runs
//	ovnd.log    their log (warnings also go to stderr)
//	nb.sock     the NB database; also on /var/run/ovn/ovnnb_db.sock if free
//	sb.sock     the SB database; also on /var/run/ovn/ovnsb_db.sock if free
//	db/         the database files
//	ovs/        the private Open vSwitch, when the lab started one
//	lab.json    the journal of what the lab changed outside the directory
//
// Everything the lab creates outside it is named with the prefix
// "ovnd-lab-" (namespaces, veths, OVS ports), or recorded in the journal
// (external_ids of the host's OVS, br-int on the host's OVS,
// /var/run/ovn). One lab runs per host: it holds a lock on
// /run/ovnd-lab.lock while it runs.
package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// DefaultStateDir is the lab's state directory without --state-dir: under
// /run, so that a reboot leaves nothing behind.
const DefaultStateDir = "/run/ovnd-lab"

// Options are `ovnd lab`'s flags and outputs.
type Options struct {
	// StateDir holds every file the lab writes; DefaultStateDir if "".
	StateDir string
	// Demo builds the demo topology and pings across it.
	Demo bool
	// ExitAfterDemo stops the lab once the demo has passed, instead of
	// waiting for ctx to end.
	ExitAfterDemo bool
	// Out receives the progress lines, for a person. nil discards.
	Out io.Writer
	// Log receives the roles' warnings and errors as they happen. nil
	// discards; the full log is in the state directory either way.
	Log io.Writer
	// HostOVS is the socket of a running Open vSwitch to use;
	// HostOVSSocket if "". When nothing answers there, the lab starts
	// its own.
	HostOVS string
	// PrivateSocketsOnly keeps the databases off OVN's default socket
	// paths even when they are free (tests set it).
	PrivateSocketsOnly bool
	// PortsUpTimeout bounds the wait for the demo ports; 60 s if 0.
	PortsUpTimeout time.Duration
}

// Run runs the lab until ctx ends (or, with ExitAfterDemo, until the demo
// has passed), then removes what it created. It returns nil after a clean
// stop, and otherwise an error whose text says what to fix.
func Run(ctx context.Context, opts Options) error {
	if err := supported(); err != nil {
		return err
	}
	l := newLab(opts)
	if err := preflight(opts); err != nil {
		return err
	}
	lock, err := lockHost(hostLock)
	if err != nil {
		return err
	}
	defer unlockHost(lock)
	if err := l.prepare(); err != nil {
		return err
	}
	err = l.up(ctx)
	if err == nil {
		err = l.serve(ctx)
	}
	if ctx.Err() != nil && err != nil && !opts.ExitAfterDemo {
		err = nil // Ctrl-C while starting is a stop, not a failure
	}
	if terr := l.teardown(); terr != nil {
		err = errors.Join(err, terr)
	}
	return err
}

// lab is one run of the lab.
type lab struct {
	opts    Options
	p       printer
	dir     string
	j       *journal
	ovs     *localOVS
	sockets sockets
	central *central
	logFile *os.File
	// echo is the level of the roles' lines copied to opts.Log: warnings
	// while the lab runs, nothing once it stops (the roles' complaints
	// about each other going away are for the log file only).
	echo slog.LevelVar
}

func newLab(opts Options) *lab {
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.HostOVS == "" {
		opts.HostOVS = HostOVSSocket
	}
	if opts.PortsUpTimeout == 0 {
		opts.PortsUpTimeout = 60 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	dir := filepath.Clean(opts.StateDir)
	l := &lab{opts: opts, p: printer{opts.Out}, dir: dir,
		sockets: sockets{NB: filepath.Join(dir, "nb.sock"), SB: filepath.Join(dir, "sb.sock")}}
	l.echo.Set(slog.LevelWarn)
	return l
}

// realController reports whether the development hook asks for the
// installed ovn-controller.
func realController() bool { return os.Getenv(controllerEnv) == "ovn" }

// up starts everything, and builds and checks the demo if asked.
func (l *lab) up(ctx context.Context) error {
	// The chassis is configured before the controller starts, so that it
	// finds its settings at once; it connects when the SB comes up.
	steps := []func(context.Context) error{l.startOVS, l.configureChassis, l.startCentral, l.waitChassis}
	if l.opts.Demo {
		steps = append(steps, l.demo)
	} else {
		steps = append(steps, l.printStart)
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return errors.New("interrupted")
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// serve waits for ctx, or for the roles to fail; with ExitAfterDemo it
// returns at once.
func (l *lab) serve(ctx context.Context) error {
	if l.opts.ExitAfterDemo {
		return nil
	}
	l.p.step("the lab is running; Ctrl-C stops it and removes what it created")
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		if err := errors.Join(l.central.failed(), l.ovs.failed()); err != nil {
			return err
		}
	}
}

// printer writes the progress lines.
type printer struct{ w io.Writer }

func (p printer) step(format string, args ...any) { fmt.Fprintf(p.w, "==> "+format+"\n", args...) }
func (p printer) info(format string, args ...any) { fmt.Fprintf(p.w, "    "+format+"\n", args...) }

// logger is the roles' logger: everything at info into ovnd.log, warnings
// and errors also to opts.Log.
func (l *lab) logger() (*slog.Logger, error) {
	f, err := os.Create(filepath.Join(l.dir, "ovnd.log"))
	if err != nil {
		return nil, err
	}
	l.logFile = f
	return slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}),
		slog.NewTextHandler(l.opts.Log, &slog.HandlerOptions{Level: &l.echo}),
	)), nil
}

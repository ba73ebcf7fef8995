// Package roles is ovnd's composition root. It owns ovnd.toml (load,
// defaults, validation), builds every role the config names and runs them
// until told to stop. Only package main imports it; it is the one place
// that knows every role package.
package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// role is a role that has started: its files are open and its sockets
// bound, so clients can already connect.
type role interface {
	// Serve serves until ctx is cancelled, then shuts down cleanly and
	// returns. Called exactly once; a cancelled ctx releases a role that
	// will never serve.
	Serve(ctx context.Context) error
}

// builder starts one role from a validated config, returning once the
// role is ready to serve.
type builder func(cfg *Config, log *slog.Logger) (role, error)

// builders is the composition root proper: role name to constructor.
var builders = map[string]builder{
	RoleDatabase:   newDatabase,
	RoleNorthd:     newNorthd,
	RoleController: newController,
}

// Options are main's hooks into the daemon's life.
type Options struct {
	// Logger is the daemon's logger; each role gets it with component=NAME.
	// nil discards.
	Logger *slog.Logger
	// Ready is called once every role is serving. May be nil.
	Ready func()
	// Stopping is called once, as shutdown begins. May be nil.
	Stopping func()
}

// Run starts the roles cfg names, in the order database, northd,
// controller, and serves until ctx is cancelled or a role stops. It then
// cancels the other roles and waits for all of them to return. A role that
// fails to start stops the ones already started; the error names the role.
func Run(ctx context.Context, cfg *Config, opts Options) error {
	return run(ctx, cfg, opts, builders)
}

type started struct {
	name string
	role role
}

func run(ctx context.Context, cfg *Config, opts Options, builders map[string]builder) error {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var roles []started
	for _, name := range roleOrder {
		if !cfg.HasRole(name) {
			continue
		}
		log := opts.Logger.With("component", name)
		log.Info("starting")
		r, err := builders[name](cfg, log)
		if err != nil {
			call(opts.Stopping)
			release(roles, opts.Logger)
			return err
		}
		roles = append(roles, started{name, r})
	}
	return serve(ctx, roles, opts)
}

// release lets roles that were started but will never serve shut down,
// newest first.
func release(roles []started, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := len(roles) - 1; i >= 0; i-- {
		if err := roles[i].role.Serve(ctx); err != nil {
			log.Error("release after failed start", "component", roles[i].name, "err", err)
		}
	}
}

type result struct {
	name string
	err  error
}

// serve runs every role in its own goroutine and returns when all of them
// have returned. The first of ctx ending or a role returning starts the
// shutdown of the rest.
func serve(ctx context.Context, roles []started, opts Options) error {
	roleCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result, len(roles))
	for _, r := range roles {
		go func() { results <- result{r.name, r.role.Serve(roleCtx)} }()
	}
	if ctx.Err() == nil {
		opts.Logger.Info("ready", "roles", names(roles))
		call(opts.Ready)
	}
	down := &shutdown{log: opts.Logger, notify: opts.Stopping, cancel: cancel}
	var errs []error
	done := ctx.Done()
	for pending := len(roles); pending > 0; {
		select {
		case <-done:
			done = nil
			down.begin("asked to stop")
		case res := <-results:
			pending--
			errs = append(errs, down.roleReturned(ctx, res))
		}
	}
	return errors.Join(errs...)
}

// shutdown begins the daemon's stop, once: it tells main, then cancels the
// roles' context. Only serve's goroutine uses it.
type shutdown struct {
	log    *slog.Logger
	notify func()
	cancel context.CancelFunc
	begun  bool
}

func (s *shutdown) begin(why string) {
	if s.begun {
		return
	}
	s.begun = true
	s.log.Info("stopping", "reason", why)
	call(s.notify)
	s.cancel()
}

// roleReturned handles one role's return: any return stops the daemon.
func (s *shutdown) roleReturned(ctx context.Context, res result) error {
	if ctx.Err() != nil {
		s.begin("asked to stop") // the role saw ctx end before serve did
	}
	err := roleExit(res, s.begun)
	s.begin("role " + res.name + " stopped")
	return err
}

// roleExit turns a role's return into the daemon's error: a role that
// returns while the daemon is not stopping has failed, even without error.
func roleExit(res result, stopping bool) error {
	switch {
	case res.err != nil:
		return fmt.Errorf("role %s: %w", res.name, res.err)
	case !stopping:
		return fmt.Errorf("role %s: stopped on its own", res.name)
	}
	return nil
}

func names(roles []started) []string {
	var n []string
	for _, r := range roles {
		n = append(n, r.name)
	}
	return n
}

func call(f func()) {
	if f != nil {
		f()
	}
}

// Package embeddeddbtest runs ovnd's database role inside a test
// process, for the tests of the roles that talk to it.
package embeddeddbtest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/ovnd/ovnd/embeddeddb"
)

// Serve starts the database role with cfg (a discarding logger when cfg
// has none) and serves until the test ends; the cleanup stops it and
// reports an error Serve returned. The listeners are those of cfg; the
// caller waits for its sockets as it needs.
func Serve(t testing.TB, cfg embeddeddb.Config) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := embeddeddb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ovnd database role: %v", err)
		}
	})
}

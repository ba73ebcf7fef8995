package controller

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ovnd/ovnd/internal/cachequeue"

	"github.com/cenkalti/backoff/v4"
	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
)

// poke wakes the loop without blocking; one pending wake-up is enough.
func poke(kick chan struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}

// connect opens a monitored, reconnecting OVSDB client on remote (a
// comma list of endpoints) whose cache changes are recorded in changes
// and poke kick. It monitors the tables of the models in tables, or
// every table if tables is nil. It retries until ctx ends.
func connect(ctx context.Context, log *slog.Logger, m model.ClientDBModel, remote string, probe time.Duration,
	tables []model.Model, changes *changeLog, kick chan struct{}) (client.Client, error) {
	// A lost event costs a full recompute instead of a wrong flow table.
	lg := logr.FromSlogHandler(cachequeue.WatchDrops(log.Handler(), changes.setFull)).V(4)
	opts := []client.Option{client.WithLogger(&lg), client.WithReconnect(2*time.Second, newBackoff())}
	if probe > 0 {
		opts = append(opts, client.WithInactivityCheck(probe, probe/2, newBackoff()))
	}
	for _, ep := range strings.Split(remote, ",") {
		opts = append(opts, client.WithEndpoint(strings.TrimSpace(ep)))
	}
	c, err := client.NewOVSDBClient(m, opts...)
	if err != nil {
		return nil, err
	}
	for {
		if err = c.Connect(ctx); err == nil {
			break
		}
		log.Debug("connect", "remote", remote, "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
	changes.watch(c.Cache())
	c.Cache().AddEventHandler(&cache.EventHandlerFuncs{
		AddFunc:    func(t string, m model.Model) { changes.record(t, m); poke(kick) },
		UpdateFunc: func(t string, _, m model.Model) { changes.record(t, m); poke(kick) },
		DeleteFunc: func(t string, m model.Model) { changes.record(t, m); poke(kick) },
	})
	if err := monitor(ctx, c, tables); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor %s: %w", remote, err)
	}
	// The monitor reply's rows are in the cache; their events follow.
	changes.setFullCovering()
	poke(kick)
	return c, nil
}

// monitor starts one monitor of the tables of tables' models, or of
// every table.
func monitor(ctx context.Context, c client.Client, tables []model.Model) error {
	if tables == nil {
		_, err := c.MonitorAll(ctx)
		return err
	}
	opts := make([]client.MonitorOption, len(tables))
	for i, t := range tables {
		opts[i] = client.WithTable(t)
	}
	_, err := c.Monitor(ctx, c.NewMonitor(opts...))
	return err
}

// newBackoff is the reconnect schedule: quick at first, at most 8 s
// apart, forever.
func newBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 250 * time.Millisecond
	b.MaxInterval = 8 * time.Second
	b.MaxElapsedTime = 0
	return b
}

package cachequeue

import (
	"context"
	"log/slog"
	"strings"
)

// droppedEventMsg is what libovsdb logs when its cache's event queue is
// full and it drops an event: a handler then never hears of a row change
// the cache holds.
const droppedEventMsg = "dropping event because event buffer is full"

// WatchDrops returns a slog handler to give libovsdb (through
// logr.FromSlogHandler) that calls dropped whenever libovsdb drops a
// cache event, and otherwise logs what h would. libovsdb logs the drop at
// its V(0), which is slog's debug level under the V(4) ovnd gives
// libovsdb: WatchDrops sees debug records whatever h's level.
func WatchDrops(h slog.Handler, dropped func()) slog.Handler {
	return dropWatch{h, dropped}
}

type dropWatch struct {
	slog.Handler
	dropped func()
}

func (h dropWatch) Enabled(ctx context.Context, lvl slog.Level) bool {
	return lvl >= slog.LevelDebug || h.Handler.Enabled(ctx, lvl)
}

func (h dropWatch) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, droppedEventMsg) {
		h.dropped()
	}
	if h.Handler.Enabled(ctx, r.Level) {
		return h.Handler.Handle(ctx, r)
	}
	return nil
}

func (h dropWatch) WithAttrs(as []slog.Attr) slog.Handler {
	return dropWatch{h.Handler.WithAttrs(as), h.dropped}
}

func (h dropWatch) WithGroup(name string) slog.Handler {
	return dropWatch{h.Handler.WithGroup(name), h.dropped}
}

// Package cachequeue tells how far behind its cache libovsdb's event
// handlers are.
//
// libovsdb applies one update notification to its cache under the
// cache's lock, queueing one event per row (tables in no fixed order),
// and hands the events to the handlers from a goroutine of its own. A
// handler that sees a row of a transaction therefore cannot tell
// whether the other rows of the same transaction are still to come,
// and one that reads the cache may find rows whose events it has not
// had. Both northd and the controller care when they report progress:
// NB_Global.nb_cfg (SB_Global.nb_cfg) arrives in the same transaction
// as the change that `ovn-nbctl --wait` waits for, and must not be
// reported before that change has been handled.
package cachequeue

import (
	"reflect"

	"github.com/ovn-kubernetes/libovsdb/cache"
)

// Rest returns a function that, called from an event handler, waits
// until libovsdb has applied the whole update that event came from and
// returns how many events are queued after it: every other event of
// that update, and perhaps some of later ones. As libovsdb hands events
// over from a single goroutine (the one running the handler), none
// leaves the queue meanwhile.
//
// The queue is libovsdb's unexported channel, read through reflection
// (the pinned libovsdb v0.8.1 has no other way); Rest returns nil when
// it finds none, and this package's tests fail then.
func Rest(tc *cache.TableCache) func() int {
	v := reflect.ValueOf(tc)
	if !v.IsValid() || v.IsNil() {
		return nil
	}
	p := v.Elem().FieldByName("eventProcessor")
	if !p.IsValid() || p.Kind() != reflect.Pointer || p.IsNil() {
		return nil
	}
	ch := p.Elem().FieldByName("events")
	if !ch.IsValid() || ch.Kind() != reflect.Chan {
		return nil
	}
	tables := tc.Tables()
	return func() int {
		// Reading the cache takes its lock, which the update being
		// applied holds until every one of its events is queued.
		if len(tables) > 0 {
			tc.Table(tables[0])
		}
		return ch.Len()
	}
}

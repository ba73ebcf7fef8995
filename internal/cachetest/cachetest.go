// Package cachetest builds empty libovsdb caches for tests that feed a
// cache rows or events without a server.
package cachetest

import (
	"testing"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// New returns an empty cache of the database schema describes, with the
// client model newModel returns (nbdb.FullDatabaseModel,
// sbdb.FullDatabaseModel...), logging to log (nil: libovsdb's default
// logger). It fails tb when the model does not fit the schema.
func New(tb testing.TB, schema ovsdb.DatabaseSchema, newModel func() (model.ClientDBModel, error), log *logr.Logger) *cache.TableCache {
	tb.Helper()
	m, err := newModel()
	if err != nil {
		tb.Fatal(err)
	}
	dbm, errs := model.NewDatabaseModel(schema, m)
	if len(errs) > 0 {
		tb.Fatal(errs)
	}
	tc, err := cache.NewTableCache(dbm, nil, log)
	if err != nil {
		tb.Fatal(err)
	}
	return tc
}

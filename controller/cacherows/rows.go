// Package cacherows reads a libovsdb client's cache without copying it.
package cacherows

import (
	"errors"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/client"
)

// Rows returns the rows of table in c's cache without copying them: they
// are shared with the cache and must not be modified. libovsdb replaces,
// never mutates, a cached row on update, so reading them is safe. (List
// copies every row through reflection and JSON, which made a no-op round
// over a large SB cost hundreds of milliseconds.)
func Rows[T any](c client.Client, table string) ([]*T, error) {
	cache := c.Cache()
	if cache == nil {
		return nil, errors.New("client not connected")
	}
	t := cache.Table(table)
	if t == nil {
		return nil, nil
	}
	all := t.RowsShallow()
	out := make([]*T, 0, len(all))
	for _, m := range all {
		r, ok := m.(*T)
		if !ok {
			return nil, fmt.Errorf("table %s holds %T", table, m)
		}
		out = append(out, r)
	}
	return out, nil
}

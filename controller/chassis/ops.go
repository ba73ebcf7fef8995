package chassis

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// txn collects the operations of one transaction on one database.
type txn struct {
	c   client.Client
	seq int // names the next named UUIDs
	ops []ovsdb.Operation
	err error // first error building an operation
	// keys is what setKeys leaves in the map columns it mutates, by
	// row UUID and column: the rows as they will be once committed.
	keys map[rowColumn]map[string]string
}

// rowColumn names one column of one row.
type rowColumn struct{ uuid, column string }

func (t *txn) add(ops []ovsdb.Operation, err error) {
	if err != nil && t.err == nil {
		t.err = err
	}
	t.ops = append(t.ops, ops...)
}

// create inserts models; their UUID fields may be named UUIDs.
func (t *txn) create(ms ...model.Model) { t.add(t.c.Create(ms...)) }

// update sets the given fields of the row m (m.UUID set).
func (t *txn) update(m model.Model, fields ...any) { t.add(t.c.Where(m).Update(m, fields...)) }

// mutate applies mutations to the row m (m.UUID set).
func (t *txn) mutate(m model.Model, muts ...model.Mutation) {
	if len(muts) == 0 {
		return
	}
	t.add(t.c.Where(m).Mutate(m, muts...))
}

// setKeys rewrites the keys of the map column field of row m that differ
// between have and want, leaving all other keys alone. A key in managed
// but not in want is deleted.
func (t *txn) setKeys(m model.Model, field any, have, want map[string]string, managed []string) {
	var del []string
	ins := map[string]string{}
	for _, k := range managed {
		hv, hok := have[k]
		wv, wok := want[k]
		switch {
		case hok && !wok:
			del = append(del, k)
		case wok && (!hok || hv != wv):
			if hok {
				del = append(del, k)
			}
			ins[k] = wv
		}
	}
	var muts []model.Mutation
	if len(del) > 0 {
		slices.Sort(del)
		muts = append(muts, model.Mutation{Field: field, Mutator: ovsdb.MutateOperationDelete, Value: del})
	}
	if len(ins) > 0 {
		muts = append(muts, model.Mutation{Field: field, Mutator: ovsdb.MutateOperationInsert, Value: ins})
	}
	n := len(t.ops)
	t.mutate(m, muts...)
	if len(t.ops) != n+1 || len(t.ops[n].Mutations) == 0 {
		return
	}
	op := t.ops[n]
	uuid := whereUUID(op)
	if uuid == "" {
		return
	}
	rc := rowColumn{uuid, op.Mutations[0].Column}
	if t.keys == nil {
		t.keys = map[rowColumn]map[string]string{}
	}
	after := t.keys[rc]
	if after == nil {
		after = maps.Clone(have)
	}
	if after == nil {
		after = map[string]string{}
	}
	for _, k := range del {
		delete(after, k)
	}
	maps.Copy(after, ins)
	t.keys[rc] = after
}

// whereUUID returns the _uuid op's condition names, "" if none.
func whereUUID(op ovsdb.Operation) string {
	for _, c := range op.Where {
		if u, ok := c.Value.(ovsdb.UUID); ok && c.Column == "_uuid" && c.Function == ovsdb.ConditionEqual {
			return u.GoUUID
		}
	}
	return ""
}

// commit runs the collected operations as one transaction, if there are
// any, and checks every operation's result.
func (t *txn) commit(ctx context.Context) error {
	if t.err != nil {
		return fmt.Errorf("build transaction: %w", t.err)
	}
	if len(t.ops) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := t.c.Transact(ctx, t.ops...)
	if err != nil {
		return err
	}
	if _, err := ovsdb.CheckOperationResults(res, t.ops); err != nil {
		return err
	}
	return waitInserted(ctx, t.c, t.ops, res)
}

// waitInserted waits until the client's cache holds the rows the
// transaction inserted, so that the next read sees them. ovsdb-server
// sends the update before the reply, so this normally returns at once.
func waitInserted(ctx context.Context, c client.Client, ops []ovsdb.Operation, res []ovsdb.OperationResult) error {
	for i, op := range ops {
		if op.Op != ovsdb.OperationInsert || i >= len(res) {
			continue
		}
		for c.Cache().Table(op.Table) == nil || !c.Cache().Table(op.Table).HasRow(res[i].UUID.GoUUID) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for inserted %s row: %w", op.Table, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys(a, b map[string]string) []string {
	k := maps.Clone(a)
	if k == nil {
		k = map[string]string{}
	}
	maps.Copy(k, b)
	return sortedKeys(k)
}

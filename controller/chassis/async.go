package chassis

import (
	"context"
	"maps"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// afterKeys returns v as it will be once t is committed, when t only
// sets or removes external_ids keys of bridges and interfaces v holds
// (setKeys' mutations): nothing a State is built from, so the caller
// need not wait for the answer before it builds one. false for anything
// else (an insert, an update, another column or table).
func (v *ovsView) afterKeys(t *txn) (*ovsView, bool) {
	if t.err != nil || len(t.ops) == 0 {
		return nil, false
	}
	bridges := map[string]*vswitch.Bridge{} // by UUID
	for _, br := range v.bridges {
		bridges[br.UUID] = br
	}
	newIDs := map[string]map[string]string{} // row UUID -> its external_ids once committed
	for _, op := range t.ops {
		if op.Op != ovsdb.OperationMutate || op.Table != vswitch.BridgeTable && op.Table != vswitch.InterfaceTable {
			return nil, false
		}
		for _, mu := range op.Mutations {
			if mu.Column != "external_ids" {
				return nil, false
			}
		}
		u := whereUUID(op)
		ids, ok := t.keys[rowColumn{u, "external_ids"}]
		if !ok || op.Table == vswitch.BridgeTable && bridges[u] == nil || op.Table == vswitch.InterfaceTable && v.ifaces[u] == nil {
			return nil, false
		}
		newIDs[u] = ids
	}
	after := *v
	after.bridges = maps.Clone(v.bridges)
	after.ifaces = maps.Clone(v.ifaces)
	for name, br := range v.bridges {
		if ids, ok := newIDs[br.UUID]; ok {
			n := *br
			n.ExternalIDs = ids
			after.bridges[name] = &n
		}
	}
	for u, f := range v.ifaces {
		if ids, ok := newIDs[u]; ok {
			n := *f
			n.ExternalIDs = ids
			after.ifaces[u] = &n
		}
	}
	return &after, true
}

// commitBoth commits a and b, each to its own database, at the same
// time, and returns their errors.
func commitBoth(ctx context.Context, a, b *txn) (errA, errB error) {
	if len(b.ops) == 0 && b.err == nil {
		return a.commit(ctx), nil
	}
	done := make(chan error, 1)
	go func() { done <- b.commit(ctx) }()
	errA = a.commit(ctx)
	return errA, <-done
}

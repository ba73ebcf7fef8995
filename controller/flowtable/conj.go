package flowtable

import (
	"cmp"
	"slices"

	"github.com/ovnd/ovnd/controller/openflow"
)

// sameActions reports whether two claims of one flow agree on what it
// does; the cookie (which logical flow it came from) is the winner's.
// Bodies that differ as bytes may still agree: the same actions written
// differently, or two clause flows of conjunctive matches, which are
// merged into one flow carrying both conjunction actions. Only owners
// sharing a key get here, so decoding is rare.
func sameActions(a, b body) bool {
	if a[bodyHeader:] == b[bodyHeader:] {
		return true
	}
	x, err := bodyInstructions(a)
	if err != nil {
		return false
	}
	y, err := bodyInstructions(b)
	if err != nil {
		return false
	}
	return conjunctions(x) != nil && conjunctions(y) != nil || x.String() == y.String()
}

// conjunctions returns the conjunction actions of a clause flow's
// instructions (conjunction actions and nothing else), or nil.
func conjunctions(in openflow.Instructions) []openflow.Conjunction {
	if len(in.Apply) == 0 || in.ClearActions || in.Write != nil || in.WriteMetadata != nil || in.GotoTable != nil {
		return nil
	}
	out := make([]openflow.Conjunction, 0, len(in.Apply))
	for _, a := range in.Apply {
		c, ok := a.(*openflow.Conjunction)
		if !ok {
			return nil
		}
		out = append(out, *c)
	}
	return out
}

// mergeConjunctions makes one flow of the clause flows several owners
// claim for one key, as ovn-controller does when lflows share a set at one
// priority: the union of their conjunction actions, ordered by id and
// clause so that the result does not depend on the owners' order, with
// cookie 0. Claims that are not all clause flows are not merged.
func mergeConjunctions(ss []share[body]) (body, bool) {
	var all []openflow.Conjunction
	for _, s := range ss {
		in, err := bodyInstructions(s.val)
		if err != nil {
			return "", false
		}
		cs := conjunctions(in)
		if cs == nil {
			return "", false
		}
		all = append(all, cs...)
	}
	slices.SortFunc(all, func(x, y openflow.Conjunction) int {
		return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(x.Clause, y.Clause), cmp.Compare(x.NClauses, y.NClauses))
	})
	all = slices.Compact(all)
	acts := make([]openflow.Action, len(all))
	for i := range all {
		acts[i] = &all[i]
	}
	b, err := appendBody(nil, 0, acts)
	if err != nil {
		return "", false
	}
	return body(b), true
}

package flowtable

import (
	"cmp"
	"log/slog"
	"slices"

	"github.com/ovnd/ovnd/controller/openflow"
)

// Key identifies a flow to the switch: two flows with the same Key are one
// flow, whatever their actions.
type Key struct {
	Table    uint8
	Priority uint16
	Match    string // MatchKey(Match)
}

// Key returns the flow's identity.
func (f Flow) Key() Key { return Key{Table: f.Table, Priority: f.Priority, Match: MatchKey(f.Match)} }

// Group is one desired OpenFlow group. Group ids are global to the
// switch; the producer that allocates them owns the id space.
type Group struct {
	ID      uint32
	Type    uint8 // openflow.GroupType*
	Buckets []openflow.Bucket
	// Selection is a select group's selection method (nil: the
	// switch's default). Group dumps do not carry it, so a change of
	// the method alone is not seen as a change.
	Selection *openflow.Selection
}

// GroupFromMod is the group a group mod (as lflowc returns them) adds.
func GroupFromMod(m *openflow.GroupMod) Group {
	return Group{ID: m.GroupID, Type: m.GroupType, Buckets: m.Buckets, Selection: m.Selection}
}

// body is what the switch holds for a flow besides its key; two owners
// claiming one key agree when their bodies are equal.
type body struct {
	flow    Flow
	actions string // Instructions rendered, for comparison
}

func flowBody(f Flow) body {
	return body{flow: f, actions: openflow.Instructions{Apply: f.Actions}.String()}
}

// same reports whether two claims agree on what the flow does; the
// cookie (which logical flow it came from) is the winner's. Two clause
// flows of conjunctive matches agree too: they are merged into one flow
// carrying both conjunction actions.
func (b body) same(o body) bool {
	return b.actions == o.actions || (onlyConjunctions(b.flow.Actions) && onlyConjunctions(o.flow.Actions))
}

// onlyConjunctions reports whether acts is a clause flow's action list:
// conjunction actions and nothing else.
func onlyConjunctions(acts []openflow.Action) bool {
	for _, a := range acts {
		if _, ok := a.(*openflow.Conjunction); !ok {
			return false
		}
	}
	return len(acts) > 0
}

// mergeConjunctions makes one flow of the clause flows several owners
// claim for one key, as ovn-controller does when lflows share a set at one
// priority: the union of their conjunction actions, ordered by id and
// clause so that the result does not depend on the owners' order, with
// cookie 0. Claims that are not all clause flows are not merged.
func mergeConjunctions(c *claim[body]) (body, bool) {
	var acts []openflow.Action
	seen := map[openflow.Conjunction]bool{}
	for _, b := range c.byOwner {
		if !onlyConjunctions(b.flow.Actions) {
			return body{}, false
		}
		for _, a := range b.flow.Actions {
			cj := *a.(*openflow.Conjunction)
			if !seen[cj] {
				seen[cj] = true
				acts = append(acts, &cj)
			}
		}
	}
	slices.SortFunc(acts, func(a, b openflow.Action) int {
		x, y := a.(*openflow.Conjunction), b.(*openflow.Conjunction)
		return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(x.Clause, y.Clause), cmp.Compare(x.NClauses, y.NClauses))
	})
	f := c.byOwner[c.first].flow
	f.Actions, f.Cookie = acts, 0
	return flowBody(f), true
}

type groupBody struct {
	group Group
	text  string
}

func newGroupBody(g Group) groupBody {
	return groupBody{group: g, text: openflow.GroupDesc{GroupType: g.Type, GroupID: g.ID, Buckets: g.Buckets}.String()}
}

// Desired is the flow table the controller wants on br-int, as the union
// of what each owner (a logical flow's UUID, a physical-flow key chosen by
// controller/physical, ...) contributes. Set and Remove cost only the
// owner's own flows, so that an incremental change stays cheap.
//
// When two owners claim the same flow (same Key) with the same actions the
// flow is installed once; with different actions the owner whose name
// sorts first wins, whatever the order of the calls (so that incremental
// processing and a full recompute agree), and the conflict is logged.
//
// Desired is not safe for concurrent use: one loop owns it.
type Desired struct {
	log    *slog.Logger
	flows  claims[Key, body]
	groups claims[uint32, groupBody]
	meters claims[uint32, meterBody]
}

// NewDesired returns an empty desired table. log receives conflicts; nil
// discards them.
func NewDesired(log *slog.Logger) *Desired {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Desired{log: log}
	d.flows.init()
	d.flows.merge = mergeConjunctions
	d.groups.init()
	d.meters.init()
	return d
}

// Set replaces every flow of owner by flows. An owner listing one Key
// twice keeps the first.
func (d *Desired) Set(owner string, flows []Flow) {
	items := make([]item[Key, body], 0, len(flows))
	for _, f := range flows {
		items = append(items, item[Key, body]{f.Key(), flowBody(f)})
	}
	for _, k := range d.flows.set(owner, items, body.same) {
		w, _ := d.flows.lookup(k.key)
		d.log.Warn("conflicting flows: first owner wins", "table", k.key.Table, "priority", k.key.Priority,
			"match", w.flow.Match.String(), "winner", k.winner, "loser", k.loser)
	}
}

// Remove drops every flow of owner.
func (d *Desired) Remove(owner string) { d.flows.set(owner, nil, body.same) }

// SetGroups replaces every group of owner by groups.
func (d *Desired) SetGroups(owner string, groups []Group) {
	items := make([]item[uint32, groupBody], 0, len(groups))
	for _, g := range groups {
		items = append(items, item[uint32, groupBody]{g.ID, newGroupBody(g)})
	}
	same := func(a, b groupBody) bool { return a.text == b.text }
	for _, k := range d.groups.set(owner, items, same) {
		d.log.Warn("conflicting groups: first owner wins", "group_id", k.key, "winner", k.winner, "loser", k.loser)
	}
}

// RemoveGroups drops every group of owner.
func (d *Desired) RemoveGroups(owner string) {
	d.groups.set(owner, nil, func(a, b groupBody) bool { return a.text == b.text })
}

// Owners returns the owners that have flows, groups or meters, sorted.
func (d *Desired) Owners() []string {
	var out []string
	for o := range d.flows.owners {
		out = append(out, o)
	}
	for o := range d.groups.owners {
		out = append(out, o)
	}
	for o := range d.meters.owners {
		out = append(out, o)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Flows returns the flows that would be installed, sorted by table,
// priority (highest first) and match as printed. It is for tests and
// tools: it renders every match.
func (d *Desired) Flows() []Flow {
	type sorted struct {
		f     Flow
		match string
	}
	ss := make([]sorted, 0, len(d.flows.keys))
	for _, c := range d.flows.keys {
		f := d.flows.value(c).flow
		ss = append(ss, sorted{f, f.Match.String()})
	}
	slices.SortFunc(ss, func(a, b sorted) int {
		return cmp.Or(cmp.Compare(a.f.Table, b.f.Table), cmp.Compare(b.f.Priority, a.f.Priority), cmp.Compare(a.match, b.match))
	})
	out := make([]Flow, len(ss))
	for i, s := range ss {
		out[i] = s.f
	}
	return out
}

// Len is the number of distinct flows.
func (d *Desired) Len() int { return len(d.flows.keys) }

// Groups returns the groups that would be installed, by id.
func (d *Desired) Groups() []Group {
	out := make([]Group, 0, len(d.groups.keys))
	for _, c := range d.groups.keys {
		out = append(out, c.winner().group)
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

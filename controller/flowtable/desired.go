package flowtable

import (
	"cmp"
	"log/slog"
	"slices"

	"github.com/ovnd/ovnd/controller/openflow"
)

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

type groupBody struct {
	group Group
	text  string
}

func newGroupBody(g Group) groupBody {
	return groupBody{group: g, text: openflow.GroupDesc{GroupType: g.Type, GroupID: g.ID, Buckets: g.Buckets}.String()}
}

func sameGroup(a, b groupBody) bool { return a.text == b.text }

// Desired is the flow table the controller wants on br-int, as the union
// of what each owner (a logical flow's UUID, a physical-flow key chosen by
// controller/physical, ...) contributes. Set and Remove cost only the
// owner's own flows, so that an incremental change stays cheap, and a Set
// that changes nothing marks nothing for the installer.
//
// When two owners claim the same flow (same Key) with the same actions the
// flow is installed once; with different actions the owner whose name
// sorts first wins, whatever the order of the calls (so that incremental
// processing and a full recompute agree), and the conflict is logged.
// Clause flows of conjunctive matches that several owners claim are
// merged into one flow carrying every owner's conjunction actions.
//
// Desired is not safe for concurrent use: one loop owns it.
type Desired struct {
	log    *slog.Logger
	flows  claims[fkey, body]
	groups claims[uint32, groupBody]
	meters claims[uint32, meterBody]
	// late are the keys of flows that name a group or a meter: an
	// install streamed while the table is built (Installer.Feed) leaves
	// them to its last part, which adds the groups and meters first.
	late map[fkey]struct{}
	// Scratch space of Set, kept between calls.
	keyBuf, bodyBuf []byte
	items           []item[fkey, body]
	// bodies are the bodies Set encoded last, so that owners whose
	// flows have the same cookie and actions share one string: an lflow
	// on a datapath group is a unit of its own on each datapath (owner
	// "<uuid>@<key>"), whose flows differ from the other units' in
	// their match only, most of them.
	bodies recentBodies
}

// recentBodies keeps the bodies last encoded: two generations of up to
// recentBodiesMax, the current one dropped into the old when full, a
// hit in the old one brought back. The units of one lflow are set one
// after another, so a few hundred bodies find nearly all that repeat.
type recentBodies struct {
	cur, old map[string]body
}

const recentBodiesMax = 1024

// intern returns b as a body, the one it keeps if it has one equal.
func (r *recentBodies) intern(b []byte) body {
	if v, ok := r.cur[string(b)]; ok {
		return v
	}
	v, ok := r.old[string(b)]
	if !ok {
		v = body(b)
	}
	if len(r.cur) >= recentBodiesMax {
		r.old, r.cur = r.cur, nil
	}
	if r.cur == nil {
		r.cur = make(map[string]body, recentBodiesMax)
	}
	r.cur[v] = v
	return v
}

// NewDesired returns an empty desired table. log receives conflicts and
// flows that cannot be encoded; nil discards them.
func NewDesired(log *slog.Logger) *Desired {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Desired{log: log}
	d.flows.init(func(a, b body) bool { return a == b }, sameActions)
	d.flows.merge = mergeConjunctions
	d.groups.init(sameGroup, sameGroup)
	d.meters.init(sameMeter, sameMeter)
	return d
}

// Set replaces every flow of owner by flows. An owner listing one Key
// twice keeps the first. A flow that cannot be encoded (a match field
// without a field, a mask longer than its value...) is logged and left
// out.
func (d *Desired) Set(owner string, flows []Flow) {
	id, known, old := d.flows.ownerKeys(owner)
	items := d.items[:0]
	var prev body
	for _, f := range flows {
		k, b, err := d.encode(f, old, len(items), prev, id, known)
		if err != nil {
			d.log.Warn("flow left out: it does not encode", "owner", owner, "table", f.Table,
				"priority", f.Priority, "err", err)
			continue
		}
		items = append(items, item[fkey, body]{k, b})
		prev = b
		if d.flows.journaling && namesGroupOrMeter(f.Actions) {
			if d.late == nil {
				d.late = map[fkey]struct{}{}
			}
			d.late[k] = struct{}{}
		}
	}
	conflicts := d.flows.set(owner, items)
	clear(items)
	d.items = items[:0]
	for _, c := range conflicts {
		d.log.Warn("conflicting flows: first owner wins", "table", c.key.table(), "priority", c.key.priority(),
			"match", renderMatch(c.key), "winner", c.winner, "loser", c.loser)
	}
}

// encode returns the key and body of f, as strings shared with what the
// table already holds where they are equal: the key owner had at the
// same position, its body for that key, the previous flow's body, a
// body recently encoded for any owner.
func (d *Desired) encode(f Flow, old []fkey, pos int, prev body, id ownerID, known bool) (fkey, body, error) {
	var err error
	if d.keyBuf, err = appendFlowKey(d.keyBuf[:0], f.Table, f.Priority, f.Match); err != nil {
		return "", "", err
	}
	if d.bodyBuf, err = appendBody(d.bodyBuf[:0], f.Cookie, f.Actions); err != nil {
		return "", "", err
	}
	var k fkey
	if pos < len(old) && string(d.keyBuf) == string(old[pos]) {
		k = old[pos]
	} else {
		k = fkey(d.keyBuf)
	}
	if known {
		if v, ok := d.flows.soleValue(id, k); ok && v == string(d.bodyBuf) {
			return k, v, nil
		}
	}
	if prev == string(d.bodyBuf) {
		return k, prev, nil
	}
	return k, d.bodies.intern(d.bodyBuf), nil
}

// Remove drops every flow of owner.
func (d *Desired) Remove(owner string) { d.flows.set(owner, nil) }

// SetGroups replaces every group of owner by groups.
func (d *Desired) SetGroups(owner string, groups []Group) {
	items := make([]item[uint32, groupBody], 0, len(groups))
	for _, g := range groups {
		items = append(items, item[uint32, groupBody]{g.ID, newGroupBody(g)})
	}
	for _, k := range d.groups.set(owner, items) {
		d.log.Warn("conflicting groups: first owner wins", "group_id", k.key, "winner", k.winner, "loser", k.loser)
	}
}

// RemoveGroups drops every group of owner.
func (d *Desired) RemoveGroups(owner string) { d.groups.set(owner, nil) }

// Owners returns the owners that have flows, groups or meters, sorted.
func (d *Desired) Owners() []string {
	var out []string
	for o := range d.flows.ids {
		out = append(out, o)
	}
	for o := range d.groups.ids {
		out = append(out, o)
	}
	for o := range d.meters.ids {
		out = append(out, o)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Flows returns the flows that would be installed, sorted by table,
// priority (highest first) and match as printed. It is for tests and
// tools: it decodes every flow and renders every match.
func (d *Desired) Flows() []Flow {
	type sorted struct {
		f     Flow
		match string
	}
	ss := make([]sorted, 0, len(d.flows.keys))
	for k, c := range d.flows.keys {
		f, err := flowOf(k, c.val)
		if err != nil {
			d.log.Error("desired flow does not decode", "match", renderMatch(k), "err", err)
			continue
		}
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
		out = append(out, c.val.group)
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// namesGroupOrMeter reports whether acts, or actions nested in them,
// name a group or a meter.
func namesGroupOrMeter(acts []openflow.Action) bool {
	for _, a := range acts {
		switch a := a.(type) {
		case *openflow.Group, *openflow.Meter:
			return true
		case *openflow.Clone:
			if namesGroupOrMeter(a.Actions) {
				return true
			}
		case *openflow.CT:
			if namesGroupOrMeter(a.Actions) {
				return true
			}
		}
	}
	return false
}

package lflowc

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// groupTable allocates the OpenFlow groups load balancers select their
// backend with. Groups are shared: lflows asking for the same buckets
// get the same id, and a group lives while an lflow refers to it, as in
// ovn-controller's group table.
type groupTable struct {
	mu     sync.Mutex // guards the fields below; the forks of a Compiler share the table
	byKey  map[string]uint32
	mods   map[uint32]*openflow.GroupMod
	users  map[uint32]int
	byFlow map[string]map[uint32]bool // lflow UUID -> groups it uses
	next   uint32
}

func newGroupTable() *groupTable {
	return &groupTable{byKey: map[string]uint32{}, mods: map[uint32]*openflow.GroupMod{}, users: map[uint32]int{},
		byFlow: map[string]map[uint32]bool{}, next: 1}
}

// begin starts recompiling lflow uuid: it forgets the groups the lflow
// used, returning them for end.
func (g *groupTable) begin(uuid string) map[uint32]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.byFlow[uuid]
	delete(g.byFlow, uuid) // ref adds it back with the groups it uses now
	return old
}

// end drops the groups the lflow used before and no longer does.
func (g *groupTable) end(uuid string, old map[uint32]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.byFlow[uuid]
	for id := range old {
		if !now[id] {
			g.unref(id)
		}
	}
	if len(now) == 0 {
		delete(g.byFlow, uuid)
	}
}

// ref returns the id of a group with mod's type and buckets for lflow
// uuid, allocating one if needed.
func (g *groupTable) ref(uuid string, mod *openflow.GroupMod) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := mod.String()
	id, ok := g.byKey[key]
	if !ok {
		for g.next == 0 || g.mods[g.next] != nil {
			g.next++
		}
		id = g.next
		g.next++
		mod.GroupID = id
		g.byKey[key], g.mods[id] = id, mod
	}
	if g.byFlow[uuid] == nil {
		g.byFlow[uuid] = map[uint32]bool{}
	}
	if !g.byFlow[uuid][id] {
		g.byFlow[uuid][id] = true
		g.users[id]++
	}
	return id
}

func (g *groupTable) unref(id uint32) {
	if g.users[id]--; g.users[id] > 0 {
		return
	}
	m := g.mods[id]
	m.GroupID = 0
	delete(g.byKey, m.String())
	delete(g.mods, id)
	delete(g.users, id)
}

func (g *groupTable) release(uuid string) {
	g.end(uuid, g.begin(uuid)) // each locks on its own
}

// groups returns the desired groups by id, as group adds.
func (g *groupTable) groups() []*openflow.GroupMod {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*openflow.GroupMod, 0, len(g.mods))
	for _, m := range g.mods {
		c := *m
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *openflow.GroupMod) int { return int(a.GroupID) - int(b.GroupID) })
	return out
}

// ctLBGroup compiles ct_lb / ct_lb_mark with backends: a select group
// whose buckets each commit the connection with a DNAT to one backend
// and mark it natted (ct_mark bit 1 for ct_lb_mark, ct_label bit 1 for
// ct_lb), recirculating to the next table. The buckets are chosen by
// dp_hash, or by a hash of the hash_fields option.
func (ac *actionCompiler) ctLBGroup(o lflow.Op) ([]openflow.Action, error) {
	if ac.groups == nil {
		return nil, fmt.Errorf("backends need a Compiler's group table")
	}
	markField, marks := "ct_mark", []uint64{2}
	if o.Name == "ct_lb" {
		markField = "ct_label"
	}
	mod := &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeSelect,
		CommandBucketID: openflow.BucketAll, Selection: &openflow.Selection{Method: "dp_hash"}}
	for _, opt := range o.LB.Options {
		switch name := optName(opt); name {
		case "hash_fields":
			sel, err := hashFields(opt.Value)
			if err != nil {
				return nil, err
			}
			mod.Selection = sel
		case "skip_snat":
			marks = append(marks, 4)
		case "force_snat":
			marks = append(marks, 8)
		default:
			return nil, fmt.Errorf("unknown option %s", name)
		}
	}
	for i, be := range o.LB.Backends {
		nat := &openflow.NAT{Flags: openflow.NATDst, IPMin: constAddr(be.IP), ProtoMin: uint16(be.Port)}
		acts := []openflow.Action{nat}
		for _, m := range marks {
			f := openflow.F(markField)
			acts = append(acts, &openflow.SetField{OXM: openflow.OXM{Field: f, Value: u128Bytes(lflow.U128{Lo: m}, f.Width),
				Mask: u128Bytes(lflow.U128{Lo: m}, f.Width)}})
		}
		ct := &openflow.CT{Flags: openflow.CTCommit, ZoneSrc: ac.zone(false), Table: ac.nextTable(), Actions: acts}
		mod.Buckets = append(mod.Buckets, openflow.Bucket{ID: uint32(i), Weight: 100, Actions: []openflow.Action{ct}})
	}
	return []openflow.Action{&openflow.Group{ID: ac.groups.ref(ac.lf.UUID, mod)}}, nil
}

func optName(a lflow.Arg) string {
	if a.Key != nil {
		return a.Key.Word
	}
	return a.Value.Word
}

// hashFields reads hash_fields="ip_src,ip_dst,..." into a hash
// selection over those fields.
func hashFields(v lflow.Value) (*openflow.Selection, error) {
	if v.Kind != lflow.ConstValue || !v.Const.IsStr {
		return nil, fmt.Errorf("hash_fields must be a string")
	}
	sel := &openflow.Selection{Method: "hash"}
	for _, name := range strings.Split(v.Const.Str, ",") {
		f := openflow.FieldByName(strings.TrimSpace(name))
		if f == nil {
			return nil, fmt.Errorf("hash_fields: unknown field %q", name)
		}
		sel.Fields = append(sel.Fields, f)
	}
	return sel, nil
}

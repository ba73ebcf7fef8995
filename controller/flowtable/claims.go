package flowtable

import "slices"

// ownerID numbers an owner within one claims table.
type ownerID int32

// claims tracks which owners claim which keys (flows by fkey, groups and
// meters by id) and which keys changed since the installer last looked.
//
// Most keys have one owner: its claim is kept inline, with no allocation
// beyond the map entry. Keys that several owners claim (flows that
// logical flows share, conjunction clauses) also list every owner's value
// in shared.
type claims[K comparable, V any] struct {
	ids    map[string]ownerID // owner name to id
	owners ownerList[K]       // by id; a free id has no name
	free   []ownerID
	keys   map[K]claim[V]   // every claimed key
	shared map[K][]share[V] // every owner's claim of the keys several owners claim
	dirty  map[K]struct{}   // keys whose winning value may have changed
	// was holds what the switch has for keys whose claim changed or
	// went since the installer last sent them: the installer keeps no
	// table of its own (see claim.inst).
	was map[K]V
	// allDirty stands for every key, claimed or not, once dirty would
	// list most of the table (a full compile into an empty table): a
	// second map of every key costs more than comparing them all.
	allDirty bool
	// equal reports whether two values are the same value; same whether
	// two owners' values agree (no conflict to report).
	equal, same func(a, b V) bool
	// journal, while journaling, lists every key marked dirty, in
	// order and with repeats, until the installer takes it (Feed): the
	// keys a full compile claims go out while it runs, where dirty
	// stops listing them (allDirty).
	journal    []K
	journaling bool
	// merge, when set, combines the claims of several owners into one
	// value where they can be combined (conjunction clause flows); it
	// returns false where they cannot, and the first owner wins.
	merge func(shares []share[V]) (V, bool)
}

// owned is an owner and the keys it claims, in its order.
type owned[K comparable] struct {
	name string
	keys []K
}

// ownerList holds the owners by id in chunks of ownerChunk, so that it
// grows without copying: a slice of the benchmark's 95,000 owners grown
// by append allocated five times its size over a full compile, the
// last two arrays live at once at the compile's peak.
type ownerList[K comparable] struct {
	chunks [][]owned[K]
	n      int
}

const ownerChunk = 1024

func (l *ownerList[K]) at(id ownerID) *owned[K] { return &l.chunks[id/ownerChunk][id%ownerChunk] }

func (l *ownerList[K]) len() int { return l.n }

// add appends o and returns its id.
func (l *ownerList[K]) add(o owned[K]) ownerID {
	if l.n%ownerChunk == 0 {
		l.chunks = append(l.chunks, make([]owned[K], ownerChunk))
	}
	id := ownerID(l.n)
	*l.at(id) = o
	l.n++
	return id
}

// claim is what the switch gets for a key and whose claim it is.
type claim[V any] struct {
	val    V       // the winner's value, or the owners' values merged
	owner  ownerID // the winner: the owner whose name sorts first
	shared bool    // other owners claim the key too (see claims.shared)
	// inst says the switch holds val, as the installer last sent or
	// found it; when val changes, what the switch holds moves to
	// claims.was.
	inst bool
}

// share is one owner's claim of a shared key.
type share[V any] struct {
	owner ownerID
	val   V
}

type item[K comparable, V any] struct {
	key K
	val V
}

// conflict names a key that two owners claim with different values.
type conflict[K comparable] struct {
	key           K
	winner, loser string
}

func (cs *claims[K, V]) init(equal, same func(a, b V) bool) {
	cs.ids = map[string]ownerID{}
	cs.keys = map[K]claim[V]{}
	cs.shared = map[K][]share[V]{}
	cs.dirty = map[K]struct{}{}
	cs.was = map[K]V{}
	cs.equal, cs.same = equal, same
}

// ownerKeys returns owner's id and the keys it claims, in its order; the
// caller must not change them.
func (cs *claims[K, V]) ownerKeys(owner string) (ownerID, bool, []K) {
	id, ok := cs.ids[owner]
	if !ok {
		return 0, false, nil
	}
	return id, true, cs.owners.at(id).keys
}

// soleValue returns id's value for k when id claims k alone, the common
// case, so that a caller can reuse the value the table holds.
func (cs *claims[K, V]) soleValue(id ownerID, k K) (V, bool) {
	c, ok := cs.keys[k]
	if !ok || c.shared || c.owner != id {
		var zero V
		return zero, false
	}
	return c.val, true
}

// set replaces owner's claims by items and returns the conflicts the new
// claims meet. An owner listing one key twice keeps the first.
func (cs *claims[K, V]) set(owner string, items []item[K, V]) []conflict[K] {
	id, known := cs.ids[owner]
	if known && sameKeys(cs.owners.at(id).keys, items) {
		return cs.update(id, items)
	}
	if known {
		for _, k := range cs.owners.at(id).keys {
			cs.unclaim(id, k)
		}
		cs.owners.at(id).keys = nil
	}
	if len(items) == 0 {
		if known {
			cs.release(id)
		}
		return nil
	}
	if !known {
		id = cs.newOwner(owner)
	}
	var conflicts []conflict[K]
	keys := make([]K, 0, len(items))
	for _, it := range items {
		claimed, cf := cs.claim(id, it.key, it.val)
		if cf != nil {
			conflicts = append(conflicts, *cf)
		}
		if claimed {
			keys = append(keys, it.key)
		}
	}
	cs.owners.at(id).keys = slices.Clip(keys)
	return conflicts
}

// sameKeys reports whether items has exactly keys, in the same order.
func sameKeys[K comparable, V any](keys []K, items []item[K, V]) bool {
	if len(keys) != len(items) {
		return false
	}
	for i, k := range keys {
		if items[i].key != k {
			return false
		}
	}
	return true
}

// update sets new values for the keys id already claims, marking dirty
// only the keys whose value changed: a full recompute that changes
// nothing costs no installer work.
func (cs *claims[K, V]) update(id ownerID, items []item[K, V]) []conflict[K] {
	var conflicts []conflict[K]
	for _, it := range items {
		c := cs.keys[it.key]
		prev := c
		if !c.shared {
			if !cs.equal(c.val, it.val) {
				c.val = it.val
				cs.put(it.key, c, prev)
				cs.markDirty(it.key)
			}
			continue
		}
		ss := cs.shared[it.key]
		i := slices.IndexFunc(ss, func(s share[V]) bool { return s.owner == id })
		if cs.equal(ss[i].val, it.val) {
			continue
		}
		ss[i].val = it.val
		if cf := cs.check(it.key, ss, id, it.val); cf != nil {
			conflicts = append(conflicts, *cf)
		}
		cs.elect(it.key, &c)
		cs.put(it.key, c, prev)
		cs.markDirty(it.key)
	}
	return conflicts
}

// claim adds id's claim of k with v. It reports false when id already
// claims k.
func (cs *claims[K, V]) claim(id ownerID, k K, v V) (bool, *conflict[K]) {
	c, ok := cs.keys[k]
	if !ok {
		cs.keys[k] = claim[V]{val: v, owner: id}
		cs.markDirty(k)
		return true, nil
	}
	prev := c
	var ss []share[V]
	if c.shared {
		ss = cs.shared[k]
		if slices.ContainsFunc(ss, func(s share[V]) bool { return s.owner == id }) {
			return false, nil
		}
	} else {
		if c.owner == id {
			return false, nil
		}
		ss = []share[V]{{c.owner, c.val}}
	}
	cf := cs.check(k, ss, id, v)
	cs.shared[k] = append(ss, share[V]{id, v})
	c.shared = true
	cs.elect(k, &c)
	cs.put(k, c, prev)
	cs.markDirty(k)
	return true, cf
}

// check returns the conflict of id's claim v of k with another owner's
// claim among ss, if one disagrees.
func (cs *claims[K, V]) check(k K, ss []share[V], id ownerID, v V) *conflict[K] {
	for _, s := range ss {
		if s.owner == id || cs.same(s.val, v) {
			continue
		}
		w, l := cs.owners.at(s.owner).name, cs.owners.at(id).name
		if l < w {
			w, l = l, w
		}
		return &conflict[K]{k, w, l}
	}
	return nil
}

// unclaim drops id's claim of k.
func (cs *claims[K, V]) unclaim(id ownerID, k K) {
	c := cs.keys[k]
	cs.markDirty(k)
	if !c.shared {
		if c.inst {
			cs.was[k] = c.val
		}
		delete(cs.keys, k)
		return
	}
	prev := c
	ss := slices.DeleteFunc(cs.shared[k], func(s share[V]) bool { return s.owner == id })
	if len(ss) == 1 {
		delete(cs.shared, k)
		cs.put(k, claim[V]{val: ss[0].val, owner: ss[0].owner}, prev)
		return
	}
	cs.shared[k] = ss
	cs.elect(k, &c)
	cs.put(k, c, prev)
}

// put stores c as k's claim, which was prev: when the value changes
// from one the switch holds, that one goes to was.
func (cs *claims[K, V]) put(k K, c, prev claim[V]) {
	c.inst = prev.inst
	if prev.inst && !cs.equal(prev.val, c.val) {
		cs.was[k] = prev.val
		c.inst = false
	}
	cs.keys[k] = c
}

// installed returns what the switch holds for k, as the installer last
// recorded it.
func (cs *claims[K, V]) installed(k K) (V, bool) {
	if c, ok := cs.keys[k]; ok && c.inst {
		return c.val, true
	}
	v, ok := cs.was[k]
	return v, ok
}

// clearInstalled forgets that the switch holds any key's value.
func (cs *claims[K, V]) clearInstalled() {
	for k, c := range cs.keys {
		if c.inst {
			c.inst = false
			cs.keys[k] = c
		}
	}
}

// record notes what the switch holds for k: v, or nothing (holds
// false).
func (cs *claims[K, V]) record(k K, v V, holds bool) {
	c, ok := cs.keys[k]
	if ok && holds && cs.equal(c.val, v) {
		delete(cs.was, k)
		if !c.inst {
			c.inst = true
			cs.keys[k] = c
		}
		return
	}
	if ok && c.inst {
		c.inst = false
		cs.keys[k] = c
	}
	if holds {
		cs.was[k] = v
	} else {
		delete(cs.was, k)
	}
}

// elect sets the winner of a shared key and the value the switch gets.
func (cs *claims[K, V]) elect(k K, c *claim[V]) {
	ss := cs.shared[k]
	w := ss[0]
	for _, s := range ss[1:] {
		if cs.owners.at(s.owner).name < cs.owners.at(w.owner).name {
			w = s
		}
	}
	c.owner, c.val = w.owner, w.val
	if cs.merge != nil {
		if v, ok := cs.merge(ss); ok {
			c.val = v
		}
	}
}

func (cs *claims[K, V]) newOwner(name string) ownerID {
	var id ownerID
	if n := len(cs.free); n > 0 {
		id, cs.free = cs.free[n-1], cs.free[:n-1]
		*cs.owners.at(id) = owned[K]{name: name}
	} else {
		id = cs.owners.add(owned[K]{name: name})
	}
	cs.ids[name] = id
	return id
}

func (cs *claims[K, V]) release(id ownerID) {
	delete(cs.ids, cs.owners.at(id).name)
	*cs.owners.at(id) = owned[K]{}
	cs.free = append(cs.free, id)
}

// lookup returns the value the switch gets for k.
func (cs *claims[K, V]) lookup(k K) (V, bool) {
	c, ok := cs.keys[k]
	return c.val, ok
}

// dirtyMin is the number of dirty keys from which claims stops listing
// them when they are most of the table (see claims.allDirty).
const dirtyMin = 4096

// markDirty notes that the value of k may have changed.
func (cs *claims[K, V]) markDirty(k K) {
	if cs.journaling {
		cs.journal = append(cs.journal, k)
	}
	if cs.allDirty {
		return
	}
	cs.dirty[k] = struct{}{}
	if n := len(cs.dirty); n >= dirtyMin && n > len(cs.keys)/2 {
		cs.allDirty = true
		cs.dirty = map[K]struct{}{}
	}
}

// anyDirty reports whether a key changed since the last takeDirty.
func (cs *claims[K, V]) anyDirty() bool { return cs.allDirty || len(cs.dirty) > 0 }

// takeDirty returns the keys changed since the last call, or all true
// when any key may have changed, and forgets them.
func (cs *claims[K, V]) takeDirty() (keys map[K]struct{}, all bool) {
	d, all := cs.dirty, cs.allDirty
	cs.dirty, cs.allDirty = map[K]struct{}{}, false
	return d, all
}

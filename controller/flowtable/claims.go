package flowtable

import "slices"

// claims tracks which owners claim which keys (flows by Key, groups by id)
// and which keys changed since the installer last looked.
type claims[K comparable, V any] struct {
	owners map[string][]K  // keys each owner claims, in its order
	keys   map[K]*claim[V] // every claimed key
	dirty  map[K]struct{}  // keys whose winning value may have changed
	// merge, when set, combines the claims of several owners into one
	// value where they can be combined (conjunction clause flows); it
	// returns false where they cannot, and the first owner wins.
	merge func(c *claim[V]) (V, bool)
}

type item[K comparable, V any] struct {
	key K
	val V
}

// claim is every owner's value for one key; the smallest owner wins.
type claim[V any] struct {
	byOwner map[string]V
	first   string
}

func (c *claim[V]) winner() V { return c.byOwner[c.first] }

// value is what the switch gets for the claim: the owners' claims
// merged where cs merges them, the winner's otherwise.
func (cs *claims[K, V]) value(c *claim[V]) V {
	if cs.merge != nil && len(c.byOwner) > 1 {
		if v, ok := cs.merge(c); ok {
			return v
		}
	}
	return c.winner()
}

func (c *claim[V]) electFirst() {
	c.first = ""
	for o := range c.byOwner {
		if c.first == "" || o < c.first {
			c.first = o
		}
	}
}

// conflict names a key that two owners claim with different values.
type conflict[K comparable] struct {
	key           K
	winner, loser string
}

func (cs *claims[K, V]) init() {
	cs.owners = map[string][]K{}
	cs.keys = map[K]*claim[V]{}
	cs.dirty = map[K]struct{}{}
}

// set replaces owner's claims by items and returns the conflicts the new
// claims meet.
func (cs *claims[K, V]) set(owner string, items []item[K, V], same func(a, b V) bool) []conflict[K] {
	for _, k := range cs.owners[owner] {
		c := cs.keys[k]
		delete(c.byOwner, owner)
		cs.dirty[k] = struct{}{}
		if len(c.byOwner) == 0 {
			delete(cs.keys, k)
		} else if c.first == owner {
			c.electFirst()
		}
	}
	delete(cs.owners, owner)
	var conflicts []conflict[K]
	keys := make([]K, 0, len(items))
	for _, it := range items {
		c := cs.keys[it.key]
		if c == nil {
			c = &claim[V]{byOwner: map[string]V{}}
			cs.keys[it.key] = c
		}
		if _, dup := c.byOwner[owner]; dup {
			continue
		}
		if len(c.byOwner) > 0 && !same(c.winner(), it.val) {
			w, l := c.first, owner
			if owner < w {
				w, l = owner, c.first
			}
			conflicts = append(conflicts, conflict[K]{it.key, w, l})
		}
		c.byOwner[owner] = it.val
		if c.first == "" || owner < c.first {
			c.first = owner
		}
		keys = append(keys, it.key)
		cs.dirty[it.key] = struct{}{}
	}
	if len(keys) > 0 {
		cs.owners[owner] = slices.Clip(keys)
	}
	return conflicts
}

// lookup returns the winning value for k.
func (cs *claims[K, V]) lookup(k K) (V, bool) {
	c, ok := cs.keys[k]
	if !ok {
		var zero V
		return zero, false
	}
	return cs.value(c), true
}

// takeDirty returns the keys changed since the last call and forgets them.
func (cs *claims[K, V]) takeDirty() map[K]struct{} {
	d := cs.dirty
	cs.dirty = map[K]struct{}{}
	return d
}

package lflowc

import "sync"

// ConjIDs allocates OpenFlow conjunction ids. An lflow keeps its ids per
// datapath for as long as it exists, so that recompiling it yields the
// same flows; Release returns them when the lflow goes. Ids are never 0
// and never reused while held.
type ConjIDs struct {
	mu   sync.Mutex                     // guards the fields below; the forks of a Compiler share the ids
	held map[string]map[uint32][]uint32 // lflow UUID -> datapath -> ids
	used map[uint32]bool
	next uint32
}

// NewConjIDs returns an empty allocator.
func NewConjIDs() *ConjIDs {
	return &ConjIDs{held: map[string]map[uint32][]uint32{}, used: map[uint32]bool{}, next: 1}
}

// ids returns n ids for lflow uuid on datapath dp, the same ones as last
// time where there were enough.
func (c *ConjIDs) ids(uuid string, dp uint32, n int) []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	byDP := c.held[uuid]
	if byDP == nil {
		byDP = map[uint32][]uint32{}
		c.held[uuid] = byDP
	}
	ids := byDP[dp]
	for len(ids) < n {
		ids = append(ids, c.alloc())
	}
	byDP[dp] = ids
	return ids[:n]
}

func (c *ConjIDs) alloc() uint32 {
	for c.next == 0 || c.used[c.next] {
		c.next++
	}
	id := c.next
	c.used[id] = true
	c.next++
	return id
}

// Release frees every id lflow uuid holds.
func (c *ConjIDs) Release(uuid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ids := range c.held[uuid] {
		for _, id := range ids {
			delete(c.used, id)
		}
	}
	delete(c.held, uuid)
}

// Len is the number of ids held.
func (c *ConjIDs) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.used)
}

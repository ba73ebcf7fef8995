package lflowc

import (
	"bytes"
	"hash/maphash"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// flowSet collects one lflow's flows on one datapath, merging repeats:
// the same match twice keeps the first actions; conjunction clause
// flows with the same match carry every conjunction action. It appends
// to the flows of the lflow's earlier datapaths (flows[:start]), which
// it leaves alone, so that one slice holds all of an lflow's flows.
type flowSet struct {
	table uint8
	prio  uint16
	flows []flowtable.Flow
	start int        // this datapath's first flow
	index *flowIndex // this datapath's flows by match, once there are seenFrom of them
	spare *flowIndex // the index to use then (a Compiler's, reused), or nil
}

// seenFrom is how many flows a flowSet compares one by one before it
// indexes them by match: most lflows have one flow per datapath.
const seenFrom = 8

// flowIndex is an open-addressing hash table of a flowSet's flows by
// match. It replaced a map keyed by each match's bytes as a string,
// whose keys were some 10 MB of a full compile's garbage and whose
// hashing and probing a tenth of its CPU; a Compiler reuses one.
type flowIndex struct {
	slots  []int32  // index in flows + 1; 0 is empty; a power of two long
	hashes []uint64 // each indexed flow's hash, from start
	seed   maphash.Seed
	key    []byte // scratch for hashing a match
	// hash and slot are those of the match find last looked for, where
	// insert puts it when find did not find it.
	hash uint64
	slot int
}

// Bounds on what an index keeps for the next flowSet.
const maxKeptSlots = 1 << 17

func newFlowIndex() *flowIndex { return &flowIndex{seed: maphash.MakeSeed()} }

// reset empties the index for a set with about n flows.
func (x *flowIndex) reset(n int) {
	size := 4 * seenFrom
	for size < 2*n {
		size *= 2
	}
	if cap(x.slots) > maxKeptSlots && size <= maxKeptSlots {
		x.slots, x.hashes = nil, nil
	}
	if cap(x.slots) >= size {
		x.slots = x.slots[:size]
		clear(x.slots)
	} else {
		x.slots = make([]int32, size)
	}
	x.hashes = x.hashes[:0]
}

func (x *flowIndex) hashOf(m openflow.Match) uint64 {
	x.key = appendMatchKey(x.key[:0], m)
	return maphash.Bytes(x.seed, x.key)
}

// lookup returns the index of the flow with match m among flows, or -1;
// it leaves m's hash and free slot for insert.
func (x *flowIndex) lookup(flows []flowtable.Flow, start int, m openflow.Match) int {
	h := x.hashOf(m)
	mask := len(x.slots) - 1
	i := int(h) & mask
	for ; x.slots[i] != 0; i = (i + 1) & mask {
		j := int(x.slots[i]) - 1
		if x.hashes[j-start] == h && sameMatch(flows[j].Match, m) {
			return j
		}
	}
	x.hash, x.slot = h, i
	return -1
}

// insert records flow j (the next one from start) under hash h in slot
// i, growing the table first if it is half full.
func (x *flowIndex) insert(flows []flowtable.Flow, start, j int, h uint64, i int) {
	x.hashes = append(x.hashes, h)
	if 2*len(x.hashes) <= len(x.slots) {
		x.slots[i] = int32(j + 1)
		return
	}
	x.slots = make([]int32, 2*len(x.slots))
	mask := len(x.slots) - 1
	for k, h := range x.hashes {
		i := int(h) & mask
		for x.slots[i] != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = int32(start + k + 1)
	}
}

// indexAll indexes the set's flows so far, sized for n more.
func (fs *flowSet) indexAll(n int) {
	x := fs.spare
	if x == nil {
		x = newFlowIndex()
	}
	x.reset(len(fs.flows) - fs.start + n)
	fs.index = x
	for j := fs.start; j < len(fs.flows); j++ {
		if x.lookup(fs.flows, fs.start, fs.flows[j].Match) < 0 {
			x.insert(fs.flows, fs.start, j, x.hash, x.slot)
		}
	}
}

// find returns the index of the flow with match om, or -1.
func (fs *flowSet) find(om openflow.Match) int {
	if fs.index == nil {
		for i := fs.start; i < len(fs.flows); i++ {
			if sameMatch(fs.flows[i].Match, om) {
				return i
			}
		}
		return -1
	}
	return fs.index.lookup(fs.flows, fs.start, om)
}

// reserve makes room for up to n more flows, sizing the index once for
// a large set rather than growing it member by member.
func (fs *flowSet) reserve(n int) {
	if n < seenFrom {
		return
	}
	if free := cap(fs.flows) - len(fs.flows); free < n {
		grown := make([]flowtable.Flow, len(fs.flows), len(fs.flows)+n)
		copy(grown, fs.flows)
		fs.flows = grown
	}
	if fs.index == nil {
		fs.indexAll(n)
	}
}

// insert appends a flow that find did not find.
func (fs *flowSet) insert(f flowtable.Flow) {
	j := len(fs.flows)
	fs.flows = append(fs.flows, f)
	switch {
	case fs.index != nil:
		fs.index.insert(fs.flows, fs.start, j, fs.index.hash, fs.index.slot) // find left them
	case j+1-fs.start == seenFrom:
		fs.indexAll(seenFrom)
	}
}

func (fs *flowSet) add(m ofMatch, acts []openflow.Action, cookie uint64) {
	om := m.openflow()
	if fs.find(om) >= 0 {
		return
	}
	fs.insert(flowtable.Flow{Table: fs.table, Priority: fs.prio, Match: om, Actions: acts, Cookie: cookie})
}

// addConj adds a conjunction clause flow, whose actions are acts, one
// conjunction action that other flows share: neither it nor the slice
// is modified. ovn-controller gives clause flows cookie 0, as they may
// be shared by several lflows.
func (fs *flowSet) addConj(m ofMatch, acts []openflow.Action) {
	om := m.openflow()
	if i := fs.find(om); i >= 0 {
		f := &fs.flows[i]
		if len(f.Actions) > 0 {
			if _, isConj := f.Actions[0].(*openflow.Conjunction); isConj {
				// A shared slice has capacity 1: append copies it.
				f.Actions = append(f.Actions, acts[0])
			}
		}
		return
	}
	fs.insert(flowtable.Flow{Table: fs.table, Priority: fs.prio, Match: om, Actions: acts[:1:1]})
}

// appendMatchKey appends what identifies a match for deduplication,
// cheaply: the fields in order with their values and masks.
func appendMatchKey(b []byte, m openflow.Match) []byte {
	for _, o := range m {
		b = append(b, o.Field.Name...)
		b = append(b, byte(len(o.Value)), byte(len(o.Mask)))
		b = append(b, o.Value...)
		b = append(b, o.Mask...)
	}
	return b
}

// sameMatch reports whether two rendered matches are the same, as their
// appendMatchKey keys would be.
func sameMatch(a, b openflow.Match) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if (a[i].Field != b[i].Field && a[i].Field.Name != b[i].Field.Name) || !bytes.Equal(a[i].Value, b[i].Value) || !bytes.Equal(a[i].Mask, b[i].Mask) {
			return false
		}
	}
	return true
}

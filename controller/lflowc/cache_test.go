package lflowc

import (
	"fmt"
	"testing"
)

// TestRecentKeepsWhatIsUsed: a key used now and then among a stream of
// keys used once stays cached, the stream does not grow the cache past
// two generations, and a key not used since two generations is gone.
func TestRecentKeepsWhatIsUsed(t *testing.T) {
	var r recent[int]
	r.put("next;", 1)
	for i := range 20 * maxRecent {
		r.put(fmt.Sprintf("once %d", i), i)
		if i%(maxRecent/4) == 0 {
			if v, ok := r.get("next;"); !ok || v != 1 {
				t.Fatalf("after %d other keys: hot key %d, %v", i, v, ok)
			}
		}
		if n := len(r.cur) + len(r.old); n > 2*maxRecent {
			t.Fatalf("after %d keys: %d cached, want at most %d", i, n, 2*maxRecent)
		}
	}
	if _, ok := r.get("once 0"); ok {
		t.Error("a key used once, 20 generations ago, is still cached")
	}
	if _, ok := r.get(fmt.Sprintf("once %d", 20*maxRecent-1)); !ok {
		t.Error("the last key put is not cached")
	}
}

// TestRecentBoundsWeight: heavy entries (parsed matches of large sets)
// rotate the generations by weight, so that the cache holds at most
// two generations' weight plus one entry, whatever their count.
func TestRecentBoundsWeight(t *testing.T) {
	var r recent[int]
	w := maxRecentWeight / 3
	for i := range 30 {
		r.putWeighted(fmt.Sprintf("set %d", i), i, w)
		total := 0
		for _, g := range []map[string]weighted[int]{r.cur, r.old} {
			for _, e := range g {
				total += e.w
			}
		}
		if total > 2*maxRecentWeight+w {
			t.Fatalf("after %d entries of weight %d: weight %d cached", i+1, w, total)
		}
	}
	// One entry heavier than a generation is still cached, alone.
	r.putWeighted("huge", -1, 2*maxRecentWeight)
	if v, ok := r.get("huge"); !ok || v != -1 {
		t.Errorf("huge entry: %d, %v", v, ok)
	}
}

// TestRecentReusesGenerations: once both generations have been filled,
// a stream of new keys rotates them without allocating new maps.
func TestRecentReusesGenerations(t *testing.T) {
	var r recent[int]
	keys := make([]string, 8*maxRecent)
	for i := range keys {
		keys[i] = fmt.Sprintf("key %d", i)
	}
	for _, k := range keys[:4*maxRecent] {
		r.put(k, 1)
	}
	i := 0
	allocs := testing.AllocsPerRun(4, func() {
		for range maxRecent {
			r.put(keys[4*maxRecent+i%(4*maxRecent)], 2)
			i++
		}
	})
	if allocs > 1 {
		t.Errorf("%.0f allocations per generation of new keys, want none", allocs)
	}
	if v, ok := r.get(keys[4*maxRecent+i%(4*maxRecent)-1]); !ok || v != 2 {
		t.Errorf("last key put: %d, %v", v, ok)
	}
}

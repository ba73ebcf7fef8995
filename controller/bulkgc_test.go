package controller

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestBulkGC: bulk mode raises the GC target and caps memory, the cap
// follows a live heap that outgrows it (so that it never makes the
// collector run flat out) and comes back down with it, and the end of
// bulk mode gives the GC target back and keeps the cap.
func TestBulkGC(t *testing.T) {
	if !tuneGC() {
		t.Skip("GOGC or GOMEMLIMIT set: the controller leaves the GC alone")
	}
	// Earlier tests' loops may have a release (which ends bulk mode)
	// pending.
	release.Lock()
	if release.t != nil {
		release.t.Stop()
	}
	release.Unlock()
	endBulkGC()
	before := debug.SetGCPercent(50)
	defer debug.SetGCPercent(before)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(limit)

	beginBulkGC()
	if p := debug.SetGCPercent(-1); p != bulkGCPercent {
		t.Errorf("GC percent in bulk mode %d, want %d", p, bulkGCPercent)
	}
	debug.SetGCPercent(bulkGCPercent)
	runtime.GC() // an earlier test's heap goes
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	if l := debug.SetMemoryLimit(-1); l != heapCap {
		t.Errorf("memory limit in bulk mode %d, want %d", l, heapCap)
	}

	// A live heap above what the cap allows raises the cap after two
	// collections.
	big := make([][]byte, 0, 256)
	for range 256 {
		big = append(big, make([]byte, 1<<20)) // 256 MiB live, pointer-free
	}
	want := bulkCap(256 << 20)
	waitLimit := func(ok func(int64) bool) int64 {
		deadline := time.Now().Add(10 * time.Second)
		for !ok(debug.SetMemoryLimit(-1)) && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		return debug.SetMemoryLimit(-1)
	}
	if l := waitLimit(func(l int64) bool { return l >= want }); l < want {
		t.Errorf("memory limit %d MiB with 256 MiB live, want at least %d MiB", l>>20, want>>20)
	}
	runtime.KeepAlive(big)
	big = nil

	endBulkGC()
	if p := debug.SetGCPercent(50); p != 50 {
		t.Errorf("GC percent after bulk mode %d, want 50 back", p)
	}
	// The cap stays, and comes back down with the live heap.
	if l := waitLimit(func(l int64) bool { return l == heapCap }); l != heapCap {
		t.Errorf("memory limit after bulk mode with the big heap gone: %d MiB, want %d MiB", l>>20, heapCap>>20)
	}
}

func TestBulkCap(t *testing.T) {
	if c := bulkCap(10 << 20); c != heapCap {
		t.Errorf("cap for 10 MiB live: %d, want the floor %d", c, heapCap)
	}
	if c := bulkCap(400 << 20); c < 560<<20 {
		t.Errorf("cap for 400 MiB live: %d MiB, want at least 1.4x", c>>20)
	}
}

// TestNextCap: one collection's live heap, inflated by what was
// allocated while it marked, does not raise the cap; two in a row do.
func TestNextCap(t *testing.T) {
	low, spike := uint64(heapCap/2), uint64(heapCap) // 1.4x low is under the floor, 1.4x spike over it
	if c := nextCap(low, spike); c != heapCap {
		t.Errorf("cap after a spike to %d MiB: %d MiB, want the floor %d MiB", spike>>20, c>>20, heapCap>>20)
	}
	if c := nextCap(spike, low); c != heapCap {
		t.Errorf("cap after the spike went: %d MiB, want the floor %d MiB", c>>20, heapCap>>20)
	}
	if c := nextCap(300<<20, 320<<20); c != bulkCap(300<<20) || c <= heapCap {
		t.Errorf("cap with 300-320 MiB live: %d MiB, want %d MiB", c>>20, bulkCap(300<<20)>>20)
	}
	if c := nextCap(0, 400<<20); c != heapCap {
		t.Errorf("cap after the first collection: %d MiB, want the floor %d MiB", c>>20, heapCap>>20)
	}
}

// Only bulk work schedules a release; other work postpones a pending
// one and, once it has run, schedules none: a port added after start-up
// does not pay a full collection of the heap.
func TestReleaseOnlyAfterBulk(t *testing.T) {
	pending := func() bool { release.Lock(); defer release.Unlock(); return release.pending }
	release.Lock()
	if release.t != nil {
		release.t.Stop()
	}
	release.pending = false
	release.Unlock()
	releaseMemory(false)
	if pending() {
		t.Fatal("work that is not bulk scheduled a release")
	}
	releaseMemory(true)
	if !pending() {
		t.Fatal("bulk work scheduled no release")
	}
	time.Sleep(releaseDelay / 2)
	releaseMemory(false) // postpones
	time.Sleep(releaseDelay * 3 / 4)
	if !pending() {
		t.Fatal("work during the pause did not postpone the release")
	}
	deadline := time.Now().Add(5 * releaseDelay)
	for pending() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if pending() {
		t.Fatal("the release never ran")
	}
	releaseMemory(false)
	if pending() {
		t.Fatal("work after the release scheduled another")
	}
}

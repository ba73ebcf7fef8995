package controller

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// While the controller loads the SB and compiles and installs a whole
// flow table, its live heap grows from almost nothing to its steady size
// (130-150 MB for the benchmark's 10,000 ports), and the garbage of the
// compile comes on top. With the steady-state GC target of 50 the
// collector ran some thirty times on the way, a third of the start-up
// CPU. During bulk work the heap may therefore grow to twice its live
// size (GOGC 100). When the bulk work is over (releaseMemory's pause, or
// after bulkGCMax at the latest) the steady-state target comes back.
//
// At all times, from the first bulk work on, memory in all is capped at
// heapCap unless the live heap needs more (then at 1.4 times the live
// heap, a little less than GOGC 50 would allow): the cap bounds GOGC 100 during bulk
// work, and in steady state it bounds a goal that GOGC 50 took from a
// collection whose live heap counted what was allocated while it marked
// (a forced collection during a compile once counted 193 MB live, the
// next 150 MB, and the goal of 290 MB set VmHWM). 200 MiB: VmHWM is
// the cap plus the binary's mapped pages (~16 MiB) and what the heap
// overshoots the soft limit by while a collection marks. In the
// benchmark (live heap 130-145 MB while the table compiles, on a
// machine at load 5-9), VmHWM 211-222 MiB with 200 against 234-237
// with 225, for 27-28 collections to installed instead of 21-23 (at
// ~60 ms of CPU each on a quiet machine); 190 gave 214-222 MiB, the
// 1.5x of the live heap taking over, for 30-31 collections.
//
// The policy only applies when neither GOGC nor GOMEMLIMIT is set in the
// environment: an operator's settings win.
const (
	bulkGCPercent = 100
	heapCap       = 200 << 20
	bulkGCMax     = 2 * time.Minute
)

var bulkGC struct {
	sync.Mutex
	on      bool
	percent int // the steady-state GC percent to restore
	stop    *time.Timer
	// capping says the memory limit follows the live heap: a
	// finalizer runs after every collection (see armCycle).
	capping bool
	// live is the live heap the previous collection found.
	live uint64
}

// tuneGC reports whether the controller may change the GC settings.
func tuneGC() bool {
	_, gogc := os.LookupEnv("GOGC")
	_, limit := os.LookupEnv("GOMEMLIMIT")
	return !gogc && !limit
}

// beginBulkGC switches to the bulk-work GC settings until endBulkGC.
func beginBulkGC() {
	if !tuneGC() {
		return
	}
	bulkGC.Lock()
	defer bulkGC.Unlock()
	if bulkGC.stop != nil {
		bulkGC.stop.Reset(bulkGCMax)
	} else {
		bulkGC.stop = time.AfterFunc(bulkGCMax, endBulkGC)
	}
	if !bulkGC.capping {
		bulkGC.capping = true
		debug.SetMemoryLimit(heapCap)
		armCycle()
	}
	if bulkGC.on {
		return
	}
	bulkGC.on = true
	bulkGC.percent = debug.SetGCPercent(bulkGCPercent)
}

// endBulkGC restores the steady-state GC target; the memory cap stays.
func endBulkGC() {
	bulkGC.Lock()
	defer bulkGC.Unlock()
	if !bulkGC.on {
		return
	}
	bulkGC.on = false
	bulkGC.stop.Stop()
	debug.SetGCPercent(bulkGC.percent)
}

// armCycle sets a finalizer that runs after the next collection, to
// move the cap with the live heap. bulkGC is held.
func armCycle() {
	// b is unreachable once this returns, so the next collection
	// queues its finalizer.
	b := new([16]byte)
	runtime.SetFinalizer(b, func(*[16]byte) {
		bulkGC.Lock()
		defer bulkGC.Unlock()
		live := liveHeap()
		debug.SetMemoryLimit(nextCap(bulkGC.live, live))
		bulkGC.live = live
		armCycle()
	})
}

// nextCap is the memory limit after a collection that found live bytes
// live, the one before prev: the cap follows the smaller. What a
// collection counts as live includes everything allocated while it
// marked, and a long mark during a parallel compile once counted 226 MB
// of a heap that the next collection found to be 138 MB live: the cap
// that followed the one figure let the heap grow to 300 MB (VmHWM
// 353 MiB). A live heap that has really outgrown the cap raises it one
// collection later.
func nextCap(prev, live uint64) int64 { return bulkCap(min(prev, live)) }

// bulkCap is the memory limit for a live heap of live bytes.
func bulkCap(live uint64) int64 {
	// 1.4 x live counts the runtime's own memory (stacks, metadata)
	// against the heap's headroom: below GOGC 50's goal. With 1.5, the
	// live heap of the work right after the first install (the ports'
	// claims and an lsp-add compiled again: 142-145 MB against 128 MB
	// once it is done) took the cap to 213-218 MiB and VmHWM to
	// 223-229 MiB in two of eight runs of the benchmark at the 200 MiB
	// floor; with 1.4, 210-216 MiB in four, for as many collections to
	// installed. (Earlier, 1.5 against 32 MiB more: VmHWM 283-337 MiB
	// against 301-396, 5.6-7.1 s against 6.1-11.2 s of CPU.)
	c := float64(live) * 1.4
	if c > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return max(heapCap, int64(c))
}

// liveHeap is the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

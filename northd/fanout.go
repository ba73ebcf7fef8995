package northd

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// fanoutMin is the number of calls below which fanout runs them in the
// calling goroutine: an incremental round recomputes a switch or two,
// which is over before a goroutine would start.
const fanoutMin = 16

// fanout is the engine's build.Fanout: it spreads the calls over the
// cores (runtime.GOMAXPROCS), the calling goroutine taking its share,
// and returns when all have returned. After a bulk load the engine
// computes 500 switches, a third of a round's CPU, which on two cores
// then takes half the time.
func fanout(n int, work func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/(fanoutMin/2))
	if n < fanoutMin || workers < 2 {
		for i := range n {
			work(i)
		}
		return
	}
	var next atomic.Int64
	run := func() {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			work(i)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(run)
	}
	run()
	wg.Wait()
}

package controller

import (
	"runtime"
	"sync"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// parallelMin is the number of lflows from which a round compiles on
// every core: a new view (57,661 lflows in the benchmark's SB) takes
// seconds on one, while the other cores wait (ovs-vswitchd has nothing
// to do before the flows come). Below it, the hand-over costs more than
// it saves.
const parallelMin = 2048

// compileBatch is one round's compiles. The loop decides on its own
// goroutine what to compile and what to drop, in the order it did when
// compiling one lflow at a time; with workers, forks of the loop's
// compiler compile meanwhile, and the loop applies each result (flows
// into the desired table, references into the reverse index) as it
// comes. Only the loop's goroutine touches the desired table, the
// reverse index and the view's indexes; the workers read the view.
type compileBatch struct {
	l   *loop
	env *compileEnv
	// jobs and results are nil for a batch compiled on the loop's
	// goroutine.
	jobs    chan compileJob
	results chan compileResult
	wg      sync.WaitGroup
	queued  int // jobs sent and not yet applied
	// logged is the lflows whose error the batch has logged: one per
	// lflow, however many datapath units fail.
	logged map[string]bool
	// whole is the lflows compileOne has handled in this batch.
	whole map[string]bool
}

type compileJob struct {
	unit string
	lf   *sbdb.LogicalFlow
	dps  []uint32
}

type compileResult struct {
	compileJob
	flows []flowtable.Flow
	refs  lflowc.Refs
	err   error
}

// newCompileBatch starts a batch for about n compiles.
func (l *loop) newCompileBatch(env *compileEnv, n int) *compileBatch {
	b := &compileBatch{l: l, env: env, logged: map[string]bool{}, whole: map[string]bool{}}
	workers := runtime.GOMAXPROCS(0)
	if l.feed != nil && workers > 1 {
		// The flows stream to the switch as they compile, and
		// ovs-vswitchd's parse of them, on one core, is the longer
		// pole: a core is left to it. In controllerbench on 2 shared
		// cores, with the loop waiting on the socket (load 1.5-4,
		// nine interleaved runs each) the first round took 3.7-7.5 s
		// (median 5.5) with one worker and 3.3-9.2 s (median 5.7)
		// with two; with the stream's own sender (load 0.6-1.3, two
		// pairs) 2.87-3.19 s against 3.16-3.47 s, for 3.3-3.7 s of CPU
		// to installed against 3.8-4.1 s.
		workers--
	}
	min := parallelMin
	if l.parallelMin > 0 {
		min = l.parallelMin
	}
	if n < min || workers < 2 {
		return b
	}
	b.jobs, b.results = make(chan compileJob, 256), make(chan compileResult, 256)
	for range workers {
		c := l.compiler.Fork()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for j := range b.jobs {
				flows, refs, err := c.Compile(compileInput(j.lf), j.dps, env)
				b.results <- compileResult{j, flows, refs, err}
			}
		}()
	}
	return b
}

// compile compiles lf as unit for dps, now or on a worker.
func (b *compileBatch) compile(lf *sbdb.LogicalFlow, unit string, dps []uint32) {
	j := compileJob{unit, lf, dps}
	if b.jobs == nil {
		flows, refs, err := b.l.compiler.Compile(compileInput(lf), dps, b.env)
		b.apply(compileResult{j, flows, refs, err})
		return
	}
	for {
		select {
		case b.jobs <- j:
			b.queued++
			return
		case r := <-b.results:
			b.queued--
			b.apply(r)
		}
	}
}

// finish waits for the workers and applies what is left.
func (b *compileBatch) finish() {
	if b.jobs == nil {
		return
	}
	close(b.jobs)
	for ; b.queued > 0; b.queued-- {
		b.apply(<-b.results)
	}
	b.wg.Wait()
}

// apply sets a unit's flows and references, logging its error once per
// lflow.
func (b *compileBatch) apply(r compileResult) {
	flows := r.flows
	if r.err != nil {
		if !b.logged[r.lf.UUID] {
			b.logged[r.lf.UUID] = true
			b.l.c.log.Warn("skipping logical flow", "uuid", r.lf.UUID, "pipeline", r.lf.Pipeline, "table", r.lf.TableID,
				"match", r.lf.Match, "actions", r.lf.Actions, "err", r.err)
		}
		flows = nil
	}
	b.l.desired.Set(r.unit, flows)
	b.l.setRefs(r.unit, refKeys(r.refs))
	if b.l.feed != nil {
		b.l.feed()
	}
}

// compileInput is what the compiler reads of lf.
func compileInput(lf *sbdb.LogicalFlow) lflowc.LogicalFlow {
	in := lflowc.LogicalFlow{UUID: lf.UUID, Pipeline: string(lf.Pipeline), TableID: lf.TableID,
		Priority: lf.Priority, Match: lf.Match, Actions: lf.Actions, Tags: lf.Tags}
	if lf.ControllerMeter != nil {
		in.ControllerMeter = *lf.ControllerMeter
	}
	return in
}

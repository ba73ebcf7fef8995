package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of all
// samples are less than or equal to it. sorted must be ascending.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// Multiply before dividing so that e.g. p=99, n=100 gives exactly 99.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	rank = max(rank, 1)
	rank = min(rank, len(sorted))
	return sorted[rank-1]
}

// latencies summarizes samples that may come from several clients.
type latencies struct {
	p50, p99, max time.Duration
	n             int
}

func summarize(samples ...[]time.Duration) latencies {
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return latencies{}
	}
	return latencies{
		p50: percentile(all, 50),
		p99: percentile(all, 99),
		max: all[len(all)-1],
		n:   len(all),
	}
}

// cpuMeter measures a server's CPU time over an interval.
type cpuMeter struct {
	pid   int
	start time.Duration
	self  time.Duration // the load generator's own CPU time at start
	wall  time.Time
}

func startCPU(pid int) (cpuMeter, error) {
	t, err := cpuTime(pid)
	return cpuMeter{pid: pid, start: t, self: selfCPU(), wall: time.Now()}, err
}

// interval is what a cpuMeter measured.
type interval struct {
	cpu  time.Duration // server CPU time
	self time.Duration // load generator CPU time
	wall time.Duration
}

func (m cpuMeter) stop() (interval, error) {
	wall := time.Since(m.wall)
	self := selfCPU() - m.self
	t, err := cpuTime(m.pid)
	return interval{cpu: t - m.start, self: self, wall: wall}, err
}

// medians merges the metrics of several rounds of one scenario on one
// server: each figure becomes its median (for an even count, the lower
// middle one, so that it is a value that was actually measured).
func medians(rounds [][]metric) []metric {
	if len(rounds) == 0 {
		return nil
	}
	out := slices.Clone(rounds[0])
	for i := range out {
		var vs []float64
		for _, r := range rounds {
			if i < len(r) && r[i].label == out[i].label {
				vs = append(vs, r[i].value)
			}
		}
		slices.Sort(vs)
		out[i].value = vs[(len(vs)-1)/2]
	}
	return out
}

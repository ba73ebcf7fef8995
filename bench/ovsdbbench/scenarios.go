package main

import (
	"context"
	"fmt"
	"time"
)

// counts are the sizes of every measurement; -quick selects smaller ones.
type counts struct {
	insert1, insert8       insertLoad
	durable1, durable8     insertLoad
	fanout                 fanoutLoad
	cold                   dataset
	memRows, memRowsPerTxn int
}

var fullCounts = counts{
	insert1:  insertLoad{clients: 1, warmup: 2000, count: 20000},
	insert8:  insertLoad{clients: 8, warmup: 250, count: 80000},
	durable1: insertLoad{clients: 1, warmup: 200, count: 5000, durable: true},
	durable8: insertLoad{clients: 8, warmup: 50, count: 20000, durable: true},
	fanout:   fanoutLoad{subscribers: 100, warmup: 100, commits: 2000},
	cold:     dataset{switches: 500, ports: 20, opsPerTxn: 500},
	memRows:  100000, memRowsPerTxn: 1,
}

var quickCounts = counts{
	insert1:  insertLoad{clients: 1, warmup: 200, count: 2000},
	insert8:  insertLoad{clients: 8, warmup: 25, count: 8000},
	durable1: insertLoad{clients: 1, warmup: 20, count: 500, durable: true},
	durable8: insertLoad{clients: 8, warmup: 5, count: 2000, durable: true},
	fanout:   fanoutLoad{subscribers: 100, warmup: 20, commits: 200},
	cold:     dataset{switches: 100, ports: 20, opsPerTxn: 500},
	memRows:  20000, memRowsPerTxn: 1,
}

// scenario is one measurement run on one side at a time, in its own
// directory with fresh databases.
type scenario struct {
	name string // for -run
	run  func(ctx context.Context, s *side, dir string) ([]metric, error)
}

func scenarios(c counts, timeout time.Duration) []scenario {
	return []scenario{
		{"insert1", insertScenario("insert, 1 client", c.insert1, 1.0, timeout)},
		{"insert8", insertScenario("insert, 8 clients", c.insert8, 1.5, timeout)},
		{"durable1", insertScenario("durable insert, 1 client", c.durable1, 1.0, timeout)},
		{"durable8", insertScenario("durable insert, 8 clients", c.durable8, 1.5, timeout)},
		{"fanout", fanoutScenario(c.fanout, timeout)},
		{"cold", coldScenario(c.cold)},
		{"memory", memoryScenario(c.memRows, c.memRowsPerTxn)},
	}
}

// startFresh creates empty databases in dir and starts the server there.
func startFresh(ctx context.Context, s *side, dir string) (*server, error) {
	if err := s.create(dir); err != nil {
		return nil, err
	}
	return s.start(ctx, dir)
}

// stopChecked stops srv and turns "it had died" into the run's error.
func stopChecked(srv *server, err *error) {
	if stopErr := srv.stop(); *err == nil && stopErr != nil {
		*err = stopErr
	}
}

func insertScenario(label string, load insertLoad, throughputTarget float64, timeout time.Duration) func(context.Context, *side, string) ([]metric, error) {
	return func(ctx context.Context, s *side, dir string) (ms []metric, err error) {
		srv, err := startFresh(ctx, s, dir)
		if err != nil {
			return nil, err
		}
		defer stopChecked(srv, &err)
		r, err := runInserts(ctx, srv, load, timeout)
		if err != nil {
			return nil, err
		}
		n := float64(r.txns)
		return []metric{
			{label: label + ": throughput", unit: "txn/s", value: n / r.wall.Seconds(), higherBetter: true, target: throughputTarget},
			{label: label + ": latency p50", unit: "µs", value: micros(r.latency.p50)},
			{label: label + ": latency p99", unit: "µs", value: micros(r.latency.p99)},
			{label: label + ": server CPU per txn", unit: "µs", value: micros(r.cpu) / n, target: 0.5},
			{label: label + ": load generator CPU per txn", unit: "µs", value: micros(r.self) / n},
		}, nil
	}
}

func fanoutScenario(load fanoutLoad, timeout time.Duration) func(context.Context, *side, string) ([]metric, error) {
	label := fmt.Sprintf("fan-out to %d monitors", load.subscribers)
	return func(ctx context.Context, s *side, dir string) (ms []metric, err error) {
		srv, err := startFresh(ctx, s, dir)
		if err != nil {
			return nil, err
		}
		defer stopChecked(srv, &err)
		r, err := runFanout(ctx, srv, load, timeout)
		if err != nil {
			return nil, err
		}
		return []metric{
			{label: label + ": commit→last client p50", unit: "ms", value: millis(r.latency.p50), target: 0.5},
			{label: label + ": commit→last client p99", unit: "ms", value: millis(r.latency.p99)},
			{label: label + ": server CPU per delivered update", unit: "µs", value: micros(r.cpu) / float64(r.updates), target: 0.5},
			{label: label + ": load generator CPU per update", unit: "µs", value: micros(r.self) / float64(r.updates)},
		}, nil
	}
}

func coldScenario(d dataset) func(context.Context, *side, string) ([]metric, error) {
	label := fmt.Sprintf("cold start, %d-port NB + SB", d.switches*d.ports)
	return func(ctx context.Context, s *side, dir string) ([]metric, error) {
		r, err := runColdStart(ctx, s, dir, d)
		if err != nil {
			return nil, err
		}
		return []metric{
			{label: label + ": load by transactions", unit: "s", value: r.load.Seconds()},
			{label: label + ": start → first list_dbs", unit: "ms", value: millis(r.firstListDB)},
			{label: label + ": start → full NB monitor read", unit: "ms", value: millis(r.monitored)},
			{label: label + ": RSS after start", unit: "MB", value: megabytes(r.rss), target: 1},
		}, nil
	}
}

func memoryScenario(rows, perTxn int) func(context.Context, *side, string) ([]metric, error) {
	return func(ctx context.Context, s *side, dir string) ([]metric, error) {
		r, err := runMemory(ctx, s, dir, rows, perTxn)
		if err != nil {
			return nil, err
		}
		return []metric{
			{label: "fresh NB: RSS empty", unit: "MB", value: megabytes(r.empty)},
			{label: fmt.Sprintf("fresh NB: RSS after %d small rows", rows), unit: "MB", value: megabytes(r.loaded), target: 1},
		}, nil
	}
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func megabytes(b int64) float64      { return float64(b) / (1 << 20) }

package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// insertLoad describes one run of measurement 1 or 2: clients connections,
// each doing warmup and then count/clients single-row transactions, one at
// a time.
type insertLoad struct {
	clients int
	warmup  int // per client, not measured
	count   int // total measured transactions over all clients
	durable bool
}

// insertResult is what one insert run measured on one server.
type insertResult struct {
	txns int
	interval
	latency latencies
}

// appendInsertParams encodes the params of a transaction inserting one
// Logical_Switch named after client and seq, optionally with a durable
// commit.
func appendInsertParams(b []byte, prefix string, client, seq int, durable bool) []byte {
	b = append(b, `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"`...)
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(client), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","external_ids":["map",[["bench-client","`...)
	b = strconv.AppendInt(b, int64(client), 10)
	b = append(b, `"],["bench-seq","`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `"]]]}}`...)
	if durable {
		b = append(b, `,{"op":"commit","durable":true}`...)
	}
	return append(b, ']')
}

// runInserts runs load against srv and measures it. The CPU and wall
// interval starts once every client has finished its warm-up.
func runInserts(ctx context.Context, srv *server, load insertLoad, timeout time.Duration) (insertResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	perClient := load.count / load.clients
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		samples     = make([][]time.Duration, load.clients)
		errOnce     sync.Once
		firstErr    error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	ready.Add(load.clients)
	done.Add(load.clients)
	for i := range load.clients {
		go func() {
			defer done.Done()
			s, err := insertClient(ctx, srv, load, i, perClient, &ready, start)
			samples[i] = s
			if err != nil {
				fail(fmt.Errorf("client %d: %w", i, err))
			}
		}()
	}
	ready.Wait()
	meter, err := startCPU(srv.pid())
	if err != nil {
		cancel()
	}
	close(start)
	done.Wait()
	if firstErr != nil {
		return insertResult{}, firstErr
	}
	if err != nil {
		return insertResult{}, err
	}
	iv, err := meter.stop()
	return insertResult{txns: perClient * load.clients, interval: iv, latency: summarize(samples...)}, err
}

// insertClient is one simulated client. It always calls ready.Done once,
// after the warm-up or on failure, so that runInserts never waits for a
// client that died early.
func insertClient(ctx context.Context, srv *server, load insertLoad, id, n int, ready *sync.WaitGroup, start <-chan struct{}) ([]time.Duration, error) {
	readyOnce := sync.OnceFunc(ready.Done)
	defer readyOnce()
	c, err := dial(srv.nbSock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stopClose := context.AfterFunc(ctx, func() { c.Close() })
	defer stopClose()
	var params []byte
	seq := 0
	for ; seq < load.warmup; seq++ {
		params = appendInsertParams(params[:0], "warm-c", id, seq, load.durable)
		if err := c.transactOK(params); err != nil {
			return nil, err
		}
	}
	readyOnce()
	select {
	case <-start:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		params = appendInsertParams(params[:0], "ls-c", id, i, load.durable)
		t0 := time.Now()
		if err := c.transactOK(params); err != nil {
			return lat, err
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, nil
}

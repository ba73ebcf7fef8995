package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fanoutLoad describes measurement 3: one writer inserting a Logical_Switch
// per transaction, one at a time, and subscribers monitoring the whole
// table with monitor_cond.
type fanoutLoad struct {
	subscribers int
	warmup      int    // commits before measuring
	commits     int    // measured commits
	readers     string // how the subscribers are read: readersPoll or readersGoroutines
}

type fanoutResult struct {
	commits, updates int
	interval
	latency latencies // commit sent → last subscriber parsed the row
}

// arrivals counts, per row uuid, how many subscribers have seen the row
// and when the last one did.
type arrivals struct {
	mu   sync.Mutex // guards rows
	want int
	rows map[string]*arrival
}

type arrival struct {
	n    int
	last time.Time
	done chan struct{} // closed when n reaches want
}

func newArrivals(want int) *arrivals {
	return &arrivals{want: want, rows: make(map[string]*arrival)}
}

func (a *arrivals) entryLocked(uuid string) *arrival {
	e := a.rows[uuid]
	if e == nil {
		e = &arrival{done: make(chan struct{})}
		a.rows[uuid] = e
	}
	return e
}

func (a *arrivals) seen(uuid string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entryLocked(uuid)
	e.n++
	if at.After(e.last) {
		e.last = at
	}
	if e.n == a.want {
		close(e.done)
	}
}

// wait returns the entry for uuid; its done channel closes once every
// subscriber saw it, after which last is stable.
func (a *arrivals) wait(uuid string) *arrival {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.entryLocked(uuid)
}

func (a *arrivals) forget(uuid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.rows, uuid)
}

// updateRowUUID is the subscribers' cheap check: if frame is an update2
// notification for Logical_Switch, it returns the uuid of the (first) row
// in it, found by scanning rather than decoding. ok is false for any other
// message, which then goes through the full decoder.
func updateRowUUID(frame []byte) (uuid string, ok bool) {
	v, ok := valueAfterKey(frame, `"method"`)
	if !ok || !bytes.HasPrefix(v, []byte(`"update2"`)) {
		return "", false
	}
	v, ok = valueAfterKey(frame, `"Logical_Switch"`)
	if !ok || len(v) < 2 || v[0] != '{' {
		return "", false
	}
	v = v[skipSpace(v, 1):]
	if len(v) < 38 || v[0] != '"' || v[37] != '"' {
		return "", false
	}
	return string(v[1:37]), true
}

// valueAfterKey returns what follows key and its colon in b.
func valueAfterKey(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := b[skipSpace(b, i+len(key)):]
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	return rest[skipSpace(rest, 1):], true
}

var monitorAllSwitches = []byte(`{"Logical_Switch":[{"where":[true]}]}`)

// subscribe opens a monitor_cond on Logical_Switch and returns the
// connection with the initial reply consumed.
func subscribe(srv *server, id int) (*conn, error) {
	c, err := dial(srv.nbSock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	params := fmt.Appendf(nil, `["OVN_Northbound",%d,%s]`, id, monitorAllSwitches)
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.call("monitor_cond", params); err != nil {
		c.Close()
		return nil, err
	}
	c.nc.SetDeadline(time.Time{})
	return c, nil
}

// subscriberRoutine reads notifications until the connection is closed,
// recording every row it finds in an update2.
func subscriberRoutine(c *conn, a *arrivals, fail func(error)) {
	for {
		frame, err := c.fr.next()
		if err != nil {
			fail(err)
			return
		}
		if err := notice(c, frame, a, time.Now()); err != nil {
			fail(err)
			return
		}
	}
}

// notice handles one message a subscriber read at time at: the row of
// an update2 is recorded, an echo request answered; an update2 without a
// Logical_Switch row is an error.
func notice(c *conn, frame []byte, a *arrivals, at time.Time) error {
	if uuid, ok := updateRowUUID(frame); ok {
		a.seen(uuid, at)
		return nil
	}
	m, err := c.decode(frame)
	if err != nil {
		return err
	}
	if m != nil && m.Method == "update2" {
		return fmt.Errorf("update2 without a Logical_Switch row: %.200s", frame)
	}
	return nil
}

// How the subscribers are read (-fanout-readers).
const (
	readersPoll       = "poll"       // one goroutine, epoll (subPoller)
	readersGoroutines = "goroutines" // a goroutine per subscriber
)

// readSubscribers starts reading conns in the given way; stop ends the
// reading and closes them.
func readSubscribers(readers string, conns []*conn, a *arrivals, fail func(error)) (stop func(), err error) {
	switch readers {
	case readersPoll:
		return readPolled(conns, a, fail)
	case readersGoroutines:
		return readGoroutines(conns, a, fail), nil
	}
	return nil, fmt.Errorf("-fanout-readers %q: want %s or %s", readers, readersPoll, readersGoroutines)
}

// readGoroutines reads each of conns in a goroutine of its own.
func readGoroutines(conns []*conn, a *arrivals, fail func(error)) (stop func()) {
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); subscriberRoutine(c, a, fail) }()
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}
}

func runFanout(ctx context.Context, srv *server, load fanoutLoad, timeout time.Duration) (fanoutResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a := newArrivals(load.subscribers)
	var (
		closing atomic.Bool // set before the subscribers are closed on return
		subErr  atomic.Pointer[error]
		subs    []*conn
		stop    func()
	)
	fail := func(err error) {
		if !closing.Load() && subErr.CompareAndSwap(nil, &err) {
			cancel()
		}
	}
	defer func() {
		closing.Store(true)
		if stop != nil {
			stop()
			return
		}
		for _, c := range subs {
			c.Close()
		}
	}()
	for i := range load.subscribers {
		c, err := subscribe(srv, i)
		if err != nil {
			return fanoutResult{}, fmt.Errorf("subscriber %d: %w", i, err)
		}
		subs = append(subs, c)
	}
	stop, err := readSubscribers(load.readers, subs, a, fail)
	if err != nil {
		return fanoutResult{}, err
	}
	w, err := dial(srv.nbSock, 5*time.Second)
	if err != nil {
		return fanoutResult{}, err
	}
	defer w.Close()
	stopClose := context.AfterFunc(ctx, func() { w.Close() })
	defer stopClose()
	var lat []time.Duration
	var meter cpuMeter
	for i := range load.warmup + load.commits {
		if i == load.warmup {
			if meter, err = startCPU(srv.pid()); err != nil {
				return fanoutResult{}, err
			}
		}
		d, err := fanoutCommit(ctx, w, a, i)
		if err != nil {
			if p := subErr.Load(); p != nil {
				err = fmt.Errorf("subscriber: %w", *p)
			}
			return fanoutResult{}, fmt.Errorf("commit %d: %w", i, err)
		}
		if i >= load.warmup {
			lat = append(lat, d)
		}
	}
	iv, err := meter.stop()
	return fanoutResult{
		commits: load.commits, updates: load.commits * load.subscribers,
		interval: iv, latency: summarize(lat),
	}, err
}

// fanoutCommit inserts one row and waits until every subscriber saw it.
func fanoutCommit(ctx context.Context, w *conn, a *arrivals, seq int) (time.Duration, error) {
	params := appendFanoutParams(nil, seq)
	t0 := time.Now()
	res, err := w.transact(params)
	if err != nil {
		return 0, err
	}
	uuid := res[0].uuidOf()
	e := a.wait(uuid)
	select {
	case <-e.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("waiting for subscribers: %w", ctx.Err())
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("not every subscriber saw row %s within 30 s", uuid)
	}
	a.forget(uuid)
	return e.last.Sub(t0), nil
}

func appendFanoutParams(b []byte, seq int) []byte {
	b = append(b, `["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"fan-`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","external_ids":["map",[["bench","fanout"],["bench-seq","`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	return append(b, `"]]]}}]`...)
}

package openflow

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestConnBundleLargeRefusal: in a bundle of 50,000 adds, the switch
// refuses three; the error names the first, rebuilt from its index, the
// refusals do not leak onto Async, and the connection carries on.
func TestConnBundleLargeRefusal(t *testing.T) {
	refused := map[int]bool{31337: true, 31338: true, 49999: true}
	c := newBigPeer(t, &bigPeer{refuse: func(i int, _ uint32) bool { return refused[i] }})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 50000
	err := c.BundleFunc(ctx, 1, n, bundleFlow)
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != 31337 || be.Err.Code != 3 {
		t.Fatalf("bundle with refused adds: %v, want message 31337 refused", err)
	}
	want, _ := bundleFlow(31337)
	if got := be.Message.(*FlowMod).DumpString(); got != want.(*FlowMod).DumpString() {
		t.Errorf("refused message = %s, want %s", got, want.(*FlowMod).DumpString())
	}
	if err := c.BundleFunc(ctx, 2, 1000, bundleFlow); err != nil {
		t.Fatalf("next bundle: %v", err)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-c.Async():
		t.Errorf("async got %#v: a bundle's error leaked", m)
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bundles) != 0 || len(c.pending) != 0 {
		t.Errorf("after the bundles: %d bundles and %d calls still open", len(c.bundles), len(c.pending))
	}
}

// TestConnBundleInterleaved: while a bundle is in flight, other requests
// (barriers, a streamed dump) come and go on the same connection, the
// switch sends packet-ins and an error for an xid outside the bundle; each
// reaches its own caller, and the bundle's refusal still names the right
// message.
func TestConnBundleInterleaved(t *testing.T) {
	p := &bigPeer{dump: bigDump(t, 3000),
		refuse: func(i int, _ uint32) bool { return i == 7000 },
		between: func(i int, xid uint32) []byte {
			switch {
			case i%1000 == 500:
				b, _ := Marshal(0, &PacketIn2{Packet: arpPacket, TableID: uint8(i / 1000)})
				return b
			case i == 9999:
				// Just before the bundle's first add (the open's,
				// answered long ago): not the bundle's.
				b, _ := Marshal(xid-10000, &Error{ErrType: 1, Code: 1})
				return b
			}
			return nil
		}}
	c := newBigPeer(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bundleStarted := make(chan struct{})
	var wg sync.WaitGroup
	var otherErr error
	var dumped int
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-bundleStarted
		for range 20 {
			if otherErr = c.Barrier(ctx); otherErr != nil {
				return
			}
			dumped = 0
			otherErr = c.DumpFlowsFunc(ctx, NewFlowStatsRequest(), func(FlowStats) error { dumped++; return nil })
			if otherErr != nil {
				return
			}
		}
	}()
	err := c.BundleFunc(ctx, 1, 10000, func(i int) (Message, error) {
		if i == 100 {
			close(bundleStarted)
		}
		return bundleFlow(i)
	})
	wg.Wait()
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != 7000 {
		t.Fatalf("bundle: %v, want message 7000 refused", err)
	}
	if otherErr != nil || dumped != 3000 {
		t.Fatalf("requests during the bundle: %v, last dump %d flows of 3000", otherErr, dumped)
	}
	var tables []uint8
	for len(tables) < 11 {
		select {
		case m := <-c.Async():
			switch m := m.(type) {
			case *PacketIn2:
				tables = append(tables, m.TableID)
			case *Error:
				tables = append(tables, 255)
			default:
				t.Fatalf("async got %T", m)
			}
		case <-ctx.Done():
			t.Fatalf("async got %v only", tables)
		}
	}
	want := []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255}
	for i := range want {
		if tables[i] != want[i] {
			t.Fatalf("async got %v, want packet-ins from tables 0-9 then the stray error", tables)
		}
	}
}

// TestConnBundleConnectionDies: the switch goes away in the middle of a
// bundle; BundleFunc returns an error rather than waiting, and the
// connection says it is closed.
func TestConnBundleConnectionDies(t *testing.T) {
	c := newBigPeer(t, &bigPeer{closeAt: 20000})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.BundleFunc(ctx, 1, 50000, bundleFlow); err == nil {
		t.Fatal("bundle to a switch that went away succeeded")
	}
	<-c.done
	if err := c.Barrier(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("barrier after the switch went away: %v", err)
	}
}

// TestConnBundleTimeout: a commit the switch never answers ends with the
// context, and the bundle's xids stop being routed to it.
func TestConnBundleTimeout(t *testing.T) {
	c := newBigPeer(t, &bigPeer{silentCommit: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.BundleFunc(ctx, 1, 100, bundleFlow); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("bundle with no commit reply: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bundles) != 0 {
		t.Errorf("%d bundles still open after the timeout", len(c.bundles))
	}
}

// TestConnBundleBadCount: a negative count is an error, not a panic.
func TestConnBundleBadCount(t *testing.T) {
	c := newBigPeer(t, &bigPeer{})
	if err := c.BundleFunc(context.Background(), 1, -1, bundleFlow); err == nil {
		t.Fatal("bundle of -1 messages succeeded")
	}
}

// TestDumpFlowsFuncBounded streams a dump of 100,000 flows (about 40
// replies) and checks that the live heap stays small while it runs: the
// connection holds a few replies, not the dump.
func TestDumpFlowsFuncBounded(t *testing.T) {
	const n = 100000
	c := newBigPeer(t, &bigPeer{dump: bigDump(t, n)})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	i := 0
	err := c.DumpFlowsFunc(ctx, NewFlowStatsRequest(), func(f FlowStats) error {
		if i%5000 == 0 {
			want := dumpFlow(i)
			if f.String() != want.String() {
				t.Fatalf("flow %d = %s, want %s", i, f, want)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("dump: %d flows, %v", i, err)
	}
	// The dump is about 15 MB encoded and 45 MB decoded.
	grew := int64(peak) - int64(base)
	t.Logf("live heap grew by at most %d bytes while streaming %d flows", grew, n)
	if grew > 4<<20 {
		t.Errorf("live heap grew by %d bytes during the dump", grew)
	}
	// For scale: the same dump decoded whole, as DumpFlows returns it.
	flows, err := c.DumpFlows(ctx, NewFlowStatsRequest())
	if err != nil || len(flows) != n {
		t.Fatalf("dump: %d flows, %v", len(flows), err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	held := int64(ms.HeapAlloc) - int64(base)
	runtime.KeepAlive(flows)
	t.Logf("DumpFlows of the same dump holds %d bytes", held)
	if grew*10 > held {
		t.Errorf("streaming grew the heap by %d bytes, over a tenth of the whole dump's %d", grew, held)
	}
}

// TestDumpFlowsFuncStops: an error from the callback, or the context,
// ends the dump; the rest of the reply is dropped (not sent to Async) and
// the connection carries on.
func TestDumpFlowsFuncStops(t *testing.T) {
	c := newBigPeer(t, &bigPeer{dump: bigDump(t, 20000)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stop := errors.New("enough")
	seen := 0
	err := c.DumpFlowsFunc(ctx, NewFlowStatsRequest(), func(FlowStats) error {
		if seen++; seen == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 10 {
		t.Fatalf("dump stopped by its callback: %v after %d flows", err, seen)
	}
	short, cancel2 := context.WithCancel(ctx)
	err = c.DumpFlowsFunc(short, NewFlowStatsRequest(), func(FlowStats) error { cancel2(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("dump whose context ends: %v", err)
	}
	flows, err := c.DumpFlows(ctx, NewFlowStatsRequest())
	if err != nil || len(flows) != 20000 {
		t.Fatalf("next dump: %d flows, %v", len(flows), err)
	}
	select {
	case m := <-c.Async():
		t.Errorf("async got %T: an abandoned dump's parts leaked", m)
	default:
	}
}

// TestDumpFlowsFuncClose: a callback may close the connection (the
// reader, waiting for the callback to take more parts, gives up), and the
// dump ends with ErrClosed.
func TestDumpFlowsFuncClose(t *testing.T) {
	c := newBigPeer(t, &bigPeer{dump: bigDump(t, 50000)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := true
	err := c.DumpFlowsFunc(ctx, NewFlowStatsRequest(), func(FlowStats) error {
		if first {
			first = false
			time.Sleep(100 * time.Millisecond) // the reader fills the queue and waits
			c.Close()
		}
		return nil
	})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("dump whose callback closes the connection: %v", err)
	}
}

// TestConnBundleXidWrap: a bundle whose adds would run past the last xid
// starts its range again from 1, and its refusal is still found.
func TestConnBundleXidWrap(t *testing.T) {
	xids := make(chan uint32, 1)
	c := newBigPeer(t, &bigPeer{refuse: func(i int, xid uint32) bool {
		if i == 0 {
			xids <- xid
		}
		return i == 50
	}})
	c.mu.Lock()
	c.xid = math.MaxUint32 - 10
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.BundleFunc(ctx, 1, 100, bundleFlow)
	var be *BundleMessageError
	if !errors.As(err, &be) || be.Index != 50 {
		t.Fatalf("bundle across the xid wrap: %v, want message 50 refused", err)
	}
	if first := <-xids; first != 1 {
		t.Errorf("first add's xid = %d, want 1", first)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
}

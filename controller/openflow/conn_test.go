package openflow

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeSwitch answers a Conn over a pipe with canned behaviour.
type fakeSwitch struct {
	t  *testing.T
	nc net.Conn
	wg sync.WaitGroup
	// got records every message the switch received after the hello.
	mu  sync.Mutex
	got []Message
}

func newFakeSwitch(t *testing.T, nc net.Conn, handle func(s *fakeSwitch, xid uint32, m Message)) *fakeSwitch {
	s := &fakeSwitch{t: t, nc: nc}
	s.wg.Add(1)
	go s.routineServe(handle)
	t.Cleanup(func() { nc.Close(); s.wg.Wait() })
	return s
}

func (s *fakeSwitch) send(xid uint32, m Message) {
	b, err := Marshal(xid, m)
	if err != nil {
		s.t.Errorf("fake switch marshal: %v", err)
		return
	}
	s.nc.Write(b)
}

func (s *fakeSwitch) routineServe(handle func(s *fakeSwitch, xid uint32, m Message)) {
	defer s.wg.Done()
	s.send(1, &Hello{Versions: []uint8{1, 4, 6}})
	for {
		b, err := readMessage(s.nc)
		if err != nil {
			return
		}
		xid, m, err := Unmarshal(b)
		if err != nil {
			s.t.Errorf("fake switch unmarshal: %v", err)
			return
		}
		if _, ok := m.(*Hello); ok {
			continue
		}
		s.mu.Lock()
		s.got = append(s.got, m)
		s.mu.Unlock()
		handle(s, xid, m)
	}
}

// ovsLike answers the way ovs-vswitchd does for the messages Conn sends;
// flow mods with priority 666 fail.
func ovsLike(s *fakeSwitch, xid uint32, m Message) {
	switch m := m.(type) {
	case *BarrierRequest:
		s.send(xid, &BarrierReply{})
	case *FeaturesRequest:
		s.send(xid, &FeaturesReply{DatapathID: 0xabc, NTables: 254})
	case *BundleControl:
		s.send(xid, &BundleControl{BundleID: m.BundleID, CtlType: m.CtlType + 1, Flags: m.Flags})
	case *BundleAdd:
		if fm, ok := m.Message.(*FlowMod); ok && fm.Priority == 666 {
			s.send(xid, &Error{ErrType: 5, Code: 3})
		}
	case *FlowStatsRequest:
		s.send(xid, &FlowStatsReply{Flags: MultipartMore, Flows: []FlowStats{{Table: 1, Priority: 1}}})
		s.send(xid, &FlowStatsReply{Flows: []FlowStats{{Table: 2, Priority: 2}}})
	case *EchoRequest:
		s.send(xid, &EchoReply{Data: m.Data})
	case *EchoReply:
	}
}

// socketPair returns two ends of a buffered local stream connection (a
// net.Pipe would deadlock: both ends write their hello first).
func socketPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", t.TempDir()+"/of.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func newTestConn(t *testing.T, handle func(*fakeSwitch, uint32, Message)) (*Conn, *fakeSwitch) {
	a, b := socketPair(t)
	s := newFakeSwitch(t, b, handle)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewConn(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, s
}

func TestConnRequests(t *testing.T) {
	c, _ := newTestConn(t, ovsLike)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Barrier(ctx); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	if err := c.Echo(ctx); err != nil {
		t.Fatalf("echo: %v", err)
	}
	f, err := c.Features(ctx)
	if err != nil || f.DatapathID != 0xabc {
		t.Fatalf("features = %+v, %v", f, err)
	}
	flows, err := c.DumpFlows(ctx, NewFlowStatsRequest())
	if err != nil {
		t.Fatalf("dump flows: %v", err)
	}
	if d := cmp.Diff([]FlowStats{{Table: 1, Priority: 1}, {Table: 2, Priority: 2}}, flows); d != "" {
		t.Errorf("dump flows (-want +got):\n%s", d)
	}
}

func TestConnBundle(t *testing.T) {
	c, s := newTestConn(t, ovsLike)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	good := NewFlowMod(FlowAdd, 0, 1)
	if err := c.Bundle(ctx, 1, []Message{good, good}); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	bad := NewFlowMod(FlowAdd, 0, 666)
	err := c.Bundle(ctx, 2, []Message{good, bad})
	var oe *Error
	if !errors.As(err, &oe) || oe.ErrType != 5 || oe.Code != 3 {
		t.Fatalf("bundle with a bad flow: err = %v, want OFPFMFC_OVERLAP", err)
	}
	if want := "bundle message 1 (*openflow.FlowMod): openflow error: OFPFMFC_OVERLAP"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var kinds []string
	for _, m := range s.got {
		switch m := m.(type) {
		case *BundleControl:
			kinds = append(kinds, bundleTypeNames[m.CtlType])
		case *BundleAdd:
			kinds = append(kinds, "ADD")
		}
	}
	want := []string{"OPEN_REQUEST", "ADD", "ADD", "COMMIT_REQUEST", "OPEN_REQUEST", "ADD", "ADD", "COMMIT_REQUEST"}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("switch saw (-want +got):\n%s", d)
	}
}

func TestConnAsyncAndEcho(t *testing.T) {
	c, s := newTestConn(t, ovsLike)
	s.send(77, &EchoRequest{Data: []byte("x")})
	s.send(0, &PacketIn2{Packet: arpPacket, TableID: 3, Userdata: []byte{1}})
	select {
	case m := <-c.Async():
		p, ok := m.(*PacketIn2)
		if !ok || p.TableID != 3 {
			t.Fatalf("async got %#v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no packet-in")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, m := range s.got {
		if e, ok := m.(*EchoReply); ok && string(e.Data) == "x" {
			found = true
		}
	}
	if !found {
		t.Errorf("no echo reply among %#v", s.got)
	}
}

func TestConnClose(t *testing.T) {
	c, _ := newTestConn(t, func(*fakeSwitch, uint32, Message) {})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Barrier(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("barrier to a silent switch: %v", err)
	}
	c.Close()
	if _, ok := <-c.Async(); ok {
		t.Fatal("async still open after Close")
	}
	if err := c.Barrier(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("barrier after close: %v", err)
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Fatalf("Err = %v", c.Err())
	}
}

func TestConnVersion(t *testing.T) {
	a, b := socketPair(t)
	defer a.Close()
	go func() {
		buf, _ := Marshal(1, &Hello{})
		buf[0] = 4 // an OpenFlow 1.3-only switch
		b.Write(buf)
		readMessage(b)
		b.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := NewConn(ctx, a, nil); !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v, want ErrVersion", err)
	}
}

// TestConnWriteGivesUp checks that a write to a switch that stops reading
// ends with the context and closes the connection.
func TestConnWriteGivesUp(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	c, _ := newTestConn(t, func(s *fakeSwitch, xid uint32, m Message) {
		if _, ok := m.(*BarrierRequest); ok {
			<-block // stop reading
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Send(ctx, &BarrierRequest{})
	big := NewFlowMod(FlowAdd, 0, 1)
	big.Instructions.Apply = []Action{&Note{Data: make([]byte, 60000)}}
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	var err error
	for range 1000 {
		if _, err = c.Send(short, big); err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send to a stuck switch: %v", err)
	}
	if err := c.Barrier(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("barrier after a failed write: %v", err)
	}
}

func TestConnHandshakeTimeout(t *testing.T) {
	a, b := socketPair(t)
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := NewConn(ctx, a, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("handshake with a silent peer: %v", err)
	}
}

// A bundle costs one round trip to the switch: the adds and the commit
// follow the open without waiting for its answer. This switch answers
// the open only once the commit has come, which a Conn that waited for
// the open would never send.
func TestConnBundleDoesNotWaitForOpen(t *testing.T) {
	var held []uint32 // open requests not answered yet
	c, _ := newTestConn(t, func(s *fakeSwitch, xid uint32, m Message) {
		bc, ok := m.(*BundleControl)
		switch {
		case ok && bc.CtlType == BundleOpenRequest:
			held = append(held, xid)
		case ok && bc.CtlType == BundleCommitRequest:
			for _, x := range held {
				s.send(x, &BundleControl{BundleID: bc.BundleID, CtlType: BundleOpenRequest + 1, Flags: bc.Flags})
			}
			held = nil
			fallthrough
		default:
			ovsLike(s, xid, m)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	good := NewFlowMod(FlowAdd, 0, 1)
	if err := c.Bundle(ctx, 1, []Message{good, good}); err != nil {
		t.Fatalf("bundle: %v", err)
	}
}

// A refused open fails the bundle even though the adds and the commit
// went out behind it.
func TestConnBundleOpenRefused(t *testing.T) {
	c, _ := newTestConn(t, func(s *fakeSwitch, xid uint32, m Message) {
		if bc, ok := m.(*BundleControl); ok && bc.CtlType == BundleOpenRequest {
			s.send(xid, &Error{ErrType: 17, Code: 1}) // OFPET_BUNDLE_FAILED, OFPBFC_BAD_ID
			return
		}
		ovsLike(s, xid, m)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Bundle(ctx, 1, []Message{NewFlowMod(FlowAdd, 0, 1)})
	var oe *Error
	if !errors.As(err, &oe) || oe.ErrType != 17 {
		t.Fatalf("bundle with a refused open: err = %v, want the open's error", err)
	}
}

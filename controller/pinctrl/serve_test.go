package pinctrl

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/controller/openflow"
)

// fakeSwitch is a Switch over a channel that records what is sent.
type fakeSwitch struct {
	async chan openflow.Message
	mu    sync.Mutex
	sent  []openflow.Message
}

func (s *fakeSwitch) Async() <-chan openflow.Message { return s.async }
func (s *fakeSwitch) Send(_ context.Context, m openflow.Message) (uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return 0, nil
}

// TestServe answers packet-ins in order, skips other messages and
// garbage, and returns when the connection closes.
func TestServe(t *testing.T) {
	g := golden(t)
	sw := &fakeSwitch{async: make(chan openflow.Message, 8)}
	sw.async <- &openflow.PortStatus{}
	sw.async <- packetIn([]byte{0, 0, 0, 99, 0, 0, 0, 0}, nil) // unknown: logged, dropped
	sw.async <- packetIn(userdata(t, putDHCP), g["DHCPDISCOVER"])
	sw.async <- packetIn(userdata(t, putDHCPv6), g["SOLICIT"])
	close(sw.async)
	done := make(chan struct{})
	go func() {
		Serve(context.Background(), sw, nil, nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return when the connection closed")
	}
	if len(sw.sent) != 2 {
		t.Fatalf("sent %d messages, want 2 resumes", len(sw.sent))
	}
	for i, want := range []string{"DHCPDISCOVER", "SOLICIT"} {
		r, ok := sw.sent[i].(*openflow.Resume)
		if !ok || len(r.Packet) == len(g[want]) {
			t.Errorf("message %d: %T, not the answer to %s", i, sw.sent[i], want)
		}
	}
}

// TestServeCancel: Serve returns when its context ends, with the
// connection still open.
func TestServeCancel(t *testing.T) {
	sw := &fakeSwitch{async: make(chan openflow.Message)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Serve(ctx, sw, nil, nil)
		close(done)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return when its context ended")
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(2, time.Second)
	t0 := time.Unix(100, 0)
	got := []bool{l.allow(t0), l.allow(t0), l.allow(t0.Add(500 * time.Millisecond)), l.allow(t0.Add(time.Second))}
	if got[0] != true || got[1] != true || got[2] != false || got[3] != true {
		t.Errorf("allowed %v, want [true true false true]", got)
	}
}

// fakeEnv records what Serve learns and knows the MACs in macs.
type fakeEnv struct {
	records
	mu      sync.Mutex
	learned []string
	macs    map[netip.Addr]net.HardwareAddr
}

func (e *fakeEnv) MAC(dp uint32, ip netip.Addr) (net.HardwareAddr, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.macs[ip]
	return m, ok && dp == 5
}

func (e *fakeEnv) Learn(_ context.Context, n Neighbor) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.learned = append(e.learned, n.String())
	return nil
}

func (e *fakeEnv) LearnFDB(_ context.Context, f FDBEntry) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.learned = append(e.learned, f.String())
	return nil
}

// TestServeLearns: put_arp and put_fdb reach the Env, written by Serve's
// own goroutine, which is done when Serve returns.
func TestServeLearns(t *testing.T) {
	env := &fakeEnv{records: testRecords}
	sw := &fakeSwitch{async: make(chan openflow.Message, 4)}
	frame := append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0x0a, 0, 0, 0, 9, 9), 0x08, 0x06)
	md := openflow.Match{openflow.F("metadata").Exact(7), openflow.F("xreg0").Exact(0x0a000001_00000000),
		openflow.F("xreg7").Exact(0x3_00000000)}
	sw.async <- &openflow.PacketIn2{Packet: frame, Userdata: userdata(t, "put_arp(inport, arp.spa, arp.sha);"), Metadata: md}
	sw.async <- &openflow.PacketIn2{Packet: frame, Userdata: userdata(t, "put_fdb(inport, eth.src);"), Metadata: md}
	close(sw.async)
	Serve(context.Background(), sw, nil, env)
	want := []string{"10.0.0.1 is at 0a:00:00:00:09:09 (datapath 7 port 3)", "0a:00:00:00:09:09 is behind port 3 of datapath 7"}
	if d := cmp.Diff(want, env.learned); d != "" {
		t.Errorf("learned (-want +got):\n%s", d)
	}
	if len(sw.sent) != 0 {
		t.Errorf("sent %d messages for put_arp/put_fdb", len(sw.sent))
	}
}

// TestServeHolds: the packet arp { } was sent for waits until the SB
// knows the next hop's MAC, then goes out to it through the output
// tables with its metadata restored.
func TestServeHolds(t *testing.T) {
	env := &fakeEnv{records: testRecords, macs: map[netip.Addr]net.HardwareAddr{}}
	sw := &fakeSwitch{async: make(chan openflow.Message, 4)}
	pkt := golden(t)["DHCPOFFER"] // any IPv4 frame
	p := packetIn(userdata(t, "arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = 10.5.0.1; arp.tpa = 10.5.0.10; arp.op = 1; output; };"), pkt)
	p.Metadata = append(p.Metadata[:1], openflow.F("xreg0").Exact(0x0a05000a_00000000), openflow.F("in_port_oxm").Exact(2))
	sw.async <- p
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Serve(ctx, sw, nil, env)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	sent := func() int {
		sw.mu.Lock()
		defer sw.mu.Unlock()
		return len(sw.sent)
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for sent() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d messages sent, want %d", sent(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1) // the ARP request
	time.Sleep(3 * releaseEvery)
	if sent() != 1 {
		t.Fatalf("held packet sent before its next hop resolved")
	}
	env.mu.Lock()
	env.macs[netip.MustParseAddr("10.5.0.10")] = net.HardwareAddr{0x0a, 0, 0, 0, 6, 0x99}
	env.mu.Unlock()
	waitFor(2)
	sw.mu.Lock()
	out := sw.sent[1].(*openflow.PacketOut)
	sw.mu.Unlock()
	if got := out.Match.String(); got != "in_port=2" {
		t.Errorf("held packet from %s, want in_port=2", got)
	}
	want := append([]byte{0x0a, 0, 0, 0, 6, 0x99}, pkt[6:]...)
	if d := cmp.Diff(want, out.Data); d != "" {
		t.Errorf("held packet (-want +got):\n%s", d)
	}
	last := out.Actions[len(out.Actions)-1].(*openflow.Resubmit)
	if last.Table != 39 || len(out.Actions) != 3 {
		t.Errorf("held packet actions %v, want two reloads and resubmit(,39)", out.Actions)
	}
}

func TestHolderLimits(t *testing.T) {
	var h holder
	t0 := time.Unix(100, 0)
	ip := netip.MustParseAddr("10.0.0.1")
	for i := range holdPerIP + 2 {
		h.push(Held{Datapath: 5, IP: ip, Packet: make([]byte, 14+i)}, t0)
	}
	env := &fakeEnv{macs: map[netip.Addr]net.HardwareAddr{ip: {1, 2, 3, 4, 5, 6}}}
	msgs := h.release(env, t0)
	if len(msgs) != holdPerIP || len(msgs[0].(*openflow.PacketOut).Data) != 16 {
		t.Errorf("released %d packets, want the last %d", len(msgs), holdPerIP)
	}
	h.push(Held{Datapath: 5, IP: netip.MustParseAddr("10.0.0.2"), Packet: make([]byte, 14)}, t0)
	if msgs := h.release(env, t0.Add(holdTimeout)); len(msgs) != 0 || !h.empty() {
		t.Errorf("expired packet released or kept: %d, empty %v", len(msgs), h.empty())
	}
}

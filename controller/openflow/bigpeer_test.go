package openflow

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// bigPeer is a switch for large bundles and dumps that allocates almost
// nothing per message, so that what a benchmark counts is the Conn's: it
// answers hello, barriers and bundle controls, refuses the bundle adds
// whose xid is in refuse, and answers a flow stats request with dump
// (encoded replies, their xid set to the request's).
type bigPeer struct {
	nc     net.Conn
	wg     sync.WaitGroup
	dump   [][]byte
	refuse func(i int, xid uint32) bool // i counts bundle adds from 0
	// between, when set, is sent before bundle add i (whose xid is
	// given) is answered: other traffic arriving mid-bundle.
	between func(i int, xid uint32) []byte
	// closeAt closes the connection on bundle add closeAt, when set.
	closeAt int
	// silentCommit leaves bundle commits unanswered.
	silentCommit bool
}

func newBigPeer(t testing.TB, p *bigPeer) *Conn {
	a, b := socketPair(t)
	p.nc = b
	p.wg.Add(1)
	go p.routineServe()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := NewConn(ctx, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); b.Close(); p.wg.Wait() })
	return c
}

func (p *bigPeer) routineServe() {
	defer p.wg.Done()
	hello, _ := Marshal(1, &Hello{Versions: []uint8{Version}})
	p.nc.Write(hello)
	buf := make([]byte, 0, 1<<16)
	adds := 0
	for {
		buf = buf[:headerLen]
		if _, err := io.ReadFull(p.nc, buf); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(buf[2:]))
		if n < headerLen {
			return
		}
		buf = buf[:n]
		if _, err := io.ReadFull(p.nc, buf[headerLen:]); err != nil {
			return
		}
		xid := binary.BigEndian.Uint32(buf[4:])
		switch MsgType(buf[1]) {
		case TypeBarrierRequest:
			buf[1] = byte(TypeBarrierReply)
			p.nc.Write(buf[:headerLen])
		case TypeBundleControl:
			if p.silentCommit && buf[headerLen+5] == BundleCommitRequest {
				continue
			}
			buf[headerLen+5]++ // OPEN_REQUEST → OPEN_REPLY, and so on
			p.nc.Write(buf)
		case TypeBundleAdd:
			if p.closeAt > 0 && adds == p.closeAt {
				p.nc.Close()
				return
			}
			if p.between != nil {
				if b := p.between(adds, xid); b != nil {
					p.nc.Write(b)
				}
			}
			if p.refuse != nil && p.refuse(adds, xid) {
				e, _ := Marshal(xid, &Error{ErrType: 5, Code: 3, Data: clone(buf[:min(len(buf), 64)])})
				p.nc.Write(e)
			}
			adds++
		case TypeMultipartRequest:
			for _, r := range p.dump {
				binary.BigEndian.PutUint32(r[4:], xid)
				p.nc.Write(r)
			}
		}
	}
}

// bigDump encodes n flows in replies of about 64 KB, as OVS splits a dump.
func bigDump(t testing.TB, n int) [][]byte {
	var out [][]byte
	r := &FlowStatsReply{Flags: MultipartMore}
	size := 0
	for i := range n {
		f := dumpFlow(i)
		b, err := f.append(nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Flows, size = append(r.Flows, f), size+len(b)
		if size > 60000 || i == n-1 {
			if i == n-1 {
				r.Flags = 0
			}
			m, err := Marshal(1, r)
			if err != nil {
				t.Fatal(err)
			}
			out, r, size = append(out, m), &FlowStatsReply{Flags: MultipartMore}, 0
		}
	}
	return out
}

// dumpFlow is flow i of a dump: a controller-shaped flow with a few
// match fields and actions.
func dumpFlow(i int) FlowStats {
	return FlowStats{Table: uint8(8 + i%40), Priority: uint16(50 + i%3), Cookie: uint64(i) << 8,
		DurationSec: 12, PacketCount: uint64(i), ByteCount: uint64(i) * 64,
		Match: Match{Reg(14).Exact(uint64(i%20 + 1)), F("metadata").Exact(uint64(i/20 + 1)),
			F("dl_src").Exact(uint64(i))},
		Instructions: Instructions{Apply: []Action{&SetField{OXM: Reg(13).Exact(uint64(i))},
			ResubmitTable(uint8(9 + i%40))}}}
}

// bundleFlow is flow mod i of a large bundle.
func bundleFlow(i int) (Message, error) {
	f := dumpFlow(i)
	fm := NewFlowMod(FlowAdd, f.Table, f.Priority)
	fm.Cookie, fm.Match, fm.Instructions = f.Cookie, f.Match, f.Instructions
	return fm, nil
}

const bigFlows = 200000

// BenchmarkBundle200k sends a bundle of 200,000 flow mods, built one at a
// time, to a switch that accepts them all.
func BenchmarkBundle200k(b *testing.B) {
	c := newBigPeer(b, &bigPeer{})
	ctx := context.Background()
	msgs := make([]Message, bigFlows)
	for i := range msgs {
		msgs[i], _ = bundleFlow(i)
	}
	b.ReportAllocs()
	id := uint32(0)
	for b.Loop() {
		id++
		if err := c.BundleFunc(ctx, id, bigFlows, func(i int) (Message, error) { return msgs[i], nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDumpFlows200k reads back 200,000 flows with DumpFlows.
func BenchmarkDumpFlows200k(b *testing.B) {
	c := newBigPeer(b, &bigPeer{dump: bigDump(b, bigFlows)})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		flows, err := c.DumpFlows(ctx, NewFlowStatsRequest())
		if err != nil || len(flows) != bigFlows {
			b.Fatalf("dump: %d flows, %v", len(flows), err)
		}
	}
}

// BenchmarkDumpFlowsFunc200k streams 200,000 flows back, keeping none.
func BenchmarkDumpFlowsFunc200k(b *testing.B) {
	c := newBigPeer(b, &bigPeer{dump: bigDump(b, bigFlows)})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := c.DumpFlowsFunc(ctx, NewFlowStatsRequest(), func(FlowStats) error { n++; return nil })
		if err != nil || n != bigFlows {
			b.Fatalf("dump: %d flows, %v", n, err)
		}
	}
}

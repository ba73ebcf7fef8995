// Package sbreplicatest holds test helpers for code that runs an
// sbreplica.Replica against a real OVSDB server: a Gate that holds back
// the steps of a load in parts.
package sbreplicatest

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// Gate forwards unix-socket connections to an OVSDB server, holding
// back the client's monitor_cond_change requests until Release lets
// them through, so that a test sees a load in parts between its parts.
// The test's cleanup closes it.
type Gate struct {
	ln     net.Listener
	target string
	free   chan struct{} // one per monitor_cond_change let through

	mu    sync.Mutex
	asked int // monitor_cond_change requests received
	conns []net.Conn
	done  chan struct{} // closed by Cut, for the connections before
	wg    sync.WaitGroup
}

// NewGate listens on a unix socket in the test's temp dir and forwards
// to the server's unix socket at target (a path, without "unix:").
func NewGate(t testing.TB, target string) *Gate {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "gate.sock"))
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{ln: ln, target: target, free: make(chan struct{}, 64), done: make(chan struct{})}
	g.wg.Add(1)
	go g.routineAccept()
	t.Cleanup(func() {
		ln.Close()
		g.Cut()
		g.wg.Wait()
	})
	return g
}

// Remote is the gate's address for a replica: unix:PATH.
func (g *Gate) Remote() string { return "unix:" + g.ln.Addr().String() }

// Release lets n held (or future) monitor_cond_change requests through.
func (g *Gate) Release(n int) {
	for range n {
		g.free <- struct{}{}
	}
}

// Asked returns how many monitor_cond_change requests the clients have
// sent so far, held back or let through.
func (g *Gate) Asked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.asked
}

// Cut drops the connections (the gate keeps listening); the requests
// they held back are dropped with them.
func (g *Gate) Cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
	close(g.done)
	g.done = make(chan struct{})
}

func (g *Gate) routineAccept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("unix", g.target)
		if err != nil {
			c.Close()
			continue
		}
		g.mu.Lock()
		g.conns = append(g.conns, c, s)
		done := g.done
		g.mu.Unlock()
		g.wg.Add(2)
		go func() {
			defer g.wg.Done()
			io.Copy(c, s)
			c.Close()
		}()
		go g.routineRequests(s, c, done)
	}
}

// routineRequests copies the client's messages to the server one JSON
// value at a time, each monitor_cond_change only once released.
func (g *Gate) routineRequests(dst, src net.Conn, done chan struct{}) {
	defer g.wg.Done()
	defer dst.Close()
	dec := json.NewDecoder(bufio.NewReader(src))
	for {
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			return
		}
		var req struct{ Method string }
		json.Unmarshal(msg, &req)
		if req.Method == "monitor_cond_change" {
			g.mu.Lock()
			g.asked++
			g.mu.Unlock()
			select {
			case <-g.free:
			case <-done:
				return
			}
		}
		if _, err := dst.Write(msg); err != nil {
			return
		}
	}
}

package main

import (
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// unixPair returns the two ends of a unix stream connection.
func unixPair(t *testing.T, l net.Listener) (client, server net.Conn) {
	t.Helper()
	client, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func update2(uuid string) string {
	return `{"id":null,"method":"update2","params":[7,{"Logical_Switch":{"` + uuid + `":{"insert":{"name":"a \"}\" b"}}}}]}`
}

// TestSubscribersSeeEveryRow: both ways of reading the fan-out's
// subscribers record every row of every subscriber, whether updates come
// many to a write or a byte at a time, answer echo requests, and report
// an update2 without a row.
func TestSubscribersSeeEveryRow(t *testing.T) {
	for _, readers := range []string{readersPoll, readersGoroutines} {
		t.Run(readers, func(t *testing.T) {
			if readers == readersPoll && runtime.GOOS != "linux" {
				t.Skip("epoll is Linux only")
			}
			l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			const subs = 3
			var conns []*conn
			var peers []net.Conn
			for range subs {
				c, s := unixPair(t, l)
				conns = append(conns, newConn(c))
				peers = append(peers, s)
			}
			a := newArrivals(subs)
			var failed atomic.Pointer[error]
			stop, err := readSubscribers(readers, conns, a, func(err error) { failed.CompareAndSwap(nil, &err) })
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			var uuids []string
			for i := range 20 {
				uuids = append(uuids, fmt.Sprintf("6b7c3a1e-0000-4000-8000-%012d", i))
			}
			var all strings.Builder
			for _, u := range uuids {
				all.WriteString(update2(u) + "\n")
			}
			// Subscriber 0 gets them in one write, 1 a byte at a time, 2
			// after an echo request that must be answered.
			if _, err := peers[0].Write([]byte(all.String())); err != nil {
				t.Fatal(err)
			}
			go func() {
				for i := range all.Len() {
					if _, err := peers[1].Write([]byte{all.String()[i]}); err != nil {
						return
					}
				}
			}()
			if _, err := peers[2].Write([]byte(`{"id":"echo","method":"echo","params":["x"]}`)); err != nil {
				t.Fatal(err)
			}
			peers[2].SetReadDeadline(time.Now().Add(10 * time.Second))
			reply := make([]byte, 256)
			n, err := peers[2].Read(reply)
			if err != nil || string(reply[:n]) != `{"id":"echo","result":["x"],"error":null}` {
				t.Fatalf("echo reply %q, %v", reply[:n], err)
			}
			if _, err := peers[2].Write([]byte(all.String())); err != nil {
				t.Fatal(err)
			}
			for _, u := range uuids {
				select {
				case <-a.wait(u).done:
				case <-time.After(10 * time.Second):
					t.Fatalf("row %s: not seen by all %d subscribers", u, subs)
				}
			}
			if p := failed.Load(); p != nil {
				t.Fatalf("failed: %v", *p)
			}
			if _, err := peers[0].Write([]byte(`{"id":null,"method":"update2","params":[7,{"ACL":{}}]}`)); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for failed.Load() == nil && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if p := failed.Load(); p == nil || !strings.Contains((*p).Error(), "without a Logical_Switch row") {
				t.Fatalf("an update2 without a row: failure %v", p)
			}
		})
	}
}

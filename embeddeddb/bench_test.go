package embeddeddb

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkServerInsert measures the whole request path for the
// single-row insert bench/ovsdbbench sends: framing, decoding, the
// transaction, the file record and the reply.
func BenchmarkServerInsert(b *testing.B) {
	dir := b.TempDir()
	s, err := New(Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NBRemotes: []string{"punix:" + filepath.Join(dir, "nb.sock")}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c, err := net.Dial("unix", filepath.Join(dir, "nb.sock"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	req := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req = append(req[:0], `{"id":`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"sw`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `","external_ids":["map",[["k","v"]]]}}]}`...)
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerFanout measures one insert delivered to 100 monitor_cond
// clients of the whole Logical_Switch table, as bench/ovsdbbench's fan-out
// does; each op ends when every client has read its update2.
func BenchmarkServerFanout(b *testing.B) {
	const clients = 100
	dir := b.TempDir()
	s, err := New(Config{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NBRemotes: []string{"punix:" + filepath.Join(dir, "nb.sock")}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	sock := filepath.Join(dir, "nb.sock")
	seen := make(chan struct{}, clients)
	for i := range clients {
		c, err := net.Dial("unix", sock)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		req := `{"id":0,"method":"monitor_cond","params":["OVN_Northbound",` + strconv.Itoa(i) +
			`,{"Logical_Switch":[{"where":[true]}]}]}`
		if _, err := c.Write([]byte(req)); err != nil {
			b.Fatal(err)
		}
		sp := newSplitter(c)
		if _, err := sp.Next(); err != nil { // the initial reply
			b.Fatal(err)
		}
		go func() {
			for {
				msg, err := sp.Next()
				if err != nil {
					return
				}
				if bytes.Contains(msg, []byte(`"update2"`)) {
					seen <- struct{}{}
				}
			}
		}()
	}
	w, err := net.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	buf := make([]byte, 64<<10)
	req := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req = append(req[:0], `{"id":`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"fan`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `","external_ids":["map",[["k","v"]]]}}]}`...)
		if _, err := w.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := w.Read(buf); err != nil {
			b.Fatal(err)
		}
		for range clients {
			<-seen
		}
	}
}

// BenchmarkHandleInsert measures the CPU of one insert request without
// the sockets: conn.handle on the message bench/ovsdbbench sends, with
// the reply written to memory. Its allocations per op are what the
// request, the engine and the reply cost.
func BenchmarkHandleInsert(b *testing.B) {
	s, err := New(Config{Dir: b.TempDir(), Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	serveInBackground(b, s)
	nc := &discardConn{}
	c := newConn(s, nc, 0)
	defer c.cleanup()
	req := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req = append(req[:0], `{"id":`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `,"method":"transact","params":["OVN_Northbound",{"op":"insert","table":"Logical_Switch","row":{"name":"b`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `","external_ids":["map",[["bench-client","1"],["bench-seq","`...)
		req = strconv.AppendInt(req, int64(i), 10)
		req = append(req, `"]]]}}]}`...)
		if err := c.handle(req); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 0 {
			nc.mu.Lock()
			nc.out.Reset()
			nc.mu.Unlock()
		}
	}
}

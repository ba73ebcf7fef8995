package embeddeddb

import (
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

package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDaemonLifecycle runs the real binary as systemd would: it must send
// READY=1 once the database role serves, and on SIGTERM send STOPPING=1
// and exit 0, leaving the database files behind.
func TestDaemonLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the ovnd binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ovnd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	notify := listenNotify(t, filepath.Join(dir, "notify.sock"))
	cfg := writeConfig(t, fmt.Sprintf("roles = [\"database\"]\n[database]\ndir = %q\nnb_remotes = [%q]\nsb_remotes = [%q]\n",
		dir, "punix:"+filepath.Join(dir, "nb.sock"), "punix:"+filepath.Join(dir, "sb.sock")))

	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify.LocalAddr().String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ready := make(chan string, 1)
	go func() { ready <- readNotify(notify) }()
	select {
	case err := <-exited:
		t.Fatalf("ovnd exited before READY=1: %v\n%s", err, stderr.String())
	case msg := <-ready:
		if msg != "READY=1" {
			t.Fatalf("first notification %q, want READY=1\n%s", msg, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no READY=1 within 30s\n%s", stderr.String())
	}

	// READY=1 means serving: both sockets accept clients now.
	for _, sock := range []string{"nb.sock", "sb.sock"} {
		c, err := net.Dial("unix", filepath.Join(dir, sock))
		if err != nil {
			t.Fatalf("after READY=1: %v", err)
		}
		c.Close()
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if msg := readNotify(notify); msg != "STOPPING=1" {
		t.Errorf("notification after SIGTERM %q, want STOPPING=1", msg)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("ovnd exit after SIGTERM: %v\n%s", err, stderr.String())
		}
		for _, f := range []string{"ovnnb_db.db", "ovnsb_db.db"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("after stop: %v", err)
			}
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("ovnd did not stop within 30s of SIGTERM\n%s", stderr.String())
	}
}

func listenNotify(t *testing.T, path string) *net.UnixConn {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readNotify returns the next datagram, or "" after 30s or on error.
func readNotify(conn *net.UnixConn) string {
	buf := make([]byte, 256)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

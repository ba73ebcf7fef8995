package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/ovnd/ovnd/ovnschema"
)

// Names of the two sides, as printed in the table.
const (
	sideOvsdbServer = "ovsdb-server"
	sideOvnd        = "ovnd"
)

// side knows how to create, start and stop one kind of server. Both kinds
// serve OVN_Northbound and OVN_Southbound from one process.
type side struct {
	name string // column header: sideOvsdbServer or sideOvnd
	// kind selects how the process is run; it differs from name only with
	// -twin, where ovsdb-server also fills the ovnd column.
	kind        string
	bin         string // ovsdb-server or ovnd binary
	ovsdbTool   string // used to create ovsdb-server's files
	readyWithin time.Duration
}

// server is one running server process owned by the benchmark.
type server struct {
	side           *side
	dir            string
	nbSock, sbSock string
	cmd            *exec.Cmd
	exited         chan struct{} // closed once cmd.Wait returned
	waitErr        error
	started        time.Time
}

// create lays down empty NB and SB databases in dir.
func (s *side) create(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if s.kind == sideOvnd {
		return os.WriteFile(filepath.Join(dir, "ovnd.toml"), ovndConfig(dir), 0o644)
	}
	for _, db := range []struct {
		name   string
		schema []byte
	}{{"nb", ovnschema.Northbound}, {"sb", ovnschema.Southbound}} {
		schema := filepath.Join(dir, db.name+".ovsschema")
		if err := os.WriteFile(schema, db.schema, 0o644); err != nil {
			return err
		}
		out, err := exec.Command(s.ovsdbTool, "create", filepath.Join(dir, db.name+".db"), schema).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ovsdb-tool create %s: %w: %s", db.name, err, out)
		}
	}
	return nil
}

func ovndConfig(dir string) []byte {
	return fmt.Appendf(nil, "roles = [\"database\"]\n\n[database]\ndir = %q\nnb_remotes = [%q]\nsb_remotes = [%q]\n",
		filepath.Join(dir, "state"), "punix:"+filepath.Join(dir, "nb.sock"), "punix:"+filepath.Join(dir, "sb.sock"))
}

// launch starts the server on the databases in dir without waiting for it
// to answer.
func (s *side) launch(dir string) (*server, error) {
	srv := &server{side: s, dir: dir, exited: make(chan struct{})}
	var args []string
	if s.kind == sideOvnd {
		srv.nbSock = filepath.Join(dir, "nb.sock")
		srv.sbSock = filepath.Join(dir, "sb.sock")
		args = []string{"run", "--config", filepath.Join(dir, "ovnd.toml")}
	} else {
		srv.nbSock = filepath.Join(dir, "db.sock")
		srv.sbSock = srv.nbSock
		args = []string{
			"--remote=punix:" + srv.nbSock,
			"--unixctl=" + filepath.Join(dir, "ovsdb-server.ctl"),
			"--pidfile=" + filepath.Join(dir, "ovsdb-server.pid"),
			"--log-file=" + filepath.Join(dir, "ovsdb-server.log"),
			filepath.Join(dir, "nb.db"), filepath.Join(dir, "sb.db"),
		}
	}
	// A stale socket would make the readiness probe connect to nothing.
	os.Remove(srv.nbSock)
	os.Remove(srv.sbSock)
	out, err := os.OpenFile(filepath.Join(dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	srv.cmd = exec.Command(s.bin, args...)
	srv.cmd.Stdout, srv.cmd.Stderr = out, out
	srv.cmd.SysProcAttr = childAttr()
	srv.started = time.Now()
	if err := srv.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.bin, err)
	}
	go func() {
		srv.waitErr = srv.cmd.Wait()
		close(srv.exited)
	}()
	return srv, nil
}

// start launches the server and waits until both database sockets answer
// list_dbs.
func (s *side) start(ctx context.Context, dir string) (*server, error) {
	srv, err := s.launch(dir)
	if err != nil {
		return nil, err
	}
	if _, err := srv.waitReady(ctx, ovnschema.NorthboundName, nil); err != nil {
		srv.stop()
		return nil, err
	}
	if _, err := srv.waitReady(ctx, ovnschema.SouthboundName, nil); err != nil {
		srv.stop()
		return nil, err
	}
	return srv, nil
}

func (srv *server) pid() int { return srv.cmd.Process.Pid }

func (srv *server) socket(db string) string {
	if db == ovnschema.SouthboundName {
		return srv.sbSock
	}
	return srv.nbSock
}

// waitReady polls the socket serving db until list_dbs answers with db in
// it, and returns the connection that got the answer (closed unless keep
// is non-nil, in which case it is stored there).
func (srv *server) waitReady(ctx context.Context, db string, keep **conn) (time.Time, error) {
	deadline := time.Now().Add(srv.side.readyWithin)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-srv.exited:
			return time.Time{}, fmt.Errorf("%s exited while starting (%v): %s", srv.side.name, srv.waitErr, srv.logTail())
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		default:
		}
		c, err := dial(srv.socket(db), time.Second)
		if err == nil {
			c.nc.SetDeadline(time.Now().Add(5 * time.Second))
			err = c.expectDB(db)
			if err == nil {
				at := time.Now()
				c.nc.SetDeadline(time.Time{})
				if keep != nil {
					*keep = c
				} else {
					c.Close()
				}
				return at, nil
			}
			c.Close()
		}
		lastErr = err
		time.Sleep(2 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("%s: %s not served within %v (last error: %v): %s", srv.side.name, db, srv.side.readyWithin, lastErr, srv.logTail())
}

func (c *conn) expectDB(db string) error {
	m, err := c.call("list_dbs", []byte("[]"))
	if err != nil {
		return err
	}
	var dbs []string
	if err := json.Unmarshal(m.Result, &dbs); err != nil {
		return fmt.Errorf("list_dbs result: %w", err)
	}
	if !slices.Contains(dbs, db) {
		return fmt.Errorf("list_dbs gave %v, want %s", dbs, db)
	}
	return nil
}

// stop terminates the server with SIGTERM, then SIGKILL after 10 s, and
// waits for it to exit.
func (srv *server) stop() error {
	select {
	case <-srv.exited:
		return fmt.Errorf("%s had already exited: %v", srv.side.name, srv.waitErr)
	default:
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	srv.cmd.Process.Kill()
	<-srv.exited
	return errors.New(srv.side.name + " ignored SIGTERM for 10 s; killed")
}

// logTail returns the end of the server's stderr for error messages.
func (srv *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(srv.dir, "stderr.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

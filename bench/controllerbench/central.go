package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ovnd/ovnd/ovnschema"
)

// remoteChassis is the SB chassis with no controller behind it; the
// remote ports are bound to it so that the chassis under test builds a
// tunnel and remote-output flows.
const (
	remoteChassis = "bench-remote"
	remoteIP      = "192.168.250.2"
	localIP       = "192.168.250.1"
)

// The centres -central chooses between. Both controllers always share
// one: the comparison is of controllers on the same SB content.
const (
	centralOVN  = "ovn"  // ovsdb-server with NB and SB on one socket, and the real ovn-northd
	centralOvnd = "ovnd" // ovnd's database role (NB and SB on a socket each) and its northd role, as two processes
)

// central holds the NB and SB and runs northd: the same SB content for
// both controllers.
type central struct {
	kind   string // centralOVN or centralOvnd
	dir    string
	nbSock string
	sbSock string
	db     *daemon
	northd *daemon
	// nbctlCtl is the control socket of an `ovn-nbctl --detach` that keeps
	// an NB replica, as OVN_NB_DAEMON in deployments: without it every
	// ovn-nbctl first reads all 10,000 ports (seconds), which would drown
	// the controllers' share of an lsp-add.
	nbctlCtl string
	nbctlPid string
}

func (c *central) nbRemote() string { return "unix:" + c.nbSock }
func (c *central) sbRemote() string { return "unix:" + c.sbSock }

// describe names the centre's programs for the report.
func (c *central) describe() string {
	if c.kind == centralOvnd {
		return "ovnd's database and northd roles"
	}
	return "ovsdb-server and ovn-northd"
}

// startCentral starts the centre kind names on empty databases: ovsdb-server
// and ovn-northd, or ovnd's database and northd roles.
func startCentral(ctx context.Context, b tools, kind, dir string) (*central, error) {
	if kind == centralOvnd {
		return startOvndCentral(ctx, b, dir)
	}
	sock := filepath.Join(dir, "ovnsb.sock")
	c := &central{kind: centralOVN, dir: dir, nbSock: sock, sbSock: sock}
	var files []string
	for name, schema := range map[string][]byte{"nb": ovnschema.Northbound, "sb": ovnschema.Southbound} {
		sp, db := filepath.Join(dir, name+".ovsschema"), filepath.Join(dir, name+".db")
		if err := os.WriteFile(sp, schema, 0o644); err != nil {
			return nil, err
		}
		if _, err := sh(context.Background(), nil, b.ovsdbTool, "create", db, sp); err != nil {
			return nil, err
		}
		files = append(files, db)
	}
	var err error
	c.db, err = spawn(dir, "central-ovsdb-server", "", nil, append([]string{b.ovsdbServer,
		"--remote=punix:" + sock, "--unixctl=" + filepath.Join(dir, "central-ovsdb.ctl"),
		"--log-file=" + filepath.Join(dir, "central-ovsdb.log")}, files...)...)
	if err != nil {
		return nil, err
	}
	if err := c.waitServing(ctx, "central ovsdb-server"); err != nil {
		return nil, err
	}
	// NB_Global before northd starts, or northd creates one and the
	// benchmark's would be a second.
	if err := c.insertNBGlobal(); err != nil {
		c.stop()
		return nil, err
	}
	c.northd, err = spawn(dir, "ovn-northd", "", nil, b.ovnNorthd, "--ovnnb-db="+c.nbRemote(), "--ovnsb-db="+c.sbRemote(),
		"--unixctl="+filepath.Join(dir, "ovn-northd.ctl"), "--log-file="+filepath.Join(dir, "ovn-northd.log"))
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// startOvndCentral starts ovnd's database role, then (once NB_Global is
// in) its northd role, each from a config of its own in dir.
func startOvndCentral(ctx context.Context, b tools, dir string) (*central, error) {
	c := &central{kind: centralOvnd, dir: dir, nbSock: filepath.Join(dir, "ovnnb.sock"), sbSock: filepath.Join(dir, "ovnsb.sock")}
	dbCfg := filepath.Join(dir, "central-db.toml")
	if err := writeFile(dbCfg, fmt.Sprintf("roles = [\"database\"]\n\n[database]\ndir = %q\nnb_remotes = [%q]\nsb_remotes = [%q]\n",
		filepath.Join(dir, "central-db"), "punix:"+c.nbSock, "punix:"+c.sbSock)); err != nil {
		return nil, err
	}
	var err error
	if c.db, err = spawn(dir, "central-ovnd-db", "", nil, b.ovnd, "run", "--config", dbCfg); err != nil {
		return nil, err
	}
	if err := c.waitServing(ctx, "central ovnd database"); err != nil {
		return nil, err
	}
	if err := c.insertNBGlobal(); err != nil {
		c.stop()
		return nil, err
	}
	northdCfg := filepath.Join(dir, "central-northd.toml")
	if err := writeFile(northdCfg, fmt.Sprintf("roles = [\"northd\"]\n\n[northd]\nnb = %q\nsb = %q\n", c.nbRemote(), c.sbRemote())); err != nil {
		c.stop()
		return nil, err
	}
	if c.northd, err = spawn(dir, "central-ovnd-northd", "", nil, b.ovnd, "run", "--config", northdCfg); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitServing waits until the database process answers on both sockets,
// and stops the centre if it does not.
func (c *central) waitServing(ctx context.Context, what string) error {
	err := waitFor(ctx, 30*time.Second, func() error {
		if err := c.db.Alive(); err != nil {
			return err
		}
		for _, sock := range []string{c.nbSock, c.sbSock} {
			conn, err := dialOVSDB(sock)
			if err != nil {
				return err
			}
			conn.Close()
		}
		return nil
	})
	if err != nil {
		c.stop()
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (c *central) insertNBGlobal() error {
	conn, err := dialOVSDB(c.nbSock)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.transact(ovnschema.NorthboundName, []any{map[string]any{"op": "insert", "table": "NB_Global", "row": map[string]any{}}}, time.Minute)
	if err != nil {
		return fmt.Errorf("insert NB_Global: %w", err)
	}
	return nil
}

// startNbctlDaemon starts ovn-nbctl in daemon mode on the central NB.
func (c *central) startNbctlDaemon(b tools) error {
	c.nbctlCtl, c.nbctlPid = filepath.Join(c.dir, "nbctl.ctl"), filepath.Join(c.dir, "nbctl.pid")
	_, err := sh(context.Background(), nil, b.nbctl, "--db="+c.nbRemote(), "--detach", "--no-chdir", "--pidfile="+c.nbctlPid,
		"-u", c.nbctlCtl, "--log-file="+filepath.Join(c.dir, "nbctl.log"))
	if err != nil {
		c.nbctlCtl = ""
	}
	return err
}

func (c *central) stop() {
	if c.nbctlPid != "" {
		if b, err := os.ReadFile(c.nbctlPid); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	}
	if c.northd != nil {
		c.northd.stop()
	}
	if c.db != nil {
		c.db.stop()
	}
}

// nbctl runs ovn-nbctl, through the daemon once it runs.
func (c *central) nbctl(ctx context.Context, b tools, args ...string) (string, error) {
	target := "--db=" + c.nbRemote()
	if c.nbctlCtl != "" {
		target = "--unixctl=" + c.nbctlCtl
	}
	return sh(ctx, nil, append([]string{b.nbctl, target, "--timeout=120"}, args...)...)
}

func (c *central) sbctl(ctx context.Context, b tools, args ...string) (string, error) {
	return sh(ctx, nil, append([]string{b.sbctl, "--db=" + c.sbRemote(), "--timeout=60"}, args...)...)
}

// load writes the layout to the NB in one transaction, waits for northd to
// compute the SB, and registers the remote chassis with its bound ports.
func (c *central) load(ctx context.Context, b tools, l layout) error {
	conn, err := dialOVSDB(c.nbSock)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.transact(ovnschema.NorthboundName, l.nbOps(), 5*time.Minute); err != nil {
		return fmt.Errorf("load NB: %w", err)
	}
	if _, err := c.nbctl(ctx, b, "--wait=sb", "sync"); err != nil {
		return fmt.Errorf("wait for northd: %w: %s", err, c.northd.Tail(20))
	}
	if err := c.startNbctlDaemon(b); err != nil {
		return err
	}
	args := []string{"chassis-add", remoteChassis, "geneve", remoteIP}
	for i := range l.remote {
		args = append(args, "--", "lsp-bind", l.remotePort(i), remoteChassis)
	}
	if _, err := c.sbctl(ctx, b, args...); err != nil {
		return fmt.Errorf("remote chassis: %w", err)
	}
	return nil
}

// forget removes what a controller run left in the databases, so that the
// next one starts from the same content: its Chassis, Encap and
// Chassis_Private rows and the ports the lsp-add measurement added.
//
// It runs also after the benchmark was interrupted: its commands are
// bounded by their own --timeout, not by a context.
func (c *central) forget(b tools, systemID string, added []string) error {
	ctx := context.Background()
	// chassis-del takes the Chassis_Private row along when there is one.
	if _, err := c.sbctl(ctx, b, "--if-exists", "chassis-del", systemID); err != nil {
		return err
	}
	if out, err := c.sbctl(ctx, b, "--bare", "--columns=_uuid", "find", "Chassis_Private", "name="+systemID); err != nil {
		return err
	} else if u := strings.TrimSpace(out); u != "" {
		if _, err := c.sbctl(ctx, b, "destroy", "Chassis_Private", u); err != nil {
			return err
		}
	}
	if len(added) > 0 {
		var del []string
		for _, p := range added {
			del = append(del, "--", "--if-exists", "lsp-del", p)
		}
		if _, err := c.nbctl(ctx, b, append([]string{"--wait=sb"}, del[1:]...)...); err != nil {
			return err
		}
	}
	// northd recomputes for the chassis' removal too: wait until it has
	// caught up, so that the next round's controller does not start
	// while northd is still busy with this one's cleanup.
	_, err := c.nbctl(ctx, b, "--wait=sb", "sync")
	return err
}

// waitFor polls check every 50 ms until it returns nil, ctx ends or
// timeout passes; the error names the last failure.
func waitFor(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

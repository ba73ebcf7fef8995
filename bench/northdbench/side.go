package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
	"github.com/ovnd/ovnd/ovnschema"
)

// Names of the two sides, as printed in the table.
const (
	sideOVN  = "ovn-northd"
	sideOvnd = "ovnd"
)

// bins are the programs the benchmark runs.
type bins struct {
	ovnd, ovnNorthd, ovsdbServer, ovsdbTool, nbctl string
	// ovndLog is ovnd's [log] level; its log is ovnd.stderr in the
	// round's directory (see -keep).
	ovndLog string
	// ovndEnv is added to ovnd's environment (KEY=VALUE).
	ovndEnv []string
	// dbEnv is added to the environment of ovnd's database process.
	dbEnv []string
	// db is the database server both sides use: dbOVSDB or dbOvnd.
	db string
}

// The database servers -db picks from.
const (
	dbOVSDB = "ovsdb-server"
	dbOvnd  = "ovnd"
)

// sockets are where NB and SB listen: one socket with ovsdb-server,
// one each with ovnd's database role.
type sockets struct{ nb, sb string }

// daemon is a process the benchmark started and must stop: its own
// process group, killed if the benchmark dies (internal/proc).
type daemon = proc.Daemon

func start(dir, name, bin string, args ...string) (*daemon, error) {
	return startEnv(dir, name, nil, bin, args...)
}

// startEnv is start with env added to the benchmark's environment; the
// output goes to dir/name.stderr.
func startEnv(dir, name string, env []string, bin string, args ...string) (*daemon, error) {
	return proc.Start(name, filepath.Join(dir, name+".stderr"), proc.Options{Env: env}, append([]string{bin}, args...)...)
}

// stopGrace is how long a daemon has between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// result is what one round measured on one side.
type result struct {
	flows, bindings    int
	load, converge     time.Duration
	addP50, addP90     time.Duration
	floorP50           time.Duration // the same lsp-add without --wait=sb
	rpcP50, rpcP90     time.Duration // the same change over JSON-RPC (rpcAdds)
	plainP50, plainP90 time.Duration
	rss, hwm           int64
}

// round runs the whole measurement for one side in dir: fresh databases,
// the side's northd, the bulk load, convergence, lsp-add latency, memory.
func round(ctx context.Context, b bins, side, dir string, t topology, adds, plainAdds int, log func(string, ...any)) (r result, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	db, socks, err := startDB(ctx, b, dir)
	if err != nil {
		return r, err
	}
	defer db.Stop(stopGrace)
	sock := socks.nb
	nb, err := dial(sock)
	if err != nil {
		return r, err
	}
	defer nb.Close()
	sb := nb
	if socks.sb != socks.nb {
		if sb, err = dial(socks.sb); err != nil {
			return r, err
		}
		defer sb.Close()
	}
	if _, err := nb.transact(ovnschema.NorthboundName, []op{{"op": "insert", "table": "NB_Global", "row": op{}}}, time.Minute); err != nil {
		return r, fmt.Errorf("nb_global: %w", err)
	}
	nd, err := startNorthd(b, side, dir, socks)
	if err != nil {
		return r, err
	}
	defer nd.Stop(stopGrace)
	if _, err := syncSB(nb, 2*time.Minute); err != nil {
		return r, fmt.Errorf("%s did not answer the first nb_cfg: %w: %s", side, err, nd.Tail(20))
	}
	log("%s: loading %d switches x %d ports", side, t.switches, t.ports)
	t0 := time.Now()
	if _, err := nb.transact(ovnschema.NorthboundName, t.ops(), 5*time.Minute); err != nil {
		return r, fmt.Errorf("bulk load: %w", err)
	}
	r.load = time.Since(t0)
	t1 := time.Now()
	log("%s: load ended at %s (UTC; align with northd's debug log)", side, t1.UTC().Format("15:04:05.000"))
	if _, err := syncSB(nb, 10*time.Minute); err != nil {
		return r, fmt.Errorf("converge: %w: %s", err, nd.Tail(20))
	}
	r.converge = time.Since(t1)
	log("%s: sb_cfg at %s", side, time.Now().UTC().Format("15:04:05.000"))
	if r.flows, err = sb.count(ovnschema.SouthboundName, "Logical_Flow"); err != nil {
		return r, err
	}
	if r.bindings, err = sb.count(ovnschema.SouthboundName, "Port_Binding"); err != nil {
		return r, err
	}
	log("%s: converged in %v, %d flows", side, r.converge, r.flows)
	ctl, stopDaemon, err := startNbctlDaemon(b, dir, sock)
	if err != nil {
		return r, err
	}
	defer stopDaemon()
	// The daemon's first command waits for its copy of the NB: warm up.
	floor := min(adds, 20)
	if _, err := lspAdds(ctx, b, ctl, sock, t, 0, 3, false); err != nil {
		return r, err
	}
	lat, err := lspAdds(ctx, b, ctl, sock, t, 3, floor, false)
	if err != nil {
		return r, err
	}
	r.floorP50 = percentile(lat, 50)
	if _, err := syncSB(nb, time.Minute); err != nil {
		return r, err
	}
	lat, err = lspAdds(ctx, b, ctl, sock, t, 3+floor, adds, true)
	if err != nil {
		return r, err
	}
	r.addP50, r.addP90 = percentile(lat, 50), percentile(lat, 90)
	lat, err = rpcAdds(nb, t, 3+floor+adds, min(adds, 20))
	if err != nil {
		return r, err
	}
	r.rpcP50, r.rpcP90 = percentile(lat, 50), percentile(lat, 90)
	if plainAdds > 0 {
		lat, err := lspAdds(ctx, b, "", sock, t, 3+floor+adds+min(adds, 20), plainAdds, true)
		if err != nil {
			return r, err
		}
		r.plainP50, r.plainP90 = percentile(lat, 50), percentile(lat, 90)
	}
	if r.rss, r.hwm, err = proc.Memory(nd.Pid()); err != nil {
		return r, fmt.Errorf("%s memory: %w", side, err)
	}
	select {
	case <-nd.Done():
		return r, fmt.Errorf("%s exited during the run: %s", side, nd.Tail(20))
	default:
	}
	return r, nil
}

// startDB starts the database server -db names with empty NB and SB
// databases: ovsdb-server serves both on one socket, ovnd's database
// role each on its own.
func startDB(ctx context.Context, b bins, dir string) (*daemon, sockets, error) {
	var p *daemon
	var socks sockets
	var err error
	if b.db == dbOvnd {
		socks = sockets{nb: filepath.Join(dir, "nb.sock"), sb: filepath.Join(dir, "sb.sock")}
		cfg := filepath.Join(dir, "ovnd-db.toml")
		text := fmt.Sprintf("roles = [\"database\"]\n\n[database]\ndir = %q\nnb_remotes = [%q]\nsb_remotes = [%q]\n",
			filepath.Join(dir, "ovnd-db"), "punix:"+socks.nb, "punix:"+socks.sb)
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			return nil, socks, err
		}
		p, err = startEnv(dir, "ovnd-db", b.dbEnv, b.ovnd, "run", "--config", cfg)
	} else {
		for _, d := range []struct {
			name   string
			schema []byte
		}{{"nb", ovnschema.Northbound}, {"sb", ovnschema.Southbound}} {
			schema := filepath.Join(dir, d.name+".ovsschema")
			if err := os.WriteFile(schema, d.schema, 0o644); err != nil {
				return nil, socks, err
			}
			if out, err := exec.Command(b.ovsdbTool, "create", filepath.Join(dir, d.name+".db"), schema).CombinedOutput(); err != nil {
				return nil, socks, fmt.Errorf("ovsdb-tool create %s: %w: %s", d.name, err, out)
			}
		}
		sock := filepath.Join(dir, "db.sock")
		socks = sockets{nb: sock, sb: sock}
		p, err = start(dir, "ovsdb-server", b.ovsdbServer, "--remote=punix:"+sock,
			"--unixctl="+filepath.Join(dir, "ovsdb-server.ctl"), "--log-file="+filepath.Join(dir, "ovsdb-server.log"),
			filepath.Join(dir, "nb.db"), filepath.Join(dir, "sb.db"))
	}
	if err != nil {
		return nil, socks, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if listening(socks.nb) && listening(socks.sb) {
			return p, socks, nil
		}
		select {
		case <-p.Done():
			return nil, socks, fmt.Errorf("%s exited: %s", p.Name, p.Tail(20))
		case <-ctx.Done():
			p.Stop(stopGrace)
			return nil, socks, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop(stopGrace)
			return nil, socks, fmt.Errorf("%s did not listen within 30 s: %s", p.Name, p.Tail(20))
		}
	}
}

// listening reports whether a server answers on sock.
func listening(sock string) bool {
	c, err := dial(sock)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func startNorthd(b bins, side, dir string, socks sockets) (*daemon, error) {
	if side == sideOVN {
		return start(dir, "ovn-northd", b.ovnNorthd, "--ovnnb-db=unix:"+socks.nb, "--ovnsb-db=unix:"+socks.sb,
			"--unixctl="+filepath.Join(dir, "ovn-northd.ctl"), "--log-file="+filepath.Join(dir, "ovn-northd.log"))
	}
	cfg := filepath.Join(dir, "ovnd.toml")
	text := fmt.Sprintf("roles = [\"northd\"]\n\n[log]\nlevel = %q\n\n[northd]\nnb = %q\nsb = %q\n", b.ovndLog, "unix:"+socks.nb, "unix:"+socks.sb)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		return nil, err
	}
	return startEnv(dir, "ovnd", b.ovndEnv, b.ovnd, "run", "--config", cfg)
}

// syncSB bumps NB_Global.nb_cfg and waits until northd reports the SB
// holds it (sb_cfg), as `ovn-nbctl --wait=sb sync` does. It returns the
// nb_cfg waited for.
func syncSB(c *conn, timeout time.Duration) (int, error) {
	res, err := c.transact(ovnschema.NorthboundName, []op{
		{"op": "mutate", "table": "NB_Global", "where": []any{}, "mutations": []any{[]any{"nb_cfg", "+=", 1}}},
		{"op": "select", "table": "NB_Global", "where": []any{}, "columns": []string{"nb_cfg"}},
	}, time.Minute)
	if err != nil {
		return 0, err
	}
	var sel struct {
		Rows []struct {
			NbCfg int `json:"nb_cfg"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(res[1], &sel); err != nil || len(sel.Rows) != 1 {
		return 0, fmt.Errorf("nb_cfg: %s", res[1])
	}
	n := sel.Rows[0].NbCfg
	_, err = c.transact(ovnschema.NorthboundName, []op{{"op": "wait", "table": "NB_Global", "where": []any{},
		"timeout": timeout.Milliseconds(), "columns": []string{"sb_cfg"}, "until": "==",
		"rows": []any{op{"sb_cfg": n}}}}, timeout+10*time.Second)
	return n, err
}

// lspAdds runs n `ovn-nbctl --wait=sb lsp-add` (with the port's
// addresses; without --wait=sb unless wait) and returns each one's wall
// time. With a daemon's control socket ctl, the commands go through that
// `ovn-nbctl --detach`, which keeps its NB replica, as OVN_NB_DAEMON does
// in deployments; with ctl "", every ovn-nbctl reads the NB afresh.
// first numbers the new ports.
func lspAdds(ctx context.Context, b bins, ctl, sock string, t topology, first, n int, wait bool) ([]time.Duration, error) {
	env := os.Environ()
	daemon := ctl != ""
	if daemon {
		env = append(env, "OVN_NB_DAEMON="+ctl)
	}
	var lat []time.Duration
	for k := first; k < first+n; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, p := k%t.switches, t.ports+k/t.switches
		name := fmt.Sprintf("add-%s-%d", switchName(s), p)
		args := []string{"--timeout=60"}
		if wait {
			args = append(args, "--wait=sb")
		}
		if !daemon {
			args = append(args, "--db=unix:"+sock)
		}
		args = append(args, "lsp-add", switchName(s), name, "--", "lsp-set-addresses", name, portMAC(s, p)+" "+portIP(s, p))
		cmd := exec.CommandContext(ctx, b.nbctl, args...)
		cmd.Env = env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("ovn-nbctl lsp-add %s: %w: %s", name, err, out)
		}
		lat = append(lat, d)
	}
	return lat, nil
}

// startNbctlDaemon starts `ovn-nbctl --detach` on sock and returns its
// control socket and a function that stops it.
func startNbctlDaemon(b bins, dir, sock string) (string, func(), error) {
	pidfile := filepath.Join(dir, "nbctl.pid")
	cmd := exec.Command(b.nbctl, "--db=unix:"+sock, "--detach", "--no-chdir", "--pidfile="+pidfile,
		"--log-file="+filepath.Join(dir, "nbctl.log"))
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("ovn-nbctl --detach: %w", err)
	}
	stop := func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGTERM)
			}
		}
	}
	ctl := strings.TrimSpace(string(out))
	if ctl == "" {
		stop()
		return "", nil, fmt.Errorf("ovn-nbctl --detach printed no control socket")
	}
	return ctl, stop, nil
}

// rpcAdds makes n port additions as ovn-nbctl --wait=sb lsp-add does,
// over the benchmark's own JSON-RPC connection: one transaction inserts
// the port, adds it to its switch and bumps nb_cfg, a second waits for
// sb_cfg. No process starts, so the figure is northd's turnaround plus
// ovsdb-server's.
func rpcAdds(c *conn, t topology, first, n int) ([]time.Duration, error) {
	var lat []time.Duration
	for k := first; k < first+n; k++ {
		s, p := k%t.switches, t.ports+k/t.switches
		name := fmt.Sprintf("add-%s-%d", switchName(s), p)
		t0 := time.Now()
		res, err := c.transact(ovnschema.NorthboundName, []op{
			{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "np", "row": op{
				"name": name, "addresses": ovsSet(portMAC(s, p) + " " + portIP(s, p))}},
			{"op": "mutate", "table": "Logical_Switch", "where": []any{[]any{"name", "==", switchName(s)}},
				"mutations": []any{[]any{"ports", "insert", ovsSet(named("np"))}}},
			{"op": "mutate", "table": "NB_Global", "where": []any{}, "mutations": []any{[]any{"nb_cfg", "+=", 1}}},
			{"op": "select", "table": "NB_Global", "where": []any{}, "columns": []string{"nb_cfg"}},
		}, time.Minute)
		if err != nil {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
		var sel struct {
			Rows []struct {
				NbCfg int `json:"nb_cfg"`
			} `json:"rows"`
		}
		if err := json.Unmarshal(res[3], &sel); err != nil || len(sel.Rows) != 1 {
			return nil, fmt.Errorf("nb_cfg: %s", res[3])
		}
		if _, err := c.transact(ovnschema.NorthboundName, []op{{"op": "wait", "table": "NB_Global", "where": []any{},
			"timeout": 60000, "columns": []string{"sb_cfg"}, "until": "==",
			"rows": []any{op{"sb_cfg": sel.Rows[0].NbCfg}}}}, 70*time.Second); err != nil {
			return nil, fmt.Errorf("add %s: wait for sb_cfg: %w", name, err)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, nil
}

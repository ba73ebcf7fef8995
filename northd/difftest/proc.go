// Package difftest compares ovnd's northd with a real ovn-northd 23.03:
// it runs private ovsdb-servers in a scratch directory, feeds both the
// same Northbound content through ovn-nbctl and reports, per pipeline
// stage, which logical flows (as `ovn-sbctl lflow-list` prints them) are
// identical, missing from ovnd or extra in ovnd.
package difftest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binaries the differential needs; Available reports the first missing.
var Binaries = []string{"ovsdb-server", "ovsdb-tool", "ovn-northd", "ovn-nbctl", "ovn-sbctl"}

// Available returns an error naming the first binary not on PATH.
func Available() error {
	for _, b := range Binaries {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not found: %w", b, err)
		}
	}
	return nil
}

// Schemas are where the OVN packages install the NB and SB schemas.
const (
	NBSchema = "/usr/share/ovn/ovn-nb.ovsschema"
	SBSchema = "/usr/share/ovn/ovn-sb.ovsschema"
)

// Proc is a daemon started by this package.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Stop kills the daemon and waits for it.
func (p *Proc) Stop() {
	p.cmd.Process.Kill()
	<-p.done
}

func start(dir, name string, args ...string) (*Proc, error) {
	cmd := exec.Command(name, args...)
	log, err := os.Create(filepath.Join(dir, filepath.Base(name)+fmt.Sprint(time.Now().UnixNano())+".out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(p.done) }()
	return p, nil
}

// OVSDB starts an ovsdb-server for schema with a fresh database named
// name in dir and returns its unix: remote once it accepts connections.
func OVSDB(dir, name, schema string) (*Proc, string, error) {
	db := filepath.Join(dir, name+".db")
	if out, err := exec.Command("ovsdb-tool", "create", db, schema).CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("ovsdb-tool create: %v: %s", err, out)
	}
	sock := filepath.Join(dir, name+".sock")
	p, err := start(dir, "ovsdb-server", "--remote=punix:"+sock, "--unixctl="+filepath.Join(dir, name+".ctl"),
		"--no-chdir", "--log-file="+filepath.Join(dir, name+".log"), db)
	if err != nil {
		return nil, "", err
	}
	if err := waitFor(sock); err != nil {
		p.Stop()
		return nil, "", err
	}
	return p, "unix:" + sock, nil
}

// RealNorthd starts ovn-northd 23.03 between nb and sb.
func RealNorthd(dir, nb, sb string) (*Proc, error) {
	return start(dir, "ovn-northd", "--ovnnb-db="+nb, "--ovnsb-db="+sb, "--no-chdir",
		"--unixctl="+filepath.Join(dir, "northd.ctl"), "--log-file="+filepath.Join(dir, "northd.log"))
}

func waitFor(path string) error {
	for range 200 {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("timed out waiting for " + path)
}

// NBCtl runs ovn-nbctl against nb. Its own timeout is generous (the
// benchmark topology's commands take tens of seconds on a loaded
// machine); callers bound it with ctx.
func NBCtl(ctx context.Context, nb string, args ...string) (string, error) {
	return run(ctx, "ovn-nbctl", append([]string{"--db=" + nb, "--timeout=120"}, args...)...)
}

// SBCtl runs ovn-sbctl against sb, with the same generous timeout.
func SBCtl(ctx context.Context, sb string, args ...string) (string, error) {
	return run(ctx, "ovn-sbctl", append([]string{"--db=" + sb, "--timeout=120"}, args...)...)
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/roles"
)

// Default socket paths of OVN's tools: with the lab's databases also
// listening there, ovn-nbctl and ovn-sbctl work with no --db.
const (
	defaultNBSocket = "/var/run/ovn/ovnnb_db.sock"
	defaultSBSocket = "/var/run/ovn/ovnsb_db.sock"
)

// controllerEnv names the development hook that runs the installed
// ovn-controller instead of ovnd's controller role. It is a comparison aid
// for developers (is a failure the lab's plumbing or ovnd's controller?)
// and deliberately not in the lab's help text.
const controllerEnv = "OVND_LAB_CONTROLLER"

// sockets are where the lab's databases listen.
type sockets struct {
	NB, SB               string // always, under the state directory
	DefaultNB, DefaultSB bool   // also on OVN's default paths
}

// labConfig renders the ovnd.toml of the lab's roles: the embedded
// database with files in dbDir, northd, and, unless realController, the
// controller role on the OVS at ovsSock.
func labConfig(dbDir string, s sockets, ovsSock string, realController bool) string {
	roleList := []string{roles.RoleDatabase, roles.RoleNorthd}
	if !realController {
		roleList = append(roleList, roles.RoleController)
	}
	nbRemotes, sbRemotes := []string{"punix:" + s.NB}, []string{"punix:" + s.SB}
	if s.DefaultNB {
		nbRemotes = append(nbRemotes, "punix:"+defaultNBSocket)
	}
	if s.DefaultSB {
		sbRemotes = append(sbRemotes, "punix:"+defaultSBSocket)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by ovnd lab; `ovnd run --config` on this file runs the same roles.\n")
	fmt.Fprintf(&b, "version = %d\nroles = %s\n\n", roles.ConfigVersion, tomlList(roleList))
	fmt.Fprintf(&b, "[database]\ndir = %s\nnb_remotes = %s\nsb_remotes = %s\n\n",
		strconv.Quote(dbDir), tomlList(nbRemotes), tomlList(sbRemotes))
	fmt.Fprintf(&b, "[northd]\nnb = %s\nsb = %s\n\n", strconv.Quote("unix:"+s.NB), strconv.Quote("unix:"+s.SB))
	fmt.Fprintf(&b, "[controller]\novs = %s\n", strconv.Quote("unix:"+ovsSock))
	return b.String()
}

func tomlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// central is ovnd's roles running inside the lab, and the installed
// ovn-controller when the development hook asks for it.
type central struct {
	cancel     context.CancelFunc
	done       chan error // roles.Run's result
	controller *daemon    // the real ovn-controller, or nil
}

// startCentral writes the config to path, then runs its roles until
// stop. It returns once every role is serving.
func startCentral(path, config string, log *slog.Logger) (*central, error) {
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return nil, fmt.Errorf("write lab config: %w", err)
	}
	cfg, err := roles.Parse(path, []byte(config))
	if err != nil {
		return nil, fmt.Errorf("lab config: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &central{cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		c.done <- roles.Run(ctx, cfg, roles.Options{Logger: log, Ready: func() { close(ready) }})
	}()
	select {
	case <-ready:
		return c, nil
	case err := <-c.done:
		cancel()
		return nil, fmt.Errorf("start ovnd's roles: %w", err)
	}
}

// startRealController runs the installed ovn-controller on the OVS at
// ovsSock (the development hook), with its files in dir.
func (c *central) startRealController(dir, ovsSock, ovsRunDir string) error {
	env := []string{"OVS_RUNDIR=" + ovsRunDir, "OVN_RUNDIR=" + dir}
	d, err := startDaemon("ovn-controller", filepath.Join(dir, "ovn-controller.out"), env,
		"ovn-controller", "unix:"+ovsSock,
		"--pidfile="+filepath.Join(dir, "ovn-controller.pid"),
		"--log-file="+filepath.Join(dir, "ovn-controller.log"))
	c.controller = d
	return err
}

// failed returns why the roles or the real controller stopped, if they
// did; a failed central is not usable.
func (c *central) failed() error {
	select {
	case err := <-c.done:
		c.done <- err // for stop
		if err == nil {
			err = errors.New("ovnd's roles stopped")
		}
		return err
	default:
	}
	if c.controller != nil {
		if err := c.controller.Alive(); err != nil {
			return err
		}
	}
	return nil
}

// stop stops the controller, then the roles, and waits for them.
func (c *central) stop() error {
	if c == nil {
		return nil
	}
	c.controller.Stop(daemonGrace)
	c.cancel()
	return <-c.done
}

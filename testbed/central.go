package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Schemas installed by the Debian packages.
const (
	nbSchema  = "/usr/share/ovn/ovn-nb.ovsschema"
	sbSchema  = "/usr/share/ovn/ovn-sb.ovsschema"
	ovsSchema = "/usr/share/openvswitch/vswitch.ovsschema"
)

// Central is the central node: the NB and SB databases and northd. Its
// daemons run in the root namespace; chassis reach them over unix sockets.
type Central struct {
	Dir    string // run directory of the central node
	NBSock string
	SBSock string
	db     *daemon
	northd *daemon
}

// NBRemote and SBRemote are the databases' client addresses.
func (c *Central) NBRemote() string { return "unix:" + c.NBSock }
func (c *Central) SBRemote() string { return "unix:" + c.SBSock }

// startCentral starts the databases and northd of the chosen kinds.
func startCentral(dir string, cfg Config) (*Central, error) {
	c := &Central{Dir: dir, NBSock: filepath.Join(dir, "nb.sock"), SBSock: filepath.Join(dir, "sb.sock")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, fmt.Errorf("central: %w", err)
	}
	if err := c.startDB(cfg.DB); err != nil {
		return c, err
	}
	if err := c.waitDB(); err != nil {
		return c, err
	}
	return c, c.startNorthd(cfg.Northd)
}

func (c *Central) startDB(kind Kind) error {
	out := filepath.Join(c.Dir, "db.out")
	var err error
	if kind == OVND {
		state := filepath.Join(c.Dir, "db")
		if err := os.MkdirAll(state, 0o755); err != nil {
			return fmt.Errorf("central db: %w", err)
		}
		c.db, err = startOVND("ovnd-database", out, "", nil, ovndDatabaseConfig(state, c.NBSock, c.SBSock))
		return err
	}
	nb, sb := filepath.Join(c.Dir, "nb.db"), filepath.Join(c.Dir, "sb.db")
	for db, schema := range map[string]string{nb: nbSchema, sb: sbSchema} {
		if _, err := os.Stat(db); err == nil {
			continue // a restart: keep the content
		}
		if _, err := run("", nil, "ovsdb-tool", "create", db, schema); err != nil {
			return fmt.Errorf("central db: %w", err)
		}
	}
	c.db, err = startDaemon("ovsdb-server(central)", out, "", nil, "ovsdb-server", nb, sb,
		"--remote=punix:"+c.NBSock, "--remote=punix:"+c.SBSock,
		"--pidfile="+filepath.Join(c.Dir, "ovsdb-server.pid"),
		"--unixctl="+filepath.Join(c.Dir, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(c.Dir, "ovsdb-server.log"), "--no-chdir")
	return err
}

// waitDB waits until both databases answer.
func (c *Central) waitDB() error {
	return poll(20*time.Second, func() error {
		if err := c.db.Alive(); err != nil {
			return err
		}
		if _, err := runTimeout(5*time.Second, "", nil, "ovn-nbctl", "--db="+c.NBRemote(), "--timeout=3", "show"); err != nil {
			return err
		}
		_, err := runTimeout(5*time.Second, "", nil, "ovn-sbctl", "--db="+c.SBRemote(), "--timeout=3", "show")
		return err
	})
}

func (c *Central) startNorthd(kind Kind) error {
	out := filepath.Join(c.Dir, "northd.out")
	var err error
	if kind == OVND {
		c.northd, err = startOVND("ovnd-northd", out, "", nil, ovndNorthdConfig(c.NBSock, c.SBSock))
		return err
	}
	argv := append([]string{"ovn-northd",
		"--ovnnb-db=" + c.NBRemote(), "--ovnsb-db=" + c.SBRemote(),
		"--pidfile=" + filepath.Join(c.Dir, "ovn-northd.pid"),
		"--unixctl=" + filepath.Join(c.Dir, "ovn-northd.ctl"),
		"--log-file=" + filepath.Join(c.Dir, "ovn-northd.log"), "--no-chdir"}, extraOVNArgs()...)
	c.northd, err = startDaemon("ovn-northd", out, "", []string{"OVN_RUNDIR=" + c.Dir}, argv...)
	return err
}

// daemons lists the central daemons that were started.
func (c *Central) daemons() []*daemon {
	var ds []*daemon
	for _, d := range []*daemon{c.northd, c.db} {
		if d != nil {
			ds = append(ds, d)
		}
	}
	return ds
}

// stop stops northd, then the databases.
func (c *Central) stop() {
	for _, d := range c.daemons() {
		d.Stop(3 * time.Second)
	}
}

package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Chassis is one simulated hypervisor: a network namespace with its own
// ovsdb-server and ovs-vswitchd (userspace datapath), br-int, br-phy owning
// the underlay port and the tunnel IP, and a controller.
type Chassis struct {
	Name     string // short name inside the run, "hv1"
	SystemID string // OVN chassis name
	NS       string // network namespace
	Dir      string // run directory holding sockets and logs
	TunnelIP string
	Kind     Kind // controller implementation
	tb       *Topology
	ulLink   string // underlay veth end in the underlay namespace
	ulMAC    string // MAC of ul0, the underlay port on br-phy
	ovsdb    *daemon
	vswitchd *daemon
	ctl      *daemon
}

// underlay addressing: chassis i gets 172.31.0.(i+1).
const underlayNet = "172.31.0."

func (c *Chassis) dbSock() string { return filepath.Join(c.Dir, "db.sock") }

// env is what every OVS and OVN tool run for this chassis needs to find
// the chassis's sockets instead of the system's.
func (c *Chassis) env() []string {
	return []string{"OVS_RUNDIR=" + c.Dir, "OVN_RUNDIR=" + c.Dir}
}

// VSCtl runs ovs-vsctl against the chassis's database.
func (c *Chassis) VSCtl(args ...string) (string, error) {
	return run("", nil, append([]string{"ovs-vsctl", "--db=unix:" + c.dbSock(), "--timeout=20"}, args...)...)
}

// OFCtl runs ovs-ofctl against the chassis's bridge management sockets.
func (c *Chassis) OFCtl(args ...string) (string, error) {
	return run("", c.env(), append([]string{"ovs-ofctl", "-O", "OpenFlow15"}, args...)...)
}

// startChassis builds chassis number i (0-based) of tb.
func (tb *Topology) startChassis(i int) (*Chassis, error) {
	name := fmt.Sprintf("hv%d", i+1)
	c := &Chassis{
		Name: name, SystemID: tb.Run + "-" + name, NS: tb.Run + "-" + name,
		Dir: filepath.Join(tb.Dir, name), TunnelIP: fmt.Sprintf("%s%d", underlayNet, i+1),
		Kind: tb.Config.Controller(i), ulLink: name, tb: tb,
	}
	tb.Chassis = append(tb.Chassis, c) // before anything can fail: cleanup finds it
	steps := []func() error{
		func() error { return os.MkdirAll(c.Dir, 0o755) },
		func() error { return addNetns(c.NS) },
		func() error { return c.wireUnderlay(tb.underlayNS, i) },
		c.startOVS,
		c.createBridges,
		func() error { return c.configure(tb) },
		func() error { return c.startController(tb) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return c, fmt.Errorf("chassis %s: %w", name, err)
		}
	}
	return c, nil
}

// wireUnderlay connects the chassis to the underlay bridge with a veth:
// "hvN" in the underlay namespace, "ul0" in the chassis.
func (c *Chassis) wireUnderlay(ulNS string, i int) error {
	c.ulMAC = fmt.Sprintf("0a:00:00:00:00:%02x", i+1)
	return runAll(
		[]string{"ip", "-n", ulNS, "link", "add", c.ulLink, "type", "veth", "peer", "name", "ul0", "netns", c.NS},
		[]string{"ip", "-n", ulNS, "link", "set", c.ulLink, "master", "ul", "up"},
		[]string{"ip", "-n", c.NS, "link", "set", "ul0", "address", c.ulMAC, "up"},
	)
}

func (c *Chassis) startOVS() error {
	db := filepath.Join(c.Dir, "conf.db")
	if _, err := run("", nil, "ovsdb-tool", "create", db, ovsSchema); err != nil {
		return err
	}
	return c.startOVSOn(db)
}

// createBridges adds br-int and br-phy; ovs-vsctl waits for ovs-vswitchd
// to apply each change, so this also waits for ovs-vswitchd to be up.
func (c *Chassis) createBridges() error {
	if _, err := c.VSCtl("add-br", "br-int", "--", "set", "bridge", "br-int",
		"datapath_type=netdev", "fail-mode=secure", "other_config:disable-in-band=true"); err != nil {
		return err
	}
	if _, err := c.VSCtl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
		"other_config:hwaddr="+c.ulMAC, "--", "add-port", "br-phy", "ul0"); err != nil {
		return err
	}
	return runAll(
		[]string{"ip", "-n", c.NS, "link", "set", "lo", "up"},
		[]string{"ip", "-n", c.NS, "addr", "add", c.TunnelIP + "/24", "dev", "br-phy"},
		[]string{"ip", "-n", c.NS, "link", "set", "br-phy", "up"},
	)
}

// configure writes the chassis settings ovn-controller reads.
func (c *Chassis) configure(tb *Topology) error {
	_, err := c.VSCtl("set", "Open_vSwitch", ".",
		"external_ids:system-id="+c.SystemID,
		"external_ids:hostname="+c.SystemID,
		"external_ids:ovn-remote="+tb.Central.SBRemote(),
		"external_ids:ovn-encap-type="+string(tb.Config.Encap),
		"external_ids:ovn-encap-ip="+c.TunnelIP,
		"external_ids:ovn-bridge=br-int",
		"external_ids:ovn-bridge-datapath-type=netdev",
		"external_ids:ovn-remote-probe-interval=0")
	return err
}

func (c *Chassis) startController(tb *Topology) error {
	out := filepath.Join(c.Dir, "controller.out")
	var err error
	if c.Kind == OVND {
		c.ctl, err = startOVND(c.Name+"/ovnd-controller", out, c.NS, c.env(), ovndControllerConfig(c.dbSock()))
		return err
	}
	argv := append([]string{"ovn-controller", "unix:" + c.dbSock(),
		"--pidfile=" + filepath.Join(c.Dir, "ovn-controller.pid"),
		"--log-file=" + filepath.Join(c.Dir, "ovn-controller.log"), "--no-chdir"}, extraOVNArgs()...)
	c.ctl, err = startDaemon(c.Name+"/ovn-controller", out, c.NS, c.env(), argv...)
	return err
}

// waitRegistered waits until the chassis has its Chassis row in the SB.
func (c *Chassis) waitRegistered(tb *Topology, timeout time.Duration) error {
	return poll(timeout, func() error {
		for _, d := range c.daemons() {
			if err := d.Alive(); err != nil {
				return err
			}
		}
		out, err := tb.sbctl("--bare", "--columns=name", "find", "Chassis", "name="+c.SystemID)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) == "" {
			return fmt.Errorf("chassis %s not in the SB yet", c.SystemID)
		}
		return nil
	})
}

func (c *Chassis) daemons() []*daemon {
	var ds []*daemon
	for _, d := range []*daemon{c.ctl, c.vswitchd, c.ovsdb} {
		if d != nil {
			ds = append(ds, d)
		}
	}
	return ds
}

// stop stops the controller, then OVS, and deletes the namespace.
func (c *Chassis) stop() {
	for _, d := range c.daemons() {
		d.Stop(3 * time.Second)
	}
	_ = delNetns(c.NS)
}

// plug creates a veth with one end (ifname) on br-int bound to the logical
// port and the other ("eth0") in the VIF's namespace.
func (c *Chassis) plug(vifNS, ifname, port string) error {
	if err := runAll(
		[]string{"ip", "-n", c.NS, "link", "add", ifname, "type", "veth", "peer", "name", "eth0", "netns", vifNS},
		[]string{"ip", "-n", c.NS, "link", "set", ifname, "up"},
	); err != nil {
		return err
	}
	_, err := c.VSCtl("add-port", "br-int", ifname, "--", "set", "Interface", ifname,
		"external_ids:iface-id="+port)
	return err
}

// unplug removes the port from br-int; deleting the VIF's namespace
// removes the veth.
func (c *Chassis) unplug(ifname string) {
	if c.ovsdb == nil || c.ovsdb.Alive() != nil {
		return // the whole chassis goes with its namespace
	}
	_, _ = run("", nil, "ovs-vsctl", "--db=unix:"+c.dbSock(), "--timeout=5", "--no-wait",
		"--if-exists", "del-port", "br-int", ifname)
}

// PauseController stops the chassis's controller (SIGSTOP to its process
// group), so that it neither reads SB nor reports progress, until resume
// is called or the test ends.
func (c *Chassis) PauseController(t testing.TB) (resume func()) {
	t.Helper()
	pgid := c.ctl.Pid()
	if err := syscall.Kill(-pgid, syscall.SIGSTOP); err != nil {
		t.Fatalf("testbed: pause %s: %v", c.ctl.Name, err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(-pgid, syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}

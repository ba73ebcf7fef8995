package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// prepare makes the state directory ready: it undoes what a crashed lab
// left, then starts a fresh journal.
func (l *lab) prepare() error {
	old, err := checkStateDir(l.dir)
	if err != nil {
		return err
	}
	if old != nil {
		if pid := old.liveOwner(); pid != 0 {
			return fmt.Errorf("another ovnd lab (pid %d) uses %s: stop it first (Ctrl-C in its terminal, or kill %d)", pid, l.dir, pid)
		}
		l.p.step("cleaning up after an earlier lab that did not stop cleanly")
		if err := recoverStale(l.dir, old); err != nil {
			return fmt.Errorf("clean up the earlier lab: %w", err)
		}
	}
	if n := len(labNamespaces()) + len(labLinks()); n > 0 {
		l.p.step("removing %d namespaces and links named %s* left by an earlier lab", n, namePrefix)
		if err := sweepVIFs(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	l.j = &journal{PID: os.Getpid()}
	if err := l.j.save(l.dir); err != nil {
		return err
	}
	l.p.step("state directory %s", l.dir)
	return nil
}

// startOVS uses the host's Open vSwitch if it answers, else starts one.
func (l *lab) startOVS(context.Context) error {
	if answers(l.opts.HostOVS) {
		return l.useHostOVS()
	}
	l.p.step("starting Open vSwitch (none answers on %s)", l.opts.HostOVS)
	o, err := startPrivateOVS(filepath.Join(l.dir, "ovs"))
	if err != nil {
		return fmt.Errorf("start Open vSwitch: %w", err)
	}
	l.ovs = o
	l.p.info("ovsdb-server and ovs-vswitchd (%s datapath), files in %s", o.datapath, o.runDir)
	return nil
}

// useHostOVS checks that the running OVS is not already an OVN chassis,
// then records what the lab will change on it.
func (l *lab) useHostOVS() error {
	o := &localOVS{sock: l.opts.HostOVS, runDir: filepath.Dir(l.opts.HostOVS), datapath: hostDatapath()}
	if _, err := appctl(o.runDir, "ovs-vswitchd", "version"); err != nil {
		return fmt.Errorf("an Open vSwitch database answers on %s but ovs-vswitchd does not run: start it (systemctl start openvswitch-switch, or /usr/share/openvswitch/scripts/ovs-ctl start)", o.sock)
	}
	ids, err := o.externalIDs()
	if err != nil {
		return fmt.Errorf("Open vSwitch on %s: %w", o.sock, err)
	}
	if r, ok := ids["ovn-remote"]; ok {
		return fmt.Errorf("the Open vSwitch on %s is already an OVN chassis (external_ids:ovn-remote=%s): stop its ovn-controller and run `ovs-vsctl remove Open_vSwitch . external_ids ovn-remote`, or stop that Open vSwitch", o.sock, r)
	}
	if ok, err := o.bridgeExists(integrationBridge); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("the Open vSwitch on %s already has a bridge %s, which the lab would take over: delete it (ovs-vsctl del-br %s) or stop that Open vSwitch", o.sock, integrationBridge, integrationBridge)
	}
	l.j.HostOVS = o.sock
	l.j.ExternalIDs = map[string]*string{}
	for _, k := range chassisKeys(ids) {
		if v, ok := ids[k]; ok {
			l.j.ExternalIDs[k] = &v
		} else {
			l.j.ExternalIDs[k] = nil
		}
	}
	if err := l.j.save(l.dir); err != nil {
		return err
	}
	l.ovs = o
	l.p.step("using the running Open vSwitch on %s (%s datapath); its settings are restored on stop", o.sock, o.datapath)
	return nil
}

// chassisSettings are the external_ids a chassis needs. A system-id
// already set is kept.
func chassisSettings(ids map[string]string, sbSock, datapath string) map[string]string {
	s := map[string]string{
		"ovn-remote":               "unix:" + sbSock,
		"ovn-encap-type":           "geneve",
		"ovn-encap-ip":             "127.0.0.1",
		"ovn-bridge-datapath-type": datapath,
	}
	if ids["system-id"] == "" {
		s["system-id"] = "ovnd-lab"
	}
	return s
}

// chassisKeys are the keys chassisSettings sets.
func chassisKeys(ids map[string]string) []string {
	var keys []string
	for k := range chassisSettings(ids, "", "") {
		keys = append(keys, k)
	}
	return keys
}

// startCentral picks the sockets and starts ovnd's roles.
func (l *lab) startCentral(ctx context.Context) error {
	if !l.opts.PrivateSocketsOnly {
		if err := l.makeOVNRunDir(); err != nil {
			return err
		}
	}
	if !l.opts.PrivateSocketsOnly {
		l.sockets.DefaultNB = !answers(defaultNBSocket)
		l.sockets.DefaultSB = !answers(defaultSBSocket)
	}
	log, err := l.logger()
	if err != nil {
		return err
	}
	config := labConfig(filepath.Join(l.dir, "db"), l.sockets, l.ovs.sock, realController())
	l.central, err = startCentral(filepath.Join(l.dir, "ovnd.toml"), config, log)
	if err != nil {
		return err
	}
	if err := l.initNB(ctx); err != nil {
		return err
	}
	if realController() {
		// ovn-controller 23.03 segfaults in its first recompute when it
		// meets an SB_Global without options:svc_monitor_mac and
		// mac_prefix: 4 runs in 6 when it connected before ovnd's
		// northd had written them, 0 in 8 when they were there first.
		// Wait for them.
		if err := waitNorthd(ctx, l.sockets.SB); err != nil {
			return err
		}
		if err := l.central.startRealController(l.dir, l.ovs.sock, l.ovs.runDir); err != nil {
			return err
		}
		l.p.step("started ovnd: database, northd; and the installed ovn-controller (%s=ovn)", controllerEnv)
	} else {
		l.p.step("started ovnd: database, northd, controller")
	}
	l.p.info("NB: unix:%s%s", l.sockets.NB, l.alsoOn(l.sockets.DefaultNB, defaultNBSocket))
	l.p.info("SB: unix:%s%s", l.sockets.SB, l.alsoOn(l.sockets.DefaultSB, defaultSBSocket))
	l.p.info("config %s, log %s", filepath.Join(l.dir, "ovnd.toml"), filepath.Join(l.dir, "ovnd.log"))
	return nil
}

// alsoOn says whether a database also listens on its default path.
func (l *lab) alsoOn(ok bool, path string) string {
	switch {
	case l.opts.PrivateSocketsOnly:
		return ""
	case ok:
		return " (also " + path + ": ovn-nbctl and ovn-sbctl need no --db)"
	}
	return " (" + path + " is taken by another server)"
}

// makeOVNRunDir creates /var/run/ovn for the default sockets if missing,
// and records that it did.
func (l *lab) makeOVNRunDir() error {
	dir := filepath.Dir(defaultNBSocket)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	l.j.CreatedOVNRunDir = true
	if err := l.j.save(l.dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// configureChassis creates br-int and points the OVS at the lab's SB.
func (l *lab) configureChassis(context.Context) error {
	o := l.ovs
	if !o.private {
		l.j.CreatedBridge = true
		if err := l.j.save(l.dir); err != nil {
			return err
		}
	}
	if err := o.addBridge(); err != nil {
		return fmt.Errorf("create %s: %w", integrationBridge, err)
	}
	ids, err := o.externalIDs()
	if err != nil {
		return err
	}
	set := map[string]*string{}
	for k, v := range chassisSettings(ids, l.sockets.SB, o.datapath) {
		set[k] = &v
	}
	if err := o.setExternalIDs(set); err != nil {
		return fmt.Errorf("configure the chassis: %w", err)
	}
	l.p.step("configured the chassis: %s (%s datapath), external_ids ovn-remote=unix:%s ovn-encap-type=geneve ovn-encap-ip=127.0.0.1",
		integrationBridge, o.datapath, l.sockets.SB)
	return nil
}

// waitChassis waits for the controller to register the chassis in SB.
func (l *lab) waitChassis(ctx context.Context) error {
	c, err := sbClient(ctx, l.sockets.SB)
	if err != nil {
		return err
	}
	defer c.Close()
	const timeout = 30 * time.Second
	deadline := time.Now().Add(timeout)
	for {
		var chassis []sbdb.Chassis
		c.List(ctx, &chassis)
		if len(chassis) > 0 {
			l.p.step("the controller registered chassis %q in SB", chassis[0].Name)
			return nil
		}
		if err := l.central.failed(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the controller did not register a chassis in SB within %v%s", timeout, l.controllerTail())
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitNorthd waits up to 30 s for northd to have written SB_Global's
// options:svc_monitor_mac (with mac_prefix, from NB_Global).
func waitNorthd(ctx context.Context, sbSock string) error {
	c, err := sbClient(ctx, sbSock)
	if err != nil {
		return err
	}
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		var g []sbdb.SBGlobal
		c.List(ctx, &g)
		if len(g) > 0 && g[0].Options["svc_monitor_mac"] != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("northd did not write SB_Global options:svc_monitor_mac within 30s")
		}
		select {
		case <-ctx.Done():
			return errors.New("interrupted")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// controllerTail is the end of the controller's log, to explain a
// failure: the state directory, log included, goes away with the lab.
func (l *lab) controllerTail() string {
	path, mark := filepath.Join(l.dir, "ovnd.log"), "component=controller"
	if realController() {
		path, mark = filepath.Join(l.dir, "ovn-controller.log"), ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.Contains(line, mark) {
			lines = append(lines, line)
		}
	}
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	if len(lines) == 0 {
		return ""
	}
	return "; the controller's log ends:\n" + strings.Join(lines, "\n")
}

// sbClient connects a libovsdb client to the SB at sock and replicates it.
func sbClient(ctx context.Context, sock string) (client.Client, error) {
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		return nil, err
	}
	lg := logr.Discard()
	c, err := client.NewOVSDBClient(m, client.WithEndpoint("unix:"+sock), client.WithLogger(&lg))
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("connect SB %s: %w", sock, err)
	}
	if _, err := c.MonitorAll(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor SB: %w", err)
	}
	return c, nil
}

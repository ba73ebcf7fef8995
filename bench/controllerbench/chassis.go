package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// hypervisor is the chassis under test: a network namespace holding a
// private ovsdb-server and ovs-vswitchd (userspace datapath, run directory
// dir), br-int with the local VIFs, and later the controller. VIF 0 and
// every added port are veths whose other end sits in a namespace of its
// own (so that they can ping); the other local VIFs are OVS internal
// ports.
type hypervisor struct {
	dir      string
	ns       string
	systemID string
	ovsdb    *daemon
	vswitchd *daemon
	vifNS    []string // namespaces created for VIFs, removed by close
}

func (h *hypervisor) sock() string { return filepath.Join(h.dir, "db.sock") }
func (h *hypervisor) mgmt() string { return filepath.Join(h.dir, "br-int.mgmt") }
func (h *hypervisor) env() []string {
	return []string{"OVS_RUNDIR=" + h.dir, "OVS_DBDIR=" + h.dir, "OVS_LOGDIR=" + h.dir}
}

func (h *hypervisor) vsctl(ctx context.Context, b tools, args ...string) (string, error) {
	return sh(ctx, nil, append([]string{b.vsctl, "--db=unix:" + h.sock(), "--timeout=60"}, args...)...)
}

// startHypervisor builds the chassis with l.local VIFs bound to the first
// local ports; the controller is not started.
func startHypervisor(ctx context.Context, b tools, dir, ns, systemID string, sbRemote string, l layout) (_ *hypervisor, err error) {
	h := &hypervisor{dir: dir, ns: ns, systemID: systemID}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := sh(context.Background(), nil, "ip", "netns", "add", ns); err != nil {
		return nil, err
	}
	if _, err := sh(context.Background(), nil, "ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	if err := h.startOVS(ctx, b); err != nil {
		return nil, err
	}
	if _, err := h.vsctl(ctx, b, "set", "Open_vSwitch", ".",
		"external_ids:system-id="+systemID, "external_ids:hostname="+systemID,
		"external_ids:ovn-remote="+sbRemote, "external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip="+localIP, "external_ids:ovn-bridge-datapath-type=netdev",
		"external_ids:ovn-remote-probe-interval=0"); err != nil {
		return nil, err
	}
	args := []string{"add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev",
		"fail-mode=secure", "other_config:disable-in-band=true"}
	for i := 1; i < l.local; i++ {
		name := fmt.Sprintf("vif%d", i)
		args = append(args, "--", "add-port", "br-int", name, "--", "set", "Interface", name,
			"type=internal", "external_ids:iface-id="+l.localPort(i))
	}
	if _, err := h.vsctl(ctx, b, args...); err != nil {
		return nil, err
	}
	mac, ip := addr(0, 0)
	if err := h.addVethVIF(ctx, b, "vif0", ns+"-v0", mac, ip, l.localPort(0)); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *hypervisor) startOVS(ctx context.Context, b tools) error {
	db := filepath.Join(h.dir, "conf.db")
	if _, err := sh(context.Background(), nil, b.ovsdbTool, "create", db, b.vswitchSchema); err != nil {
		return err
	}
	var err error
	h.ovsdb, err = spawn(h.dir, "ovsdb-server", h.ns, h.env(), b.ovsdbServer, db, "--remote=punix:"+h.sock(),
		"--unixctl="+filepath.Join(h.dir, "ovsdb-server.ctl"), "--log-file="+filepath.Join(h.dir, "ovsdb-server.log"), "--no-chdir")
	if err != nil {
		return err
	}
	if err := waitFor(ctx, 30*time.Second, func() error {
		if err := h.ovsdb.Alive(); err != nil {
			return err
		}
		_, err := h.vsctl(ctx, b, "--no-wait", "init")
		return err
	}); err != nil {
		return fmt.Errorf("private ovsdb-server: %w", err)
	}
	h.vswitchd, err = spawn(h.dir, "ovs-vswitchd", h.ns, h.env(), b.vswitchd, "unix:"+h.sock(),
		"--unixctl="+filepath.Join(h.dir, "ovs-vswitchd.ctl"), "--log-file="+filepath.Join(h.dir, "ovs-vswitchd.log"), "--no-chdir")
	return err
}

// prepareVIF creates a namespace vifNS with a veth: "eth0" inside with mac
// and ip (a /8, so every switch's subnet is on link), the other end port in
// the chassis namespace, up but not yet on br-int.
func (h *hypervisor) prepareVIF(port, vifNS, mac, ip string) error {
	if _, err := sh(context.Background(), nil, "ip", "netns", "add", vifNS); err != nil {
		return err
	}
	h.vifNS = append(h.vifNS, vifNS)
	for _, argv := range [][]string{
		{"ip", "-n", h.ns, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", vifNS},
		{"ip", "-n", h.ns, "link", "set", port, "up"},
		{"ip", "-n", vifNS, "link", "set", "eth0", "address", mac},
		{"ip", "-n", vifNS, "addr", "add", ip + "/8", "dev", "eth0"},
		{"ip", "-n", vifNS, "link", "set", "lo", "up"},
		{"ip", "-n", vifNS, "link", "set", "eth0", "up"},
	} {
		if _, err := sh(context.Background(), nil, argv...); err != nil {
			return err
		}
	}
	return nil
}

// neighbour makes vifNS resolve ip to mac without ARP, so that the ping
// measurement does not wait for ARP retries.
func neighbour(vifNS, ip, mac string) error {
	_, err := sh(context.Background(), nil, "ip", "-n", vifNS, "neigh", "replace", ip, "lladdr", mac, "dev", "eth0", "nud", "permanent")
	return err
}

// addVethVIF prepares a veth VIF and binds it to a logical port at once.
func (h *hypervisor) addVethVIF(ctx context.Context, b tools, port, vifNS, mac, ip, lport string) error {
	if err := h.prepareVIF(port, vifNS, mac, ip); err != nil {
		return err
	}
	return h.bind(ctx, b, port, lport)
}

// bind adds port to br-int with external_ids:iface-id=lport; ovs-vsctl
// returns once ovs-vswitchd has the port.
func (h *hypervisor) bind(ctx context.Context, b tools, port, lport string) error {
	_, err := h.vsctl(ctx, b, "add-port", "br-int", port, "--", "set", "Interface", port, "external_ids:iface-id="+lport)
	return err
}

// installed counts the interfaces whose external_ids:ovn-installed is
// "true".
func (h *hypervisor) installed(ctx context.Context, b tools) (int, error) {
	out, err := h.vsctl(ctx, b, "--bare", "--columns=name", "find", "Interface", `external_ids:ovn-installed="true"`)
	if err != nil {
		return 0, err
	}
	return len(strings.Fields(out)), nil
}

// flowCount is the number of OpenFlow flows on br-int, from
// `ovs-ofctl dump-aggregate`.
func (h *hypervisor) flowCount(ctx context.Context, b tools) (int, error) {
	out, err := sh(ctx, nil, b.ofctl, "-O", "OpenFlow15", "dump-aggregate", "unix:"+h.mgmt())
	if err != nil {
		return 0, err
	}
	return parseAggregate(out)
}

// parseAggregate reads flow_count from ovs-ofctl's aggregate reply, e.g.
// "OFPST_AGGREGATE reply (OF1.5) (xid=0x2): packet_count=0 byte_count=0 flow_count=1234".
func parseAggregate(out string) (int, error) {
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, "flow_count="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("aggregate reply %q: %w", strings.TrimSpace(out), err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("aggregate reply %q has no flow_count", strings.TrimSpace(out))
}

// close stops OVS and removes every namespace the chassis created.
func (h *hypervisor) close() {
	for _, d := range []*daemon{h.vswitchd, h.ovsdb} {
		if d != nil {
			d.stop()
		}
	}
	for _, ns := range h.vifNS {
		_, _ = sh(context.Background(), nil, "ip", "netns", "del", ns)
	}
	_, _ = sh(context.Background(), nil, "ip", "netns", "del", h.ns)
}

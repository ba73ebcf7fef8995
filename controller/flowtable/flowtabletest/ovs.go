// Package flowtabletest runs a private Open vSwitch for tests that install
// flows for real: an ovsdb-server and an ovs-vswitchd (userspace
// datapath) in their own network namespace, serving one bridge, with
// VIFs that are namespaces joined to the bridge by veth pairs.
package flowtabletest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/controller/openflow"
)

// OVS is a private OVS with bridge br-int.
type OVS struct {
	Dir string // run directory: sockets, database, logs
	NS  string // network namespace of ovs-vswitchd and the bridge ports
	t   testing.TB
}

// Start starts the daemons, or skips the test when not root or OVS is
// missing. Everything it starts is stopped and removed in t.Cleanup.
func Start(t testing.TB) *OVS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run ovs-vswitchd")
	}
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	dir, err := os.MkdirTemp("", "ftovs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	o := &OVS{Dir: dir, NS: "ftovs-" + randomID(), t: t}
	o.mustRun("ip", "netns", "add", o.NS)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", o.NS).Run() })
	o.mustRun("ovsdb-tool", "create", filepath.Join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema")
	o.daemon("ovsdb-server", filepath.Join(dir, "conf.db"), "--remote=punix:"+o.dbSock(),
		"--unixctl="+filepath.Join(dir, "ovsdb.ctl"), "--log-file="+filepath.Join(dir, "ovsdb.log"), "--no-chdir")
	o.waitFor(o.dbSock())
	o.daemon("ip", "netns", "exec", o.NS, "ovs-vswitchd", "unix:"+o.dbSock(),
		"--unixctl="+filepath.Join(dir, "vswitchd.ctl"), "--log-file="+filepath.Join(dir, "vswitchd.log"), "--no-chdir")
	o.VSCtl("add-br", "br-int", "--", "set", "bridge", "br-int", "datapath_type=netdev", "fail-mode=secure",
		"other_config:disable-in-band=true", "protocols=OpenFlow10,OpenFlow13,OpenFlow15")
	o.waitFor(o.Mgmt())
	return o
}

func randomID() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (o *OVS) dbSock() string { return filepath.Join(o.Dir, "db.sock") }

// Mgmt is the bridge's OpenFlow management socket.
func (o *OVS) Mgmt() string { return filepath.Join(o.Dir, "br-int.mgmt") }

// Dial opens an OpenFlow connection to the bridge, closed on cleanup.
func (o *OVS) Dial(ctx context.Context) *openflow.Conn {
	o.t.Helper()
	c, err := openflow.Dial(ctx, "unix", o.Mgmt(), nil)
	if err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() { c.Close() })
	return c
}

func (o *OVS) env() []string {
	return append(os.Environ(), "OVS_RUNDIR="+o.Dir, "OVS_DBDIR="+o.Dir, "OVS_LOGDIR="+o.Dir)
}

func (o *OVS) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = o.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (o *OVS) mustRun(name string, args ...string) string {
	o.t.Helper()
	out, err := o.run(name, args...)
	if err != nil {
		o.t.Fatal(err)
	}
	return out
}

// VSCtl runs ovs-vsctl against the private database.
func (o *OVS) VSCtl(args ...string) string {
	o.t.Helper()
	return o.mustRun("ovs-vsctl", append([]string{"--db=unix:" + o.dbSock(), "--timeout=20"}, args...)...)
}

// DumpFlows is `ovs-ofctl -O OpenFlow15 dump-flows br-int --no-stats`,
// one flow a line, sorted.
func (o *OVS) DumpFlows() []string {
	o.t.Helper()
	out := o.mustRun("ovs-ofctl", "-O", "OpenFlow15", "dump-flows", "br-int", "--no-stats")
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "OFPST_FLOW") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// daemon starts a foreground process and kills and reaps it on cleanup.
func (o *OVS) daemon(name string, args ...string) {
	o.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = o.env()
	if err := cmd.Start(); err != nil {
		o.t.Fatalf("start %s: %v", name, err)
	}
	o.t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

func (o *OVS) waitFor(path string) {
	o.t.Helper()
	for range 200 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs, _ := filepath.Glob(filepath.Join(o.Dir, "*.log"))
	var s strings.Builder
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		fmt.Fprintf(&s, "== %s\n%s", l, b)
	}
	o.t.Fatalf("%s did not appear\n%s", path, s.String())
}

// VIF is a namespace with interface eth0, whose veth peer is a port of
// br-int.
type VIF struct {
	NS     string
	OFPort uint32
}

// AddVIF creates a VIF with address cidr and MAC mac on OpenFlow port
// ofport.
func (o *OVS) AddVIF(name string, ofport uint32, mac, cidr string) *VIF {
	o.t.Helper()
	v := &VIF{NS: o.NS + "-" + name, OFPort: ofport}
	o.mustRun("ip", "netns", "add", v.NS)
	o.t.Cleanup(func() { exec.Command("ip", "netns", "del", v.NS).Run() })
	port := name + "-" + o.NS[len(o.NS)-6:]
	o.mustRun("ip", "-n", o.NS, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", v.NS)
	o.mustRun("ip", "-n", o.NS, "link", "set", port, "up")
	o.mustRun("ip", "-n", v.NS, "link", "set", "eth0", "address", mac)
	o.mustRun("ip", "-n", v.NS, "addr", "add", cidr, "dev", "eth0")
	o.mustRun("ip", "-n", v.NS, "link", "set", "eth0", "up")
	o.mustRun("ip", "-n", v.NS, "link", "set", "lo", "up")
	o.VSCtl("add-port", "br-int", port, "--", "set", "interface", port, fmt.Sprintf("ofport_request=%d", ofport))
	return v
}

// Exec runs a command inside the VIF's namespace.
func (o *OVS) Exec(v *VIF, args ...string) (string, error) {
	return o.run("ip", append([]string{"netns", "exec", v.NS}, args...)...)
}

// DumpGroups is `ovs-ofctl -O OpenFlow15 dump-groups br-int`, one group a
// line, sorted.
func (o *OVS) DumpGroups() []string {
	o.t.Helper()
	out := o.mustRun("ovs-ofctl", "-O", "OpenFlow15", "dump-groups", "br-int")
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "OFPST_GROUP") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// OFCtl runs ovs-ofctl -O OpenFlow15 with args.
func (o *OVS) OFCtl(args ...string) string {
	o.t.Helper()
	return o.mustRun("ovs-ofctl", append([]string{"-O", "OpenFlow15"}, args...)...)
}

// ConnectUnderlay joins a and b by a veth pair, each end on a new netdev
// bridge br-phy that carries the tunnel endpoint address (ipA on a's side,
// ipB on b's, both in a /24): the userspace datapath routes tunnel
// packets by the addresses on its bridges.
func ConnectUnderlay(a, b *OVS, ipA, ipB string) {
	a.t.Helper()
	ul := "ul-" + a.NS[len(a.NS)-6:]
	a.mustRun("ip", "-n", a.NS, "link", "add", ul+"a", "type", "veth", "peer", "name", ul+"b", "netns", b.NS)
	for _, side := range []struct {
		o      *OVS
		ifname string
		ip     string
	}{{a, ul + "a", ipA}, {b, ul + "b", ipB}} {
		o := side.o
		o.mustRun("ip", "-n", o.NS, "link", "set", side.ifname, "up")
		mac := strings.TrimSpace(o.mustRun("ip", "netns", "exec", o.NS, "cat", "/sys/class/net/"+side.ifname+"/address"))
		o.VSCtl("add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
			"other_config:hwaddr="+mac, "--", "add-port", "br-phy", side.ifname)
		o.mustRun("ip", "-n", o.NS, "addr", "add", side.ip+"/24", "dev", "br-phy")
		o.mustRun("ip", "-n", o.NS, "link", "set", "br-phy", "up")
	}
}

// AddTunnel adds a Geneve or VXLAN port to br-int towards remoteIP, as
// ovn-controller creates them (key=flow, checksums on).
func (o *OVS) AddTunnel(name string, ofport uint32, typ, remoteIP string) {
	o.t.Helper()
	o.VSCtl("add-port", "br-int", name, "--", "set", "interface", name, "type="+typ,
		"options:remote_ip="+remoteIP, "options:key=flow", "options:csum=true", fmt.Sprintf("ofport_request=%d", ofport))
}

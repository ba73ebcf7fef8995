package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HostOVSSocket is where a running Open vSwitch answers on Debian and
// most distributions; the lab uses that OVS when it answers.
const HostOVSSocket = "/var/run/openvswitch/db.sock"

// vswitchSchema is the Open_vSwitch schema the installed OVS ships.
const vswitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// integrationBridge is the bridge OVN's controller programs.
const integrationBridge = "br-int"

// localOVS is the Open vSwitch the lab's chassis uses.
type localOVS struct {
	sock     string // its database socket
	runDir   string // where br-int.mgmt lives
	private  bool   // started by the lab
	datapath string // datapath_type of br-int: system or netdev

	server, vswitchd *daemon // when private
}

// db is the --db option for ovs-vsctl.
func (o *localOVS) db() string { return "--db=unix:" + o.sock }

// vsctl runs ovs-vsctl against this OVS.
func (o *localOVS) vsctl(args ...string) (string, error) {
	return run(nil, append([]string{"ovs-vsctl", o.db(), "--timeout=20"}, args...)...)
}

// answers reports whether an OVSDB server listens on the unix socket path.
func answers(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// hostDatapath is the datapath the host supports: the kernel's when the
// openvswitch module is loaded, else the userspace one.
func hostDatapath() string {
	if _, err := os.Stat("/sys/module/openvswitch"); err == nil {
		return "system"
	}
	return "netdev"
}

// startPrivateOVS starts ovsdb-server and ovs-vswitchd from the installed
// OVS with their database, sockets, pid files and logs in dir.
func startPrivateOVS(dir string) (*localOVS, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	o := &localOVS{sock: filepath.Join(dir, "db.sock"), runDir: dir, private: true, datapath: hostDatapath()}
	conf := filepath.Join(dir, "conf.db")
	os.Remove(conf)
	if _, err := run(nil, "ovsdb-tool", "create", conf, vswitchSchema); err != nil {
		return nil, err
	}
	env := []string{"OVS_RUNDIR=" + dir, "OVS_DBDIR=" + dir, "OVS_LOGDIR=" + dir}
	var err error
	o.server, err = startDaemon("ovsdb-server", filepath.Join(dir, "ovsdb-server.out"), env,
		"ovsdb-server", conf, "--remote=punix:"+o.sock,
		"--pidfile="+filepath.Join(dir, "ovsdb-server.pid"),
		"--log-file="+filepath.Join(dir, "ovsdb-server.log"))
	if err != nil {
		return nil, err
	}
	if err := waitSocket(o.server, o.sock); err != nil {
		o.stop()
		return nil, err
	}
	if _, err := run(nil, "ovs-vsctl", o.db(), "--no-wait", "init"); err != nil {
		o.stop()
		return nil, err
	}
	o.vswitchd, err = startDaemon("ovs-vswitchd", filepath.Join(dir, "ovs-vswitchd.out"), env,
		"ovs-vswitchd", "unix:"+o.sock,
		"--pidfile="+filepath.Join(dir, "ovs-vswitchd.pid"),
		"--log-file="+filepath.Join(dir, "ovs-vswitchd.log"))
	if err != nil {
		o.stop()
		return nil, err
	}
	return o, nil
}

// appctl runs an ovs-appctl command on the daemon named target whose pid
// file and control socket are in runDir (OVS's default names there).
func appctl(runDir, target string, args ...string) (string, error) {
	return run([]string{"OVS_RUNDIR=" + runDir}, append([]string{"ovs-appctl", "-t", target}, args...)...)
}

// waitSocket waits up to 10 s for d to answer on path.
func waitSocket(d *daemon, path string) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if answers(path) {
			return nil
		}
		if err := d.Alive(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s did not answer on %s within 10s", d.Name, path)
}

// failed returns why a private OVS stopped, if it did.
func (o *localOVS) failed() error {
	for _, d := range []*daemon{o.server, o.vswitchd} {
		if d == nil {
			continue
		}
		if err := d.Alive(); err != nil {
			return err
		}
	}
	return nil
}

// stop stops a private OVS: the bridge first, so that ovs-vswitchd removes
// its network device, then the daemons. A host OVS keeps running.
func (o *localOVS) stop() {
	if !o.private {
		return
	}
	if o.vswitchd != nil {
		if done, _ := o.vswitchd.Exited(); !done {
			o.vsctl("--if-exists", "del-br", integrationBridge)
			// --cleanup also deletes the datapath (ovs-system with the
			// kernel's), which a plain exit leaves behind.
			appctl(o.runDir, "ovs-vswitchd", "exit", "--cleanup")
		}
	}
	o.vswitchd.Stop(daemonGrace)
	o.server.Stop(daemonGrace)
}

// stopStalePrivateOVS stops the daemons of a private OVS that an earlier
// lab left running in dir.
func stopStalePrivateOVS(dir string) error {
	sock := filepath.Join(dir, "db.sock")
	if answers(sock) {
		o := &localOVS{sock: sock}
		o.vsctl("--if-exists", "del-br", integrationBridge)
		appctl(dir, "ovs-vswitchd", "exit", "--cleanup")
	}
	return errors.Join(
		killStale(filepath.Join(dir, "ovs-vswitchd.pid"), dir),
		killStale(filepath.Join(dir, "ovsdb-server.pid"), dir))
}

// externalIDs reads the Open_vSwitch row's external_ids.
func (o *localOVS) externalIDs() (map[string]string, error) {
	out, err := o.vsctl("--format=json", "--columns=external_ids", "list", "Open_vSwitch")
	if err != nil {
		return nil, err
	}
	return parseExternalIDs(out)
}

// parseExternalIDs decodes `ovs-vsctl --format=json --columns=external_ids
// list Open_vSwitch`: {"data":[[["map",[["k","v"],...]]]],"headings":[...]}.
func parseExternalIDs(out string) (map[string]string, error) {
	var table struct {
		Data [][]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &table); err != nil {
		return nil, fmt.Errorf("parse ovs-vsctl output: %w", err)
	}
	if len(table.Data) != 1 || len(table.Data[0]) != 1 {
		return nil, fmt.Errorf("parse ovs-vsctl output: want one Open_vSwitch row, got %d", len(table.Data))
	}
	var cell []json.RawMessage
	var tag string
	if err := json.Unmarshal(table.Data[0][0], &cell); err != nil || len(cell) != 2 ||
		json.Unmarshal(cell[0], &tag) != nil || tag != "map" {
		return nil, fmt.Errorf("parse ovs-vsctl output: external_ids is not a map: %s", table.Data[0][0])
	}
	var pairs [][2]string
	if err := json.Unmarshal(cell[1], &pairs); err != nil {
		return nil, fmt.Errorf("parse ovs-vsctl output: external_ids: %w", err)
	}
	m := map[string]string{}
	for _, p := range pairs {
		m[p[0]] = p[1]
	}
	return m, nil
}

// setExternalIDs sets keys to values (nil removes the key) in one
// ovs-vsctl transaction.
func (o *localOVS) setExternalIDs(kv map[string]*string) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var args []string
	for _, k := range keys {
		if len(args) > 0 {
			args = append(args, "--")
		}
		if v := kv[k]; v != nil {
			args = append(args, "set", "Open_vSwitch", ".", "external_ids:"+k+"="+strconv.Quote(*v))
		} else {
			args = append(args, "remove", "Open_vSwitch", ".", "external_ids", k)
		}
	}
	if len(args) == 0 {
		return nil
	}
	_, err := o.vsctl(args...)
	return err
}

// bridgeExists reports whether the OVS has bridge br.
func (o *localOVS) bridgeExists(br string) (bool, error) {
	out, err := o.vsctl("list-br")
	if err != nil {
		return false, err
	}
	for _, b := range strings.Fields(out) {
		if b == br {
			return true, nil
		}
	}
	return false, nil
}

// addBridge creates br-int as ovn-controller would.
func (o *localOVS) addBridge() error {
	_, err := o.vsctl("--may-exist", "add-br", integrationBridge,
		"--", "set", "Bridge", integrationBridge, "datapath_type="+o.datapath,
		"fail-mode=secure", "other_config:disable-in-band=true")
	return err
}

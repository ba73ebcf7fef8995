package openflow

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ovsBridge is a private ovsdb-server + ovs-vswitchd (in its own network
// namespace, so its netdev ports touch nothing else) serving bridge br0.
type ovsBridge struct {
	dir string
}

func (o *ovsBridge) mgmt() string { return filepath.Join(o.dir, "br0.mgmt") }

// startOVS starts the daemons, or skips the test when not root or OVS is
// missing. Cleanup kills exactly the processes it started.
func startOVS(t *testing.T) *ovsBridge {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run ovs-vswitchd")
	}
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	dir, err := os.MkdirTemp("", "ofovs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	o := &ovsBridge{dir: dir}
	o.run(t, "ovsdb-tool", "create", filepath.Join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema")
	o.daemon(t, "ovsdb-server", filepath.Join(dir, "conf.db"), "--remote=punix:"+filepath.Join(dir, "db.sock"),
		"--unixctl="+filepath.Join(dir, "ovsdb.ctl"), "--log-file="+filepath.Join(dir, "ovsdb.log"), "--no-chdir")
	o.waitFor(t, filepath.Join(dir, "db.sock"))
	o.daemon(t, "unshare", "--net", "ovs-vswitchd", "unix:"+filepath.Join(dir, "db.sock"),
		"--unixctl="+filepath.Join(dir, "vswitchd.ctl"), "--log-file="+filepath.Join(dir, "vswitchd.log"), "--no-chdir")
	o.vsctl(t, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev", "fail-mode=secure",
		"protocols=OpenFlow10,OpenFlow13,OpenFlow15")
	o.waitFor(t, o.mgmt())
	return o
}

func (o *ovsBridge) env() []string {
	return append(os.Environ(), "OVS_RUNDIR="+o.dir, "OVS_DBDIR="+o.dir, "OVS_LOGDIR="+o.dir)
}

func (o *ovsBridge) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = o.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (o *ovsBridge) vsctl(t *testing.T, args ...string) string {
	t.Helper()
	return o.run(t, "ovs-vsctl", append([]string{"--db=unix:" + filepath.Join(o.dir, "db.sock"), "--timeout=20"}, args...)...)
}

func (o *ovsBridge) ofctl(t *testing.T, args ...string) string {
	t.Helper()
	return o.run(t, "ovs-ofctl", append([]string{"-O", "OpenFlow15"}, args...)...)
}

// daemon starts a foreground process and kills and reaps it on cleanup.
func (o *ovsBridge) daemon(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = o.env()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

func (o *ovsBridge) waitFor(t *testing.T, path string) {
	t.Helper()
	for range 200 {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	logs, _ := filepath.Glob(filepath.Join(o.dir, "*.log"))
	var s strings.Builder
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		fmt.Fprintf(&s, "== %s\n%s", l, b)
	}
	t.Fatalf("%s did not appear\n%s", path, s.String())
}

// dumpLines is `ovs-ofctl dump-flows --no-stats` output, one flow a line,
// sorted.
func dumpLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "OFPST_FLOW") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

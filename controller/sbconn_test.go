package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/controller/sbreplica/sbreplicatest"
)

// sbServer starts a private ovsdb-server with an empty SB in a temp dir
// and returns its unix: remote; the test's cleanup stops it.
func sbServer(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server", "ovsdb-client"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	dir := t.TempDir()
	db, sock := filepath.Join(dir, "sb.db"), filepath.Join(dir, "sb.sock")
	if out, err := exec.Command("ovsdb-tool", "create", db, "../ovnschema/ovn-sb.ovsschema").CombinedOutput(); err != nil {
		t.Fatalf("ovsdb-tool create: %v\n%s", err, out)
	}
	cmd := exec.Command("ovsdb-server", db, "--remote=punix:"+sock, "--unixctl="+filepath.Join(dir, "ctl"),
		"--no-chdir", "--log-file="+filepath.Join(dir, "log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 100 {
			t.Fatal("ovsdb-server did not create its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "unix:" + sock
}

// transact runs an SB transaction and returns the UUIDs of its inserts.
func transact(t *testing.T, remote string, ops ...string) []string {
	t.Helper()
	out, err := exec.Command("ovsdb-client", "transact", remote, `["OVN_Southbound",`+strings.Join(ops, ",")+`]`).CombinedOutput()
	if err != nil {
		t.Fatalf("transact: %v\n%s", err, out)
	}
	var res []struct {
		UUID  []string `json:"uuid"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("transact reply %s: %v", out, err)
	}
	var ids []string
	for _, r := range res {
		if r.Error != "" {
			t.Fatalf("transact: %s", out)
		}
		if len(r.UUID) == 2 {
			ids = append(ids, r.UUID[1])
		}
	}
	return ids
}

// TestSBConnections runs the loop's SB side against a real ovsdb-server:
// the libovsdb client and the replica connect, an lflow that names a
// port compiles once both have arrived, and a modified and a deleted
// lflow reach the desired table through the incremental path, with
// nb_cfg reported only when both connections have seen it.
func TestSBConnections(t *testing.T) {
	remote := sbServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := testLoop()
	l.kick = make(chan struct{}, 1)
	defer l.close()
	ids := transact(t, remote,
		`{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":7},"uuid-name":"dp"}`,
		`{"op":"insert","table":"Port_Binding","row":{"logical_port":"p1","datapath":["named-uuid","dp"],"tunnel_key":5}}`,
		`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":["named-uuid","dp"],"pipeline":"ingress","table_id":0,"priority":50,"match":"eth.src == 00:00:00:00:00:01","actions":"outport = \"p1\"; output;"}}`,
		`{"op":"insert","table":"SB_Global","row":{"nb_cfg":3}}`)
	dp := ids[0]
	st := &chassis.State{Chassis: "hv1", LocalDatapaths: map[string]chassis.LocalDatapath{dp: {UUID: dp, Key: 7}},
		LocalPorts: map[string]chassis.LocalPort{}, Localnet: map[string]chassis.LocalnetPort{}}
	cfg := chassis.Config{Remote: remote}
	// round is the loop's round without the chassis manager and OpenFlow.
	round := func() bool {
		sb, rep := l.sbClient(ctx, cfg)
		if sb == nil {
			return false
		}
		l.takeSBChanges(sb)
		src, ok := l.sbSnapshot(sb, rep, st)
		if !ok {
			return false
		}
		l.updateView(src, st)
		return true
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for !(round() && cond()) {
			select {
			case <-l.kick:
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatalf("timed out waiting for %s; desired:\n%s", what, strings.Join(table(l.desired), "\n"))
			}
		}
	}
	has := func(s string) func() bool {
		return func() bool {
			return slices.ContainsFunc(table(l.desired), func(f string) bool { return strings.Contains(f, s) })
		}
	}
	until("the lflow's flow", has("priority=50 metadata=0x7,dl_src=00:00:00:00:00:01 actions=set_field:0x5->reg15"))
	until("nb_cfg from both connections", func() bool { return l.clientNbCfg == 3 && l.replicaNbCfg == 3 })

	transact(t, remote, `{"op":"update","table":"Logical_Flow","where":[],"row":{"priority":60}}`)
	until("the modified lflow", func() bool { return has("priority=60 metadata=0x7")() && !has("priority=50 metadata=0x7")() })
	transact(t, remote, `{"op":"update","table":"Port_Binding","where":[],"row":{"tunnel_key":6}}`)
	until("the port's new key", has("set_field:0x6->reg15"))
	transact(t, remote, `{"op":"delete","table":"Logical_Flow","where":[]}`)
	until("the lflow gone", func() bool { return !has("metadata=0x7")() })
}

// partsSwitch is the flow installer's switch: it takes every bundle and
// keeps the flow mods of each.
type partsSwitch struct {
	mu      sync.Mutex
	tlv     []openflow.TLVMap
	bundles []int // flow mods per bundle
}

func (s *partsSwitch) Send(_ context.Context, m openflow.Message) (uint32, error) {
	if mod, ok := m.(*openflow.TLVTableMod); ok {
		s.tlv = append(s.tlv, mod.Maps...)
	}
	return 1, nil
}

func (s *partsSwitch) Request(_ context.Context, m openflow.Message) (openflow.Message, error) {
	if _, ok := m.(*openflow.TLVTableRequest); ok {
		return &openflow.TLVTableReply{Maps: slices.Clone(s.tlv)}, nil
	}
	return nil, fmt.Errorf("unexpected request %T", m)
}

func (s *partsSwitch) Barrier(context.Context) error { return nil }

func (s *partsSwitch) BundleFunc(_ context.Context, _ uint32, n int, msg func(int) (openflow.Message, error)) error {
	mods := 0
	for i := range n {
		m, err := msg(i)
		if err != nil {
			return err
		}
		if _, ok := m.(*openflow.FlowMod); ok {
			mods++
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bundles = append(s.bundles, mods)
	return nil
}

func (s *partsSwitch) DumpFlowsFunc(context.Context, *openflow.FlowStatsRequest, func(openflow.FlowStats) error) error {
	return nil
}

func (s *partsSwitch) DumpGroups(context.Context, uint32) ([]openflow.GroupDesc, error) {
	return nil, nil
}

func (s *partsSwitch) Multipart(_ context.Context, m openflow.Message) ([]openflow.Message, error) {
	req, ok := m.(*openflow.MultipartRequest)
	if !ok {
		return nil, fmt.Errorf("unexpected multipart %T", m)
	}
	return []openflow.Message{&openflow.MultipartReply{MPType: req.MPType}}, nil
}

func (s *partsSwitch) sent() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bundles)
}

// partsReporter records what publish reports.
type partsReporter struct {
	installed []string
	nbCfg     []int64
}

func (r *partsReporter) MarkInstalled(_ context.Context, ports []string) error {
	r.installed = append(r.installed, ports...)
	return nil
}

func (r *partsReporter) ReportNbCfg(_ context.Context, nb int64) error {
	r.nbCfg = append(r.nbCfg, nb)
	return nil
}

func (r *partsReporter) Settle() error { return nil }

func TestLoadInParts(t *testing.T) {
	l := testLoop()
	for remote, want := range map[string]bool{
		"tcp:10.0.0.1:6642": true, "ssl:[fd00::1]:6642,tcp:10.0.0.2:6642": true,
		"unix:/var/run/ovn/ovnsb_db.sock": false, "tcp:10.0.0.1:6642,unix:/run/sb.sock": false,
	} {
		if got := l.loadInParts(remote); got != want {
			t.Errorf("loadInParts(%q) = %v, want %v", remote, got, want)
		}
	}
}

// TestInstallWaitsForAllParts: the replica's load comes in parts (the
// lflows of the first in the monitor's reply, the rest held back by a
// gate); the loop compiles what has come, but installs nothing, marks no
// port installed and reports no nb_cfg until the last part is in; then
// it installs the whole table in one bundle and reports.
func TestInstallWaitsForAllParts(t *testing.T) {
	remote := sbServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ids := transact(t, remote,
		`{"op":"insert","table":"Datapath_Binding","row":{"tunnel_key":7},"uuid-name":"dp"}`,
		`{"op":"insert","table":"Port_Binding","row":{"logical_port":"p1","datapath":["named-uuid","dp"],"tunnel_key":5}}`,
		`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":["named-uuid","dp"],"pipeline":"ingress","table_id":0,"priority":50,"match":"eth.src == 00:00:00:00:00:01","actions":"next;"}}`,
		`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":["named-uuid","dp"],"pipeline":"ingress","table_id":19,"priority":2000,"match":"eth.src == 00:00:00:00:00:02","actions":"drop;"}}`,
		`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":["named-uuid","dp"],"pipeline":"ingress","table_id":25,"priority":50,"match":"eth.dst == 00:00:00:00:00:01","actions":"outport = \"p1\"; output;"}}`,
		`{"op":"insert","table":"SB_Global","row":{"nb_cfg":3}}`)
	dp := ids[0]
	g := sbreplicatest.NewGate(t, strings.TrimPrefix(remote, "unix:"))
	l := testLoop()
	l.forceParts = true // the gate is a unix socket
	l.kick = make(chan struct{}, 1)
	defer l.close()
	sw := &partsSwitch{}
	if err := l.inst.Sync(ctx, sw); err != nil {
		t.Fatal(err)
	}
	rep := &partsReporter{}
	st := &chassis.State{Chassis: "hv1", LocalDatapaths: map[string]chassis.LocalDatapath{dp: {UUID: dp, Key: 7}},
		LocalPorts: map[string]chassis.LocalPort{"p1": {Name: "p1", OFPort: 1, Datapath: dp, DatapathKey: 7, PortKey: 5}},
		Localnet:   map[string]chassis.LocalnetPort{}}
	cfg := chassis.Config{Remote: g.Remote()}
	// round is the loop's round without the chassis manager.
	round := func() bool {
		sb, r := l.sbClient(ctx, cfg)
		if sb == nil {
			return false
		}
		l.takeSBChanges(sb)
		src, ok := l.sbSnapshot(sb, r, st)
		if !ok {
			return false
		}
		l.updateView(src, st)
		if err := l.publish(ctx, st, time.Now(), rep); err != nil {
			t.Fatal(err)
		}
		return true
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for !(round() && cond()) {
			select {
			case <-l.kick:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("timed out waiting for %s; desired:\n%s", what, strings.Join(table(l.desired), "\n"))
			}
		}
	}
	has := func(s string) bool {
		return slices.ContainsFunc(table(l.desired), func(f string) bool { return strings.Contains(f, s) })
	}
	first := "table=8 priority=50 metadata=0x7,dl_src=00:00:00:00:00:01"
	until("the first part's lflow", func() bool { return has(first) && l.clientNbCfg == 3 && l.replicaNbCfg == 3 })
	for range 10 {
		round()
		time.Sleep(20 * time.Millisecond)
	}
	if has("dl_src=00:00:00:00:00:02") || has("dl_dst=00:00:00:00:00:01") {
		t.Fatalf("lflows of the held-back parts compiled:\n%s", strings.Join(table(l.desired), "\n"))
	}
	if b := sw.sent(); len(b) != 0 || len(rep.installed) != 0 || len(rep.nbCfg) != 0 {
		t.Fatalf("with the first part only: bundles %v, ports marked installed %v, nb_cfg reported %v", b, rep.installed, rep.nbCfg)
	}

	g.Release(len(lflowParts))
	until("the install", func() bool { return len(sw.sent()) > 0 })
	if !has("table=27 priority=2000 metadata=0x7,dl_src=00:00:00:00:00:02 actions=") || !has("dl_dst=00:00:00:00:00:01") {
		t.Errorf("installed without the last parts' lflows:\n%s", strings.Join(table(l.desired), "\n"))
	}
	if b := sw.sent(); len(b) != 1 || b[0] != l.desired.Len() {
		t.Errorf("bundles of %v flow mods, want one of the whole table's %d", b, l.desired.Len())
	}
	if !slices.Equal(rep.installed, []string{"p1"}) || !slices.Equal(rep.nbCfg, []int64{3}) {
		t.Errorf("ports marked installed %v, nb_cfg reported %v; want [p1], [3]", rep.installed, rep.nbCfg)
	}
}

package sbreplica

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

const sbSchemaFile = "../../ovnschema/ovn-sb.ovsschema"

// ovsdbServer is a private ovsdb-server with a fresh SB database in a
// temp dir, killed at the end of the test.
type ovsdbServer struct {
	t    testing.TB
	dir  string
	sock string
	cmd  *exec.Cmd
	done chan struct{}
}

func needOVSDB(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ovsdb-tool", "ovsdb-server"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

// startOVSDB creates the SB database (a one-server cluster when
// clustered, which keeps the transaction history monitor_cond_since
// resumes from) and starts ovsdb-server on it.
func startOVSDB(t testing.TB, clustered bool) *ovsdbServer {
	t.Helper()
	needOVSDB(t)
	dir, err := os.MkdirTemp("", "sbreplica")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &ovsdbServer{t: t, dir: dir, sock: filepath.Join(dir, "sb.sock")}
	if clustered {
		s.tool("create-cluster", s.path("sb.db"), sbSchemaFile, "unix:"+s.path("raft.sock"))
	} else {
		s.tool("create", s.path("sb.db"), sbSchemaFile)
	}
	s.start()
	return s
}

func (s *ovsdbServer) path(name string) string { return filepath.Join(s.dir, name) }

func (s *ovsdbServer) tool(args ...string) {
	s.t.Helper()
	out, err := exec.Command("ovsdb-tool", args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("ovsdb-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (s *ovsdbServer) start() {
	s.t.Helper()
	os.Remove(s.sock)
	cmd := exec.Command("ovsdb-server", s.path("sb.db"), "--remote=punix:"+s.sock,
		"--unixctl="+s.path("sb.ctl"), "--log-file="+s.path("sb.log"), "--no-chdir")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+s.dir, "OVS_DBDIR="+s.dir, "OVS_LOGDIR="+s.dir)
	out, err := os.Create(s.path("sb.out"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start ovsdb-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	done := s.done
	go func() { cmd.Wait(); close(done) }()
	s.t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c, err := net.Dial("unix", s.sock); err == nil {
			c.Close() // listening, not only bound
			return
		}
		select {
		case <-done:
		case <-time.After(20 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
		}
		log, _ := os.ReadFile(s.path("sb.log"))
		stderr, _ := os.ReadFile(s.path("sb.out"))
		s.t.Fatalf("ovsdb-server did not start:\n%s%s", log, stderr)
	}
}

// kill stops the server at once.
func (s *ovsdbServer) kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

func (s *ovsdbServer) signal(sig syscall.Signal) { syscall.Kill(-s.cmd.Process.Pid, sig) }

// waitFor polls cond for up to 15 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The tables the server tests replicate: every SB column type (strings,
// integers, booleans, UUIDs; optional, sets, maps; weak and strong refs).
var testSpecs = []Spec{{Table: "Logical_Flow"}, {Table: "Logical_DP_Group"}, {Table: "Port_Group"},
	{Table: "Port_Binding"}, {Table: "Multicast_Group"}, {Table: "Datapath_Binding"}, {Table: "Address_Set"}}

// runReplica starts r.Run on remote until the test ends.
func runReplica(t *testing.T, r *Replica, remote string, probe time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, remote, nil, probe, func() {}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// oracle is libovsdb's client monitoring the same database.
func oracle(t *testing.T, sock string) client.Client {
	t.Helper()
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewOVSDBClient(m, client.WithEndpoint("unix:"+sock))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.MonitorAll(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty(), cmpopts.SortSlices(func(a, b string) bool { return a < b })}

// diffOracle returns how the replica's tables differ from the oracle's
// cache ("" when equal).
func diffOracle(r *Replica, c client.Client) string {
	var out strings.Builder
	r.Read(func(v View) {
		for _, s := range testSpecs {
			want := c.Cache().Table(s.Table).Rows()
			if d := cmp.Diff(want, v.Table(s.Table), cmpOpts...); d != "" {
				fmt.Fprintf(&out, "%s (-oracle +replica):\n%s", s.Table, d)
			}
		}
	})
	return out.String()
}

// waitSame waits until the replica equals the oracle.
func waitSame(t *testing.T, r *Replica, c client.Client) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := diffOracle(r, c)
		if d == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica differs from libovsdb's cache:\n%s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// txn runs one transaction through the oracle client and returns the
// results; a transaction the database refuses (a constraint) is not an
// error here.
func txn(t *testing.T, c client.Client, ops ...ovsdb.Operation) []ovsdb.OperationResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := c.Transact(ctx, ops...)
	if err != nil {
		t.Fatalf("transact: %v", err)
	}
	return res
}

func txnOK(res []ovsdb.OperationResult) bool {
	for _, r := range res {
		if r.Error != "" {
			return false
		}
	}
	return true
}

func uuidV(u string) ovsdb.UUID { return ovsdb.UUID{GoUUID: u} }

func set(xs ...any) ovsdb.OvsSet { return ovsdb.OvsSet{GoSet: xs} }

func omap(kv ...string) ovsdb.OvsMap {
	m := map[any]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return ovsdb.OvsMap{GoMap: m}
}

func whereUUID(u string) []ovsdb.Condition {
	return []ovsdb.Condition{ovsdb.NewCondition("_uuid", ovsdb.ConditionEqual, uuidV(u))}
}

// workload makes random, valid SB changes that touch every column kind.
type workload struct {
	t   *testing.T
	c   client.Client
	rnd *rand.Rand
	key int // for unique tunnel keys and names
}

func newWorkload(t *testing.T, c client.Client, seed uint64) *workload {
	return &workload{t: t, c: c, rnd: rand.New(rand.NewPCG(seed, 1))}
}

// rows returns the UUIDs of table in the oracle's cache.
func (w *workload) rows(table string) []string {
	var out []string
	for u := range w.c.Cache().Table(table).Rows() {
		out = append(out, u)
	}
	return out
}

func (w *workload) pick(table string) (string, bool) {
	us := w.rows(table)
	if len(us) == 0 {
		return "", false
	}
	return us[w.rnd.IntN(len(us))], true
}

func (w *workload) next() int { w.key++; return w.key }

func (w *workload) randMap() ovsdb.OvsMap {
	var kv []string
	for i := range w.rnd.IntN(4) {
		kv = append(kv, fmt.Sprintf("k%d", w.rnd.IntN(5)+i), fmt.Sprintf("v%d", w.rnd.IntN(3)))
	}
	return omap(kv...)
}

func (w *workload) randNames(n int) ovsdb.OvsSet {
	var xs []any
	seen := map[string]bool{}
	for range w.rnd.IntN(n) {
		s := fmt.Sprintf("p%d", w.rnd.IntN(2*n))
		if !seen[s] {
			seen[s] = true
			xs = append(xs, s)
		}
	}
	return set(xs...)
}

func (w *workload) randRefs(table string, n int) ovsdb.OvsSet {
	var xs []any
	seen := map[string]bool{}
	for range w.rnd.IntN(n + 1) {
		if u, ok := w.pick(table); ok && !seen[u] {
			seen[u] = true
			xs = append(xs, uuidV(u))
		}
	}
	return set(xs...)
}

// step runs one random transaction.
func (w *workload) step() {
	ops := w.ops()
	if len(ops) > 0 {
		txn(w.t, w.c, ops...)
	}
}

func (w *workload) ops() []ovsdb.Operation {
	dp, haveDP := w.pick("Datapath_Binding")
	if !haveDP || w.rnd.IntN(10) == 0 {
		return []ovsdb.Operation{{Op: "insert", Table: "Datapath_Binding",
			Row: ovsdb.Row{"tunnel_key": w.next(), "external_ids": w.randMap()}}}
	}
	switch w.rnd.IntN(12) {
	case 0: // a flow on one datapath
		return []ovsdb.Operation{{Op: "insert", Table: "Logical_Flow", Row: ovsdb.Row{
			"actions": "next;", "match": fmt.Sprintf("reg0 == %d", w.rnd.IntN(100)), "priority": w.rnd.IntN(65536),
			"table_id": w.rnd.IntN(33), "pipeline": []string{"ingress", "egress"}[w.rnd.IntN(2)],
			"logical_datapath": set(uuidV(dp)), "external_ids": w.randMap(), "tags": w.randMap()}}}
	case 1: // a flow on a new datapath group
		return []ovsdb.Operation{
			{Op: "insert", Table: "Logical_DP_Group", UUIDName: "g", Row: ovsdb.Row{"datapaths": w.randRefs("Datapath_Binding", 4)}},
			{Op: "insert", Table: "Logical_Flow", Row: ovsdb.Row{"actions": "drop;", "match": "1", "pipeline": "egress",
				"logical_dp_group": set(ovsdb.UUID{GoUUID: "g"}), "controller_meter": set("m")}}}
	case 2: // scalars, optional columns set, cleared and replaced, maps replaced
		lf, ok := w.pick("Logical_Flow")
		if !ok {
			return nil
		}
		row := ovsdb.Row{"actions": fmt.Sprintf("output; /* %d */", w.rnd.IntN(10)), "external_ids": w.randMap()}
		switch w.rnd.IntN(3) {
		case 0:
			row["controller_meter"] = set()
		case 1:
			row["controller_meter"] = set(fmt.Sprintf("meter%d", w.rnd.IntN(3)))
		}
		if w.rnd.IntN(2) == 0 {
			row["logical_datapath"] = set(uuidV(dp))
		}
		return []ovsdb.Operation{{Op: "update", Table: "Logical_Flow", Where: whereUUID(lf), Row: row}}
	case 3: // map mutations
		lf, ok := w.pick("Logical_Flow")
		if !ok {
			return nil
		}
		k := fmt.Sprintf("k%d", w.rnd.IntN(5))
		ms := []ovsdb.Mutation{*ovsdb.NewMutation("external_ids", ovsdb.MutateOperationInsert, omap(k, "m"))}
		if w.rnd.IntN(2) == 0 {
			ms = []ovsdb.Mutation{*ovsdb.NewMutation("external_ids", ovsdb.MutateOperationDelete, set(k))}
		}
		return []ovsdb.Operation{{Op: "mutate", Table: "Logical_Flow", Where: whereUUID(lf), Mutations: ms}}
	case 4:
		lf, ok := w.pick("Logical_Flow")
		if !ok {
			return nil
		}
		return []ovsdb.Operation{{Op: "delete", Table: "Logical_Flow", Where: whereUUID(lf)}}
	case 5: // sets replaced and mutated
		pg, ok := w.pick("Port_Group")
		if !ok || w.rnd.IntN(3) == 0 {
			return []ovsdb.Operation{{Op: "insert", Table: "Port_Group", Row: ovsdb.Row{
				"name": fmt.Sprintf("pg%d", w.next()), "ports": w.randNames(20)}}}
		}
		if w.rnd.IntN(2) == 0 {
			return []ovsdb.Operation{{Op: "update", Table: "Port_Group", Where: whereUUID(pg), Row: ovsdb.Row{"ports": w.randNames(20)}}}
		}
		m := ovsdb.MutateOperationInsert
		if w.rnd.IntN(2) == 0 {
			m = ovsdb.MutateOperationDelete
		}
		return []ovsdb.Operation{{Op: "mutate", Table: "Port_Group", Where: whereUUID(pg),
			Mutations: []ovsdb.Mutation{*ovsdb.NewMutation("ports", m, w.randNames(6))}}}
	case 6: // optional integer and boolean
		n := w.next()
		return []ovsdb.Operation{{Op: "insert", Table: "Port_Binding", Row: ovsdb.Row{
			"logical_port": fmt.Sprintf("lp%d", n), "datapath": uuidV(dp), "tunnel_key": n,
			"mac": w.randNames(3), "options": w.randMap(), "type": []string{"", "localnet", "patch"}[w.rnd.IntN(3)]}}}
	case 7:
		pb, ok := w.pick("Port_Binding")
		if !ok {
			return nil
		}
		row := ovsdb.Row{"mac": w.randNames(3)}
		switch w.rnd.IntN(3) {
		case 0:
			row["tag"], row["up"] = set(), set()
		case 1:
			row["tag"], row["up"] = set(1+w.rnd.IntN(4095)), set(w.rnd.IntN(2) == 0)
		case 2:
			row["tag"] = set(7)
		}
		return []ovsdb.Operation{{Op: "update", Table: "Port_Binding", Where: whereUUID(pb), Row: row}}
	case 8: // deleting a port drops its weak references from multicast groups
		pb, ok := w.pick("Port_Binding")
		if !ok {
			return nil
		}
		return []ovsdb.Operation{{Op: "delete", Table: "Port_Binding", Where: whereUUID(pb)}}
	case 9:
		mg, ok := w.pick("Multicast_Group")
		if !ok || w.rnd.IntN(2) == 0 {
			n := w.next()
			return []ovsdb.Operation{{Op: "insert", Table: "Multicast_Group", Row: ovsdb.Row{
				"name": fmt.Sprintf("mg%d", n), "datapath": uuidV(dp), "tunnel_key": 32768 + n, "ports": w.randRefs("Port_Binding", 5)}}}
		}
		return []ovsdb.Operation{{Op: "update", Table: "Multicast_Group", Where: whereUUID(mg),
			Row: ovsdb.Row{"ports": w.randRefs("Port_Binding", 5)}}}
	case 10:
		g, ok := w.pick("Logical_DP_Group")
		if !ok {
			return nil
		}
		return []ovsdb.Operation{{Op: "update", Table: "Logical_DP_Group", Where: whereUUID(g),
			Row: ovsdb.Row{"datapaths": w.randRefs("Datapath_Binding", 4)}}}
	default:
		as, ok := w.pick("Address_Set")
		if !ok || w.rnd.IntN(3) == 0 {
			return []ovsdb.Operation{{Op: "insert", Table: "Address_Set", Row: ovsdb.Row{
				"name": fmt.Sprintf("as%d", w.next()), "addresses": w.randNames(10)}}}
		}
		if w.rnd.IntN(4) == 0 {
			return []ovsdb.Operation{{Op: "delete", Table: "Address_Set", Where: whereUUID(as)}}
		}
		return []ovsdb.Operation{{Op: "update", Table: "Address_Set", Where: whereUUID(as), Row: ovsdb.Row{"addresses": w.randNames(10)}}}
	}
}

// proxy forwards unix-socket connections to a server and can cut them,
// to drop the replica's connection while the server stays up.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]bool
	down   bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "proxy.sock"))
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.routineAccept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) remote() string { return "unix:" + p.ln.Addr().String() }

func (p *proxy) routineAccept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		s, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.routineCopy(c, s)
		go p.routineCopy(s, c)
	}
}

func (p *proxy) routineCopy(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut drops every connection and refuses new ones until up.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// logRecorder is a slog handler that keeps the messages.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	l.msgs = append(l.msgs, b.String())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// count returns how many messages start with prefix.
func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

// newTestReplica is a replica of testSpecs logging into rec.
func newTestReplica(t *testing.T, rec *logRecorder) *Replica {
	t.Helper()
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(slog.New(rec), m, sbdb.Schema(), testSpecs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var _ model.Model = (*sbdb.LogicalFlow)(nil)

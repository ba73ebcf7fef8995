package lflowc

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/lflow"
)

var (
	captureLarge = flag.Int("capture-large", 0, "TestCaptureLarge: switches of 20 VIFs to build with a real ovn-northd")
	largeSB      = flag.String("large-sb", "testdata/large-sb.json.gz", "BenchmarkCompileLarge: the snapshot to compile")
)

// largeLocal is how many VIFs, switch by switch from sw0, the bench
// chassis binds: controllerbench's 50 local VIFs.
const largeLocal = 50

// TestCaptureLarge writes the controller bench's topology as a real
// ovn-northd builds it, seen from a chassis with the first 50 VIFs
// (go test -run CaptureLarge -capture-large 500 -large-sb /tmp/x.json.gz).
// Every datapath is local through the router, as in controllerbench.
func TestCaptureLarge(t *testing.T) {
	if *captureLarge == 0 {
		t.Skip("run with -capture-large N")
	}
	s := newSandbox(t)
	s.scriptText(largeScript(*captureLarge, 20))
	e := readSB(t, s)
	local := map[string]bool{}
	for i := range largeLocal {
		local[fmt.Sprintf("sw%d-vif%d", i/20, i%20)] = true
	}
	snap := &snapshot{Ports: map[string]snapPort{}, Mcast: map[string]uint32{}, Sets: e.sets, Groups: e.groups,
		McastByDP: true}
	for n, p := range e.ports {
		snap.Ports[n] = snapPort{DP: p.dp, Key: p.key, Resident: local[n], Local: local[n] || p.typ == "patch" || p.typ == "localnet"}
	}
	maps := e.mcast
	for k, v := range maps {
		snap.Mcast[k] = v
	}
	for dp := range e.routers {
		snap.Routers = append(snap.Routers, dp)
	}
	slices.Sort(snap.Routers)
	for i, lf := range e.lflows {
		dps := slices.Clone(e.lfDPs[i])
		slices.Sort(dps)
		snap.Lflows, snap.DPs = append(snap.Lflows, lf), append(snap.DPs, dps)
	}
	writeSnapshot(t, *largeSB, snap)
	t.Logf("%d lflows written to %s", len(snap.Lflows), *largeSB)
}

func writeSnapshot(t *testing.T, path string, snap *snapshot) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := gzip.NewWriter(f)
	if err := json.NewEncoder(z).Encode(snap); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCompileLarge is the controller's full compile of the bench
// topology (testdata/large-sb.json.gz: 50 switches of 20 VIFs, port
// group of all VIFs with three stateful ACLs, 50 VIFs local; -large-sb
// takes a bigger capture): a fresh Compiler compiles every lflow for
// its datapaths. Besides time and allocations it reports the heap that
// stays live per lflow afterwards, with the flows held (as the loop
// holds them until flowtable has them) and with only the Compiler.
func BenchmarkCompileLarge(b *testing.B) {
	s := loadSnapshotFile(b, *largeSB)
	pairs, nflows := 0, 0
	for _, d := range s.DPs {
		pairs += len(d)
	}
	var cc *Compiler
	var held [][]any
	var before runtime.MemStats
	var cpu time.Duration // process CPU while compiling, GC included: the machine is shared
	for range b.N {
		b.StopTimer()
		cc, held = nil, nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		cpu0 := cpuTime()
		cc = NewCompiler()
		held = make([][]any, len(s.Lflows))
		nflows = 0
		for i, lf := range s.Lflows {
			flows, refs, err := cc.Compile(lf, s.DPs[i], s)
			if err != nil {
				b.Fatalf("%s %q: %v", lf.UUID, lf.Match, err)
			}
			held[i] = []any{flows, refs}
			nflows += len(flows)
		}
		cpu += cpuTime() - cpu0
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	withFlows := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(held)
	held = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	compilerOnly := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(cc)
	n := float64(len(s.Lflows))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/lflow")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/lflow")
	b.ReportMetric(float64(withFlows)/n, "live-B/lflow")
	b.ReportMetric(float64(compilerOnly)/n, "compiler-B/lflow")
	b.ReportMetric(float64(nflows), "flows")
	b.Logf("%d lflows, %d lflow-datapath pairs, %d flows", len(s.Lflows), pairs, nflows)
}

// TestNormalizerOnSnapshots compiles the match of every lflow of both
// captured topologies (with its actions' prerequisites, as Compile
// parses it) through the Compiler's shape-remembering normaliser and
// through lflow.Compile, and wants the same terms (-large-sb takes a
// bigger capture).
func TestNormalizerOnSnapshots(t *testing.T) {
	for _, file := range []string{"testdata/router-sb.json.gz", *largeSB} {
		s := loadSnapshotFile(t, file)
		n := lflow.NewNormalizer(lflow.Symbols)
		shapes := map[string]bool{}
		for _, lf := range s.Lflows {
			acts, err := lflow.ParseActions(lf.Actions, lflow.Symbols)
			if err != nil {
				continue
			}
			text := lf.Match
			if pre := prereqs(acts); len(pre) > 0 {
				text = "(" + text + ") && " + strings.Join(pre, " && ")
			}
			want, werr := lflow.Compile(text, lflow.Symbols, s)
			got, gerr := n.Compile(text, s)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) {
				t.Errorf("%s %q: error %v, want %v", file, text, gerr, werr)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %q:\n got %v\nwant %v", file, text, got, want)
			}
			shapes[text] = true
		}
		t.Logf("%s: %d lflows, %d distinct matches", file, len(s.Lflows), len(shapes))
	}
}

// TestCompilerMemoryBounded changes a 20,000-member address set forty
// times, recompiling the lflow that names it each time, as the loop
// does when ports come and go: what the Compiler keeps for the old
// contents (parsed members, normal forms) must stay bounded, not grow
// by a few megabytes per change.
func TestCompilerMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a large set forty times")
	}
	env := testEnv()
	members := make([]string, 20000)
	for i := range members {
		members[i] = fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&0xff, i&0xff)
	}
	lf := LogicalFlow{UUID: "8e3d6b2c-0000-0000-0000-000000000001", Pipeline: "ingress", TableID: 9, Priority: 100,
		Match: "ip4.src == $big && tcp.dst == 22", Actions: "next;"}
	cc := NewCompiler()
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var start uint64
	for round := range 40 {
		members[0] = fmt.Sprintf("192.168.%d.1", round) // a new set each round
		env.sets["big"] = slices.Clone(members)
		flows, _, err := cc.Compile(lf, []uint32{1}, env)
		if err != nil {
			t.Fatal(err)
		}
		if len(flows) != len(members) { // one dimension: a flow per member
			t.Fatalf("round %d: %d flows, want %d", round, len(flows), len(members))
		}
		if round == 9 {
			start = heap()
		}
	}
	grew := int64(heap()) - int64(start)
	runtime.KeepAlive(cc) // what it keeps is what is measured
	t.Logf("heap grew by %d MB", grew>>20)
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MB over 30 changes of the set", grew>>20)
	}
}

// BenchmarkCompileLargeForks compiles the same snapshot as
// BenchmarkCompileLarge with one fork of the Compiler per core, the
// lflows dealt out in turn, as the controller loop compiles a new view.
func BenchmarkCompileLargeForks(b *testing.B) {
	s := loadSnapshotFile(b, *largeSB)
	workers := runtime.GOMAXPROCS(0)
	var cpu time.Duration
	for range b.N {
		cpu0 := cpuTime()
		cc := NewCompiler()
		done := make(chan error, workers)
		for w := range workers {
			c := cc.Fork()
			go func() {
				for i := w; i < len(s.Lflows); i += workers {
					if _, _, err := c.Compile(s.Lflows[i], s.DPs[i], s); err != nil {
						done <- fmt.Errorf("%s %q: %v", s.Lflows[i].UUID, s.Lflows[i].Match, err)
						return
					}
				}
				done <- nil
			}()
		}
		for range workers {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		cpu += cpuTime() - cpu0
	}
	n := float64(len(s.Lflows))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/lflow")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/n, "cpu-ns/lflow")
}

package lflowc

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	capture = flag.Bool("capture", false, "TestCaptureSnapshot: write testdata/router-sb.json.gz from a real OVN")
	large   = flag.Bool("large", false, "TestLargeCompile: measure a full compile of a large topology from a real ovn-northd")
)

// snapshot is what compiling the router topology needs from the SB, as
// a real ovn-northd wrote it and as seen from the chassis: the bench
// input.
type snapshot struct {
	Ports   map[string]snapPort
	Mcast   map[string]uint32
	Sets    map[string][]string
	Groups  map[string][]string
	Routers []uint32
	Lflows  []LogicalFlow
	DPs     [][]uint32 // each lflow's local datapaths
	// McastByDP: Mcast is keyed "<dp>/<name>" (the router snapshot
	// keys it by the last digit of dp, which its bench's copies use).
	McastByDP bool
}

type snapPort struct {
	DP, Key         uint32
	Resident, Local bool
}

func (s *snapshot) LookupPort(name string) (uint32, uint32, bool) {
	p, ok := s.Ports[name]
	return p.DP, p.Key, ok
}
func (s *snapshot) LookupMulticast(dp uint32, name string) (uint32, bool) {
	if s.McastByDP {
		k, ok := s.Mcast[strconv.FormatUint(uint64(dp), 10)+"/"+name]
		return k, ok
	}
	k, ok := s.Mcast[mcastKey(dp, name)]
	return k, ok
}
func (s *snapshot) Resident(p string) bool               { return s.Ports[p].Resident }
func (s *snapshot) Local(p string) bool                  { return s.Ports[p].Local }
func (s *snapshot) AddressSet(n string) ([]string, bool) { a, ok := s.Sets[n]; return a, ok }
func (s *snapshot) PortGroup(n string) ([]string, bool)  { a, ok := s.Groups[n]; return a, ok }
func (s *snapshot) Router(dp uint32) bool                { return slices.Contains(s.Routers, dp) }
func (s *snapshot) Meter(name string) uint32             { return uint32(len(name)) }

func mcastKey(dp uint32, name string) string { return string(rune('0'+dp%10)) + "/" + name }

// TestCaptureSnapshot refreshes the bench input from a real OVN
// (go test -run CaptureSnapshot -capture).
func TestCaptureSnapshot(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture to refresh testdata/router-sb.json.gz")
	}
	s := newSandbox(t)
	s.script("switch.sh")
	s.script("router.sh")
	e := readSB(t, s)
	local := e.localDatapaths()
	snap := &snapshot{Ports: map[string]snapPort{}, Mcast: map[string]uint32{}, Sets: e.sets, Groups: e.groups}
	for n, p := range e.ports {
		snap.Ports[n] = snapPort{DP: p.dp, Key: p.key, Resident: e.Resident(n), Local: e.Local(n)}
	}
	for k, v := range e.mcast {
		var dp uint32
		var name string
		for i := range k {
			if k[i] == '/' {
				for _, c := range k[:i] {
					dp = dp*10 + uint32(c-'0')
				}
				name = k[i+1:]
				break
			}
		}
		snap.Mcast[mcastKey(dp, name)] = v
	}
	for dp := range e.routers {
		snap.Routers = append(snap.Routers, dp)
	}
	for i, lf := range e.lflows {
		var dps []uint32
		for _, dp := range e.lfDPs[i] {
			if local[dp] {
				dps = append(dps, dp)
			}
		}
		slices.Sort(dps)
		snap.Lflows, snap.DPs = append(snap.Lflows, lf), append(snap.DPs, dps)
	}
	f, err := os.Create("testdata/router-sb.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := gzip.NewWriter(f)
	enc := json.NewEncoder(z)
	enc.SetIndent("", " ")
	if err := enc.Encode(snap); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

func loadSnapshot(tb testing.TB) *snapshot { return loadSnapshotFile(tb, "testdata/router-sb.json.gz") }

func loadSnapshotFile(tb testing.TB, path string) *snapshot {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var s snapshot
	if err := json.NewDecoder(z).Decode(&s); err != nil {
		tb.Fatal(err)
	}
	return &s
}

// TestSnapshotCompiles compiles the captured router topology without
// root: every lflow compiles, and the flow count is the one the real
// ovn-controller installed for it (TestOracleRouter).
func TestSnapshotCompiles(t *testing.T) {
	s := loadSnapshot(t)
	cc := NewCompiler()
	n := 0
	for i, lf := range s.Lflows {
		flows, _, err := cc.Compile(lf, s.DPs[i], s)
		if err != nil {
			t.Errorf("%s %q / %q: %v", lf.UUID, lf.Match, lf.Actions, err)
		}
		n += len(flows)
	}
	if want := 837; n != want {
		t.Errorf("%d flows, want %d", n, want)
	}
	if g := len(cc.Groups()); g != 3 {
		t.Errorf("%d groups, want 3", g)
	}
}

// BenchmarkCompile is a full recompute of the router topology's lflows,
// each compiled for its datapaths and for copies standing for more
// datapaths of the same datapath group (keys + 100k), which is how
// northd shares lflows; reported per lflow-datapath pair.
func BenchmarkCompile(b *testing.B) {
	s := loadSnapshot(b)
	const copies = 20
	dps := make([][]uint32, len(s.DPs))
	pairs := 0
	for i, d := range s.DPs {
		for k := 0; k < copies; k++ {
			for _, dp := range d {
				dps[i] = append(dps[i], dp+uint32(100*k))
			}
		}
		pairs += len(dps[i])
	}
	b.ResetTimer()
	for range b.N {
		cc := NewCompiler()
		for i, lf := range s.Lflows {
			if _, _, err := cc.Compile(lf, dps[i], s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pairs), "ns/lflow-dp")
}

// TestRecompileMatchesFresh is the incremental-equals-full check: after
// an address set and a port's locality change, recompiling only the
// lflows whose Refs name them gives the flows a fresh Compiler gives
// for everything (conjunction ids aside, which are per Compiler).
func TestRecompileMatchesFresh(t *testing.T) {
	s := loadSnapshot(t)
	cc := NewCompiler()
	out := make([][]string, len(s.Lflows))
	refs := make([]Refs, len(s.Lflows))
	for i, lf := range s.Lflows {
		flows, r, err := cc.Compile(lf, s.DPs[i], s)
		if err != nil {
			t.Fatal(err)
		}
		out[i], refs[i] = dump(flows), r
	}
	// The world changes: an address set gains members, a bound port is
	// no longer local (it left this chassis).
	s.Sets["as1"] = append(s.Sets["as1"], "10.3.0.0/16", "10.4.0.1")
	p := s.Ports["sw0-p2"]
	p.Resident, p.Local = false, false
	s.Ports["sw0-p2"] = p
	recompiled := 0
	for i, lf := range s.Lflows {
		if !slices.Contains(refs[i].AddressSets, "as1") && !slices.Contains(refs[i].Ports, "sw0-p2") {
			continue
		}
		flows, _, err := cc.Compile(lf, s.DPs[i], s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = dump(flows)
		recompiled++
	}
	if recompiled == 0 {
		t.Fatal("no lflow referred to as1 or sw0-p2")
	}
	fresh := NewCompiler()
	for i, lf := range s.Lflows {
		flows, _, err := fresh.Compile(lf, s.DPs[i], s)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(conjFree(dump(flows)), conjFree(out[i])); diff != "" {
			t.Errorf("%s %q: recompiled flows differ from a fresh compile (-fresh +recompiled):\n%s", lf.UUID, lf.Match, diff)
		}
	}
	t.Logf("%d of %d lflows recompiled", recompiled, len(s.Lflows))
}

var conjIDText = regexp.MustCompile(`(conj_id=|conjunction\()\d+`)

func conjFree(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = conjIDText.ReplaceAllString(l, "${1}N")
	}
	return out
}

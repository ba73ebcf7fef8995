// Command ovsdbbench measures ovnd's database role against ovsdb-server
// under the same load: single-row inserts from 1 and 8 clients, the same
// with durable commits, fan-out to 100 monitors, cold start of a
// 10,000-port NB and its SB, and resident memory. Both servers run in one
// invocation, one after the other, each on fresh databases, and the load
// generator speaks JSON-RPC to them directly over unix sockets. See
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	only        string
	quick       bool
	markdown    bool
	twin        bool
	ovnd        string
	baseline    string
	ovsdbSrv    string
	ovsdbTool   string
	tmp         string
	run         string
	timeout     time.Duration
	keepTmp     bool
	readyWithin time.Duration
	cpuProfile  string
	memBatch    int
	repeat      int
	// fanoutCommits, when positive, replaces the fan-out's measured
	// commit count (a longer steady state to profile the server in).
	fanoutCommits int
	fanoutReaders string
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.only, "only", "", "run one side only: ovsdb-server or ovnd")
	flag.BoolVar(&o.quick, "quick", false, "smaller counts (CI smoke; a full two-sided run takes under 2 minutes)")
	flag.BoolVar(&o.markdown, "markdown", false, "print the result table in Markdown")
	flag.BoolVar(&o.twin, "twin", false, "run ovsdb-server in the ovnd column too (checks the harness: ratios should be near 1)")
	flag.StringVar(&o.ovnd, "ovnd", "", "ovnd binary (default: go build github.com/ovnd/ovnd into the temp dir)")
	flag.StringVar(&o.baseline, "baseline", "", "an ovnd binary to run in place of ovsdb-server, in its column (compares two ovnd builds: ratios are ovnd / baseline)")
	flag.StringVar(&o.ovsdbSrv, "ovsdb-server", "ovsdb-server", "ovsdb-server binary")
	flag.StringVar(&o.ovsdbTool, "ovsdb-tool", "ovsdb-tool", "ovsdb-tool binary")
	flag.StringVar(&o.tmp, "tmp", os.TempDir(), "parent of the temporary directory holding databases and sockets (durable results depend on its file system)")
	flag.StringVar(&o.run, "run", "", "comma-separated measurements to run (insert1,insert8,durable1,durable8,fanout,cold,memory); empty means all")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up on the whole run after this long")
	flag.BoolVar(&o.keepTmp, "keep", false, "keep the temporary directory (server logs) after the run")
	flag.DurationVar(&o.readyWithin, "ready-within", 60*time.Second, "how long a server may take to answer on its sockets")
	flag.IntVar(&o.repeat, "repeat", 1, "run each measurement this many times per server, alternating the order, and report medians")
	flag.IntVar(&o.memBatch, "mem-batch", 1, "rows per transaction when loading the small rows of the memory measurement")
	flag.IntVar(&o.fanoutCommits, "fanout-commits", 0, "measured commits of the fan-out (default 2,000, -quick 200); more gives a profiler a longer steady state")
	flag.StringVar(&o.fanoutReaders, "fanout-readers", readersPoll, "how the load generator reads the fan-out's subscribers: "+readersPoll+" (one goroutine on epoll) or "+readersGoroutines+" (one goroutine each, the instrument before the poll)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's CPU profile to this file")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ovsdbbench:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	err := run(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ovsdbbench:", err)
		stop()
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.only != "" && o.only != sideOvsdbServer && o.only != sideOvnd {
		return fmt.Errorf("-only %q: want %s or %s", o.only, sideOvsdbServer, sideOvnd)
	}
	if o.baseline != "" && o.twin {
		return errors.New("-baseline and -twin both replace a column: use one")
	}
	if o.repeat < 1 || o.repeat > 100 {
		return fmt.Errorf("-repeat %d: want 1 to 100", o.repeat)
	}
	root, err := os.MkdirTemp(o.tmp, "ovsdbbench-")
	if err != nil {
		return err
	}
	if o.keepTmp {
		fmt.Fprintln(stderr, "keeping", root)
	} else {
		defer os.RemoveAll(root)
	}
	sides, err := resolveSides(ctx, o, root)
	if err != nil {
		return err
	}
	c := fullCounts
	if o.quick {
		c = quickCounts
	}
	c.memRowsPerTxn = max(1, o.memBatch)
	if o.fanoutCommits < 0 {
		return fmt.Errorf("-fanout-commits %d: want a positive count", o.fanoutCommits)
	}
	if o.fanoutCommits > 0 {
		c.fanout.commits = o.fanoutCommits
	}
	if o.fanoutReaders != readersPoll && o.fanoutReaders != readersGoroutines {
		return fmt.Errorf("-fanout-readers %q: want %s or %s", o.fanoutReaders, readersPoll, readersGoroutines)
	}
	c.fanout.readers = o.fanoutReaders
	chosen, err := selectScenarios(scenarios(c, o.timeout), o.run)
	if err != nil {
		return err
	}
	writeEnvironment(stdout, o, sides)
	results, failures := runAll(ctx, chosen, sides, root, o.repeat, o.keepTmp, stderr)
	fmt.Fprintln(stdout)
	header := tableHeader
	if o.baseline != "" {
		header = baselineHeader
	}
	if err := writeTable(stdout, header, buildRows(results[sideOvsdbServer], results[sideOvnd]), o.markdown); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", loadAverage())
	if len(failures) > 0 {
		fmt.Fprintln(stdout, "\nfailures:")
		for _, f := range failures {
			fmt.Fprintln(stdout, "  "+f)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stopped early (%w); %d measurement(s) failed", ctx.Err(), len(failures))
		}
		return fmt.Errorf("%d measurement(s) failed", len(failures))
	}
	return ctx.Err()
}

// runAll runs every scenario on every side in turn, never two servers at
// once, so that they do not compete for the CPUs. With repeat > 1 each
// scenario runs that many rounds, the sides' order alternating between
// rounds, and every figure is the median over the rounds. With keep,
// every round's directory stays (named after the round) for -keep.
func runAll(ctx context.Context, chosen []scenario, sides []*side, root string, repeat int, keep bool, log io.Writer) (map[string][]metric, []string) {
	results := map[string][]metric{}
	var failures []string
	for _, sc := range chosen {
		rounds := map[string][][]metric{}
		for round := range repeat {
			for i := range sides {
				s := sides[i]
				if round%2 == 1 {
					s = sides[len(sides)-1-i]
				}
				if ctx.Err() != nil {
					return results, append(failures, "interrupted: "+ctx.Err().Error())
				}
				dir := filepath.Join(root, fmt.Sprintf("%s-%s-%d", sc.name, s.name, round+1))
				ms, err := runOnce(ctx, sc, s, dir, log)
				if !keep {
					os.RemoveAll(dir)
				}
				if err != nil {
					failures = append(failures, fmt.Sprintf("%s on %s: %v", sc.name, s.name, err))
					continue
				}
				rounds[s.name] = append(rounds[s.name], ms)
			}
		}
		for name, r := range rounds {
			results[name] = append(results[name], medians(r)...)
		}
	}
	return results, failures
}

func runOnce(ctx context.Context, sc scenario, s *side, dir string, log io.Writer) ([]metric, error) {
	fmt.Fprintf(log, "%-8s %-12s ...", sc.name, s.name)
	t0 := time.Now()
	ms, err := sc.run(ctx, s, dir)
	fmt.Fprintf(log, " %.1fs\n", time.Since(t0).Seconds())
	if err != nil {
		fmt.Fprintf(log, "  error: %v\n", err)
	}
	for _, m := range ms {
		fmt.Fprintf(log, "  %-62s %12s %s\n", m.label, formatValue(m.value), m.unit)
	}
	return ms, err
}

func selectScenarios(all []scenario, list string) ([]scenario, error) {
	if list == "" {
		return all, nil
	}
	var out []scenario
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(all, func(s scenario) bool { return s.name == name })
		if i < 0 {
			return nil, fmt.Errorf("-run: unknown measurement %q", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// resolveSides finds the binaries for the sides to run, building ovnd if
// no binary was given.
func resolveSides(ctx context.Context, o options, root string) ([]*side, error) {
	var sides []*side
	if o.baseline != "" && o.only != sideOvnd {
		bin, err := exec.LookPath(o.baseline)
		if err != nil {
			return nil, fmt.Errorf("-baseline: %w", err)
		}
		sides = append(sides, &side{name: sideOvsdbServer, kind: sideOvnd, bin: bin, readyWithin: o.readyWithin})
	} else if o.only != sideOvnd {
		bin, err := exec.LookPath(o.ovsdbSrv)
		if err != nil {
			return nil, err
		}
		tool, err := exec.LookPath(o.ovsdbTool)
		if err != nil {
			return nil, err
		}
		sides = append(sides, &side{name: sideOvsdbServer, kind: sideOvsdbServer, bin: bin, ovsdbTool: tool, readyWithin: o.readyWithin})
	}
	if o.only == sideOvsdbServer {
		return sides, nil
	}
	if o.twin {
		bin, err := exec.LookPath(o.ovsdbSrv)
		if err != nil {
			return nil, err
		}
		tool, err := exec.LookPath(o.ovsdbTool)
		if err != nil {
			return nil, err
		}
		return append(sides, &side{name: sideOvnd, kind: sideOvsdbServer, bin: bin, ovsdbTool: tool, readyWithin: o.readyWithin}), nil
	}
	bin := o.ovnd
	if bin == "" {
		var err error
		if bin, err = buildOvnd(ctx, root); err != nil {
			return nil, fmt.Errorf("%w (use -only %s to measure ovsdb-server alone)", err, sideOvsdbServer)
		}
	}
	return append(sides, &side{name: sideOvnd, kind: sideOvnd, bin: bin, readyWithin: o.readyWithin}), nil
}

// buildOvnd builds github.com/ovnd/ovnd from the module that contains the
// working directory.
func buildOvnd(ctx context.Context, root string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	modRoot := filepath.Dir(strings.TrimSpace(string(gomod)))
	if strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("run from inside the ovnd module to build ovnd, or pass -ovnd")
	}
	bin := filepath.Join(root, "ovnd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ovnd/ovnd")
	cmd.Dir = modRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build github.com/ovnd/ovnd: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// writeEnvironment prints what the figures depend on.
func writeEnvironment(w io.Writer, o options, sides []*side) {
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	mode += " run"
	if o.repeat > 1 {
		mode += fmt.Sprintf(", median of %d rounds", o.repeat)
	}
	fmt.Fprintf(w, "ovsdbbench %s, %s UTC, GOMAXPROCS %d, %d CPUs, load average %s\n",
		mode, time.Now().UTC().Format("2006-01-02 15:04"), runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAverage())
	for _, s := range sides {
		fmt.Fprintf(w, "  %s: %s", s.name, s.bin)
		arg := "version"
		if s.kind == sideOvsdbServer {
			arg = "--version"
		}
		out, _ := exec.Command(s.bin, arg).Output()
		first, _, _ := strings.Cut(string(out), "\n")
		fmt.Fprintf(w, " (%s)", strings.TrimSpace(first))
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  databases under %s\n", o.tmp)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

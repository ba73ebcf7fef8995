// Command northdbench measures ovnd's northd role against ovn-northd 23.03
// on the same northbound content, in one run: a bulk load of 500 switches
// × 20 VIF ports on one router with a port group of every VIF and three
// stateful ACLs, then the number of SB logical flows, the time from the
// end of the load until the SB has converged (nb_cfg → sb_cfg), the
// latency of `ovn-nbctl --wait=sb lsp-add`, and northd's memory. Each
// side gets its own fresh ovsdb-server. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

type options struct {
	quick, markdown bool
	switches, ports int
	adds, plainAdds int
	repeat          int
	only            string
	tmp             string
	keep            bool
	timeout         time.Duration
	bins            bins
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("northdbench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "small topology (20 switches x 10 ports, 10 adds): a smoke test")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table in Markdown")
	fs.IntVar(&o.switches, "switches", 500, "logical switches")
	fs.IntVar(&o.ports, "ports", 20, "VIF ports per switch")
	fs.IntVar(&o.adds, "adds", 50, "lsp-add --wait=sb commands through an ovn-nbctl daemon")
	fs.IntVar(&o.plainAdds, "plain-adds", 20, "lsp-add --wait=sb commands by plain ovn-nbctl (each reads the NB afresh); 0 skips")
	fs.IntVar(&o.repeat, "repeat", 1, "rounds per side, alternating which side goes first; figures are medians")
	fs.StringVar(&o.only, "only", "", "run one side only: ovn-northd or ovnd")
	fs.StringVar(&o.tmp, "tmp", os.TempDir(), "parent of the temporary directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, databases)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.StringVar(&o.bins.ovnd, "ovnd", "", "ovnd binary (default: go build github.com/ovnd/ovnd into the temporary directory)")
	fs.StringVar(&o.bins.ovnNorthd, "ovn-northd", "ovn-northd", "ovn-northd binary")
	fs.StringVar(&o.bins.ovsdbServer, "ovsdb-server", "ovsdb-server", "ovsdb-server binary")
	fs.StringVar(&o.bins.ovsdbTool, "ovsdb-tool", "ovsdb-tool", "ovsdb-tool binary")
	fs.StringVar(&o.bins.nbctl, "ovn-nbctl", "ovn-nbctl", "ovn-nbctl binary")
	fs.StringVar(&o.bins.db, "db", dbOVSDB, "the database server both northds use: ovsdb-server, or ovnd (its database role, in a process of its own)")
	fs.StringVar(&o.bins.ovndLog, "ovnd-log", "info", "ovnd's log level (debug logs each northd round's timings; see -keep)")
	fs.Func("ovnd-env", "KEY=VALUE for ovnd's environment, e.g. OVND_CPUPROFILE=/tmp/cpu.pprof, GODEBUG=gctrace=1 or GOGC=50 (repeatable; with -repeat, every round writes the same profile path)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE")
		}
		o.bins.ovndEnv = append(o.bins.ovndEnv, s)
		return nil
	})
	fs.Func("db-env", "KEY=VALUE for the environment of ovnd's database process with -db ovnd, e.g. OVND_CPUPROFILE=/tmp/db.pprof (repeatable)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE")
		}
		o.bins.dbEnv = append(o.bins.dbEnv, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.quick {
		o.switches, o.ports, o.adds, o.plainAdds = 20, 10, 10, 3
	}
	switch {
	case o.only != "" && o.only != sideOVN && o.only != sideOvnd:
		return o, fmt.Errorf("-only %q: want %s or %s", o.only, sideOVN, sideOvnd)
	case o.bins.db != dbOVSDB && o.bins.db != dbOvnd:
		return o, fmt.Errorf("-db %q: want %s or %s", o.bins.db, dbOVSDB, dbOvnd)
	case o.repeat < 1 || o.repeat > 20:
		return o, fmt.Errorf("-repeat %d: want 1 to 20", o.repeat)
	case o.switches < 1 || o.switches > 4000 || o.ports < 1 || o.ports > 200:
		return o, fmt.Errorf("-switches %d -ports %d: want 1-4000 switches of 1-200 ports", o.switches, o.ports)
	case o.adds < 1 || o.plainAdds < 0 || 43+o.adds+o.plainAdds > o.switches*(250-o.ports):
		return o, fmt.Errorf("-adds %d -plain-adds %d: out of range", o.adds, o.plainAdds)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "northdbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "northdbench:", err)
		cancel()
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	root, err := os.MkdirTemp(o.tmp, "northdbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stderr, "keeping", root)
	} else {
		defer os.RemoveAll(root)
	}
	sides := []string{sideOVN, sideOvnd}
	if o.only != "" {
		sides = []string{o.only}
	}
	if (slices.Contains(sides, sideOvnd) || o.bins.db == dbOvnd) && o.bins.ovnd == "" {
		o.bins.ovnd = filepath.Join(root, "ovnd")
		fmt.Fprintln(stderr, "building ovnd")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.bins.ovnd, "github.com/ovnd/ovnd").CombinedOutput(); err != nil {
			return fmt.Errorf("build ovnd (or pass -ovnd): %w: %s", err, out)
		}
	}
	t := topology{switches: o.switches, ports: o.ports}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }
	results := map[string][]result{}
	for i := range o.repeat {
		order := slices.Clone(sides)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, side := range order {
			r, err := round(ctx, o.bins, side, filepath.Join(root, fmt.Sprintf("%s-%d", side, i)), t, o.adds, o.plainAdds, logf)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", side, i+1, err)
			}
			results[side] = append(results[side], r)
		}
	}
	fmt.Fprintf(stdout, "northdbench: %d switches x %d VIF ports (%d), one router port per switch, port group of all VIFs with %d stateful ACLs; %d round(s), medians\n",
		t.switches, t.ports, t.switches*t.ports, len(aclSpecs), o.repeat)
	fmt.Fprintf(stdout, "ovnd: %s; ovn-northd: %s; database: %s\n\n", o.bins.ovnd, version(o.bins.ovnNorthd), dbName(o.bins))
	writeTable(stdout, rows(median(results[sideOVN]), median(results[sideOvnd])), o.markdown)
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", proc.LoadAvg())
	fmt.Fprintln(stdout, "ovnd's northd does not build logical routers yet: its flow and binding counts leave the router out (ovn-northd's include it).")
	return nil
}

// dbName names the database server of the run.
func dbName(b bins) string {
	if b.db == dbOvnd {
		return "ovnd's database role (" + b.ovnd + ")"
	}
	return version(b.ovsdbServer)
}

func version(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return bin
	}
	line, _, _ := bytesCut(out)
	return line
}

func bytesCut(b []byte) (string, string, bool) {
	for i, c := range b {
		if c == '\n' {
			return string(b[:i]), string(b[i+1:]), true
		}
	}
	return string(b), "", false
}

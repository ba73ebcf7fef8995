// Command controllerbench measures ovnd's controller role against
// ovn-controller 23.03 on the same southbound content, in one run: one
// ovsdb-server with NB and SB and the real ovn-northd hold 500 switches ×
// 20 VIF ports on one router with a port group of every VIF and three
// stateful ACLs; each controller in turn runs on a fresh chassis (private
// OVS, userspace datapath) with 50 local VIFs, and the benchmark times its
// start until its flows are installed, counts its OpenFlow flows, reads its
// memory, and times `ovn-nbctl --wait=hv lsp-add` of one more local port
// until that port's first ping. See bench/README.md.
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

// tools are the programs the benchmark runs.
type tools struct {
	ovnd, ovnController, ovnNorthd                 string
	ovsdbServer, ovsdbTool, vswitchd, vsctl, ofctl string
	nbctl, sbctl                                   string
	vswitchSchema                                  string
}

type options struct {
	layout         layout
	quick          bool
	markdown       bool
	adds, repeat   int
	only           string
	central        string
	tmp            string
	keep           bool
	poll, settle   time.Duration
	installTimeout time.Duration
	timeout        time.Duration
	cpuprofile     string
	ovndEnv        []string
	ovndLog        string
	tools          tools
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("controllerbench", flag.ContinueOnError)
	fs.BoolVar(&o.quick, "quick", false, "small topology (20 switches x 10 ports, 10 local and 10 remote VIFs, 1 add): a smoke test")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table in Markdown")
	fs.IntVar(&o.layout.nSwitch, "switches", 500, "logical switches")
	fs.IntVar(&o.layout.perSwitch, "ports", 20, "VIF ports per switch")
	fs.IntVar(&o.layout.local, "local", 50, "VIFs bound on the chassis under test")
	fs.IntVar(&o.layout.remote, "remote", 50, "VIFs bound to the remote chassis (no controller; makes tunnels)")
	fs.IntVar(&o.adds, "adds", 3, "lsp-add → first ping measurements per round (median)")
	fs.IntVar(&o.repeat, "repeat", 1, "rounds per side, alternating which side goes first; figures are medians")
	fs.StringVar(&o.only, "only", "", "run one side only: "+sideOVN+" or "+sideOvnd)
	fs.StringVar(&o.central, "central", centralOVN, "what both controllers' NB, SB and northd are: "+centralOVN+" (ovsdb-server and ovn-northd 23.03) or "+centralOvnd+
		" (ovnd's database and northd roles; ovnd's northd builds no logical routers yet, so the SB has no router flows)")
	fs.StringVar(&o.tmp, "tmp", os.TempDir(), "parent of the temporary directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, databases)")
	fs.DurationVar(&o.poll, "poll", 200*time.Millisecond, "how often the chassis is sampled during start")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "how long the flow count must stay unchanged to count as installed")
	fs.DurationVar(&o.installTimeout, "install-timeout", 10*time.Minute, "give up on a controller start after this long")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Minute, "give up on the whole run after this long")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of ovnd's controller (its first round) to this file")
	fs.StringVar(&o.ovndLog, "ovnd-log", "info", "ovnd's log level (debug logs every round's installs; see -keep)")
	fs.Func("ovnd-env", "KEY=VALUE for ovnd's environment, e.g. GODEBUG=gctrace=1 or GOGC=50 (repeatable)", func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("want KEY=VALUE")
		}
		o.ovndEnv = append(o.ovndEnv, s)
		return nil
	})
	fs.StringVar(&o.tools.ovnd, "ovnd", "", "ovnd binary (default: go build github.com/ovnd/ovnd into the temporary directory)")
	fs.StringVar(&o.tools.ovnController, "ovn-controller", "ovn-controller", "ovn-controller binary")
	fs.StringVar(&o.tools.ovnNorthd, "ovn-northd", "ovn-northd", "ovn-northd binary")
	fs.StringVar(&o.tools.ovsdbServer, "ovsdb-server", "ovsdb-server", "ovsdb-server binary")
	fs.StringVar(&o.tools.ovsdbTool, "ovsdb-tool", "ovsdb-tool", "ovsdb-tool binary")
	fs.StringVar(&o.tools.vswitchd, "ovs-vswitchd", "ovs-vswitchd", "ovs-vswitchd binary")
	fs.StringVar(&o.tools.vsctl, "ovs-vsctl", "ovs-vsctl", "ovs-vsctl binary")
	fs.StringVar(&o.tools.ofctl, "ovs-ofctl", "ovs-ofctl", "ovs-ofctl binary")
	fs.StringVar(&o.tools.nbctl, "ovn-nbctl", "ovn-nbctl", "ovn-nbctl binary")
	fs.StringVar(&o.tools.sbctl, "ovn-sbctl", "ovn-sbctl", "ovn-sbctl binary")
	fs.StringVar(&o.tools.vswitchSchema, "vswitch-schema", "/usr/share/openvswitch/vswitch.ovsschema", "Open_vSwitch schema for the private OVS")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.quick {
		o.layout = layout{nSwitch: 20, perSwitch: 10, local: 10, remote: 10}
		o.adds = 1
	}
	if err := o.layout.validate(); err != nil {
		return o, err
	}
	switch {
	case o.only != "" && o.only != sideOVN && o.only != sideOvnd:
		return o, fmt.Errorf("-only %q: want %s or %s", o.only, sideOVN, sideOvnd)
	case o.central != centralOVN && o.central != centralOvnd:
		return o, fmt.Errorf("-central %q: want %s or %s", o.central, centralOVN, centralOvnd)
	case o.repeat < 1 || o.repeat > 20:
		return o, fmt.Errorf("-repeat %d: want 1 to 20", o.repeat)
	case o.adds < 1 || o.layout.perSwitch+o.adds > 250:
		return o, fmt.Errorf("-adds %d: want 1 to %d", o.adds, 250-o.layout.perSwitch)
	case o.poll < 10*time.Millisecond || o.settle < o.poll:
		return o, fmt.Errorf("-poll %v -settle %v: want poll ≥ 10ms and settle ≥ poll", o.poll, o.settle)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "controllerbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "controllerbench:", err)
		cancel()
		stop()
		os.Exit(1)
	}
}

// run does the whole benchmark in a fresh temporary directory under o.tmp
// and removes it (and every process and namespace) before returning.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces, ovs-vswitchd)")
	}
	root, err := os.MkdirTemp(o.tmp, "controllerbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stderr, "keeping", root)
	} else {
		defer os.RemoveAll(root)
	}
	logf := func(f string, a ...any) { fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+f+"\n", a...) }
	sides := []string{sideOVN, sideOvnd}
	if o.only != "" {
		sides = []string{o.only}
	}
	if (slices.Contains(sides, sideOvnd) || o.central == centralOvnd) && o.tools.ovnd == "" {
		o.tools.ovnd = filepath.Join(root, "ovnd")
		logf("building ovnd")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", o.tools.ovnd, "github.com/ovnd/ovnd").CombinedOutput(); err != nil {
			return fmt.Errorf("build ovnd (or pass -ovnd): %w: %s", err, out)
		}
	}
	c, err := startCentral(ctx, o.tools, o.central, root)
	if err != nil {
		return err
	}
	defer c.stop()
	l := o.layout
	logf("loading %d switches x %d ports into the NB; waiting for northd (%s)", l.nSwitch, l.perSwitch, c.describe())
	t0 := time.Now()
	if err := c.load(ctx, o.tools, l); err != nil {
		return err
	}
	logf("SB ready after %.1f s", time.Since(t0).Seconds())
	results := map[string][]figures{}
	tag := fmt.Sprintf("cb%d", os.Getpid())
	for i := range o.repeat {
		order := slices.Clone(sides)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, side := range order {
			rs := roundSpec{tools: o.tools, central: c, layout: l, dir: sideDir(root, side, i),
				ns: fmt.Sprintf("%s-%s%d", tag, shortSide(side), i), adds: o.adds,
				poll: o.poll, settle: o.settle, timeout: o.installTimeout, logf: logf, ovndEnv: o.ovndEnv, ovndLog: o.ovndLog}
			if side == sideOvnd && i == 0 && o.cpuprofile != "" {
				path, _ := filepath.Abs(o.cpuprofile)
				rs.ovndEnv = append(slices.Clone(o.ovndEnv), "OVND_CPUPROFILE="+path)
			}
			logf("round %d: %s", i+1, side)
			f, err := runRound(ctx, rs, side)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", side, i+1, err)
			}
			results[side] = append(results[side], f)
		}
	}
	fmt.Fprintf(stdout, "controllerbench: %d switches x %d VIF ports (%d) on one router, port group of all VIFs with %d stateful ACLs; "+
		"%d VIFs local to the chassis under test, %d on a remote chassis; %d round(s), medians; poll %v, settle %v\n",
		l.nSwitch, l.perSwitch, l.vifs(), len(acls), l.local, l.remote, o.repeat, o.poll, o.settle)
	fmt.Fprintf(stdout, "ovnd: %s; %s; NB, SB and northd: %s\n\n", o.tools.ovnd, firstLine(o.tools.ovnController, "--version"), c.describe())
	writeReport(stdout, medians(results[sideOVN]), medians(results[sideOvnd]), o.markdown)
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", proc.LoadAvg())
	return nil
}

func shortSide(side string) string {
	if side == sideOVN {
		return "ovn"
	}
	return "ovnd"
}

func firstLine(argv ...string) string {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return argv[0]
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

// figures is what one round measured on one side, keyed by the metric
// names of the metrics table.
type figures map[string]float64

// roundSpec is everything one round needs besides the side.
type roundSpec struct {
	tools    tools
	central  *central
	layout   layout
	dir      string
	ns       string // chassis namespace; VIF namespaces derive from it
	adds     int
	poll     time.Duration
	settle   time.Duration
	timeout  time.Duration
	ovndEnv  []string // added to ovnd's environment (OVND_CPUPROFILE, GODEBUG...)
	ovndLog  string   // ovnd's log level
	logf     func(string, ...any)
	keepLogs bool
}

// runRound measures one controller: a fresh chassis, the controller's
// start until its flows are installed, memory, then lsp-add → first ping.
// Whatever the round leaves in the central databases is removed before it
// returns, so that every round starts from the same SB.
func runRound(ctx context.Context, rs roundSpec, side string) (f figures, err error) {
	systemID := "bench-" + side
	h, err := startHypervisor(ctx, rs.tools, rs.dir, rs.ns, systemID, rs.central.sbRemote(), rs.layout)
	if err != nil {
		return nil, fmt.Errorf("chassis: %w", err)
	}
	defer h.close()
	var added []string
	defer func() {
		if ferr := rs.central.forget(rs.tools, systemID, added); ferr != nil && err == nil {
			err = fmt.Errorf("clean the SB after the round: %w", ferr)
		}
	}()
	ctl, err := startController(rs.tools, side, h, rs.ovndEnv, rs.ovndLog)
	if err != nil {
		return nil, err
	}
	// A generous grace period: ovnd writes its CPU profile on the way out.
	defer ctl.Stop(time.Minute)
	rs.logf("%s: started, waiting for %d ports and a stable flow table", side, rs.layout.local)
	samples, done, err := waitInstalled(ctx, rs.tools, h, ctl, rs.layout.local, rs.poll, rs.settle, rs.timeout)
	if err != nil {
		return nil, fmt.Errorf("%s start: %w", side, err)
	}
	f = figures{
		"installed": seconds(done.at),
		"ports":     seconds(firstInstalled(samples, rs.layout.local)),
		"flows":     float64(done.flows),
	}
	cpu, err := proc.CPU(ctl.Pid())
	if err != nil {
		return nil, err
	}
	f["cpu"] = cpu.Seconds()
	rss, hwm, err := proc.Memory(ctl.Pid())
	if err != nil {
		return nil, err
	}
	f["rss"], f["hwm"] = mib(rss), mib(hwm)
	rs.logf("%s: installed at %.2f s, %d flows, RSS %.1f MiB", side, f["installed"], done.flows, f["rss"])
	cpuBefore, err := proc.CPU(ctl.Pid())
	if err != nil {
		return nil, err
	}
	var adds, pings, plugs []float64
	for k := range rs.adds {
		name, _, _ := rs.layout.extraPort(k)
		added = append(added, name)
		add, ping, err := addAndPing(ctx, rs, h, k)
		if err != nil {
			return nil, fmt.Errorf("%s: lsp-add %s: %w", side, name, err)
		}
		adds, pings = append(adds, add.Seconds()*1000), append(pings, ping.Seconds()*1000)
		plugs = append(plugs, (ping-add).Seconds()*1000)
	}
	f["add"], f["ping"], f["plug"] = medianOf(adds), medianOf(pings), medianOf(plugs)
	if cpuAfter, err := proc.CPU(ctl.Pid()); err == nil {
		f["addCPU"] = (cpuAfter - cpuBefore).Seconds() * 1000 / float64(rs.adds)
	}
	rs.logf("%s: lsp-add --wait=hv %.0f ms, first ping %.0f ms (medians of %d)", side, f["add"], f["ping"], rs.adds)
	if err := ctl.Alive(); err != nil {
		return nil, err
	}
	if rss, hwm, err = proc.Memory(ctl.Pid()); err != nil {
		return nil, err
	}
	f["rssEnd"], f["hwm"] = mib(rss), mib(hwm)
	return f, nil
}

// addAndPing adds extra port k to switch 0 with `ovn-nbctl --wait=hv
// lsp-add`, then plugs its prepared VIF into br-int, then pings VIF 0 from
// it every 10 ms until the first reply. It returns the time lsp-add took and
// the time from the start of lsp-add to the first reply.
func addAndPing(ctx context.Context, rs roundSpec, h *hypervisor, k int) (add, ping time.Duration, err error) {
	l := rs.layout
	name, mac, ip := l.extraPort(k)
	port, vifNS := fmt.Sprintf("new%d", k), fmt.Sprintf("%s-n%d", rs.ns, k)
	if err := h.prepareVIF(port, vifNS, mac, ip); err != nil {
		return 0, 0, err
	}
	mac0, ip0 := addr(0, 0)
	if err := neighbour(vifNS, ip0, mac0); err != nil {
		return 0, 0, err
	}
	if err := neighbour(h.ns+"-v0", ip, mac); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if _, err := rs.central.nbctl(ctx, rs.tools, "--wait=hv", "lsp-add", l.switchName(0), name,
		"--", "lsp-set-addresses", name, mac+" "+ip); err != nil {
		return 0, 0, err
	}
	add = time.Since(t0)
	tBind := time.Now()
	if err := h.bind(ctx, rs.tools, port, name); err != nil {
		return 0, 0, err
	}
	tPing := time.Now()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", vifNS, "ping", "-n", "-q", "-c", "1", "-i", "0.01", "-w", "30", ip0)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("no ping reply from %s within 30 s: %w: %s", ip0, err, out)
	}
	tEnd := time.Now()
	// Wall-clock times to the ms, to line up with the daemons' logs.
	rs.logf("add %s: lsp-add %s-%s, bind %s-%s, ping %s-%s", name, stamp(t0), stamp(tBind),
		stamp(tBind), stamp(tPing), stamp(tPing), stamp(tEnd))
	return add, tEnd.Sub(t0), nil
}

// stamp renders t as the daemons' logs do, to the millisecond (UTC).
func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func seconds(d time.Duration) float64 { return d.Seconds() }
func mib(b int64) float64             { return float64(b) / (1 << 20) }

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

// sideDir is the round's directory for a side.
func sideDir(root, side string, round int) string {
	return filepath.Join(root, fmt.Sprintf("%s-%d", side, round))
}

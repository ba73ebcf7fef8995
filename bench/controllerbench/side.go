package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ovnd/ovnd/internal/proc"
)

// The two controllers, as named in the table.
const (
	sideOVN  = "ovn-controller"
	sideOvnd = "ovnd"
)

// startController runs one side's controller in the chassis namespace,
// pointed at the chassis's private OVS; everything else it reads from the
// Open_vSwitch external_ids.
func startController(b tools, side string, h *hypervisor, ovndEnv []string, ovndLog string) (*daemon, error) {
	if side == sideOVN {
		// ovn-controller has no --unixctl: OVN_RUNDIR places its socket.
		return spawn(h.dir, "ovn-controller", h.ns, append(h.env(), "OVN_RUNDIR="+h.dir), b.ovnController,
			"unix:"+h.sock(), "--log-file="+filepath.Join(h.dir, "ovn-controller.log"), "--no-chdir")
	}
	cfg := filepath.Join(h.dir, "ovnd.toml")
	if ovndLog == "" {
		ovndLog = "info"
	}
	text := "roles = [\"controller\"]\n\n[log]\nlevel = " + strconv.Quote(ovndLog) + "\n\n[controller]\novs = " + strconv.Quote("unix:"+h.sock()) + "\n"
	if err := writeFile(cfg, text); err != nil {
		return nil, err
	}
	env := append(h.env(), ovndEnv...)
	return spawn(h.dir, "ovnd", h.ns, env, b.ovnd, "run", "--config", cfg)
}

// sample is one look at the chassis while the controller starts.
type sample struct {
	at        time.Duration // since the controller started
	flows     int
	installed int
	cpu       time.Duration // the controller's CPU time so far
}

// idleShare is how much of the settle window the controller may spend on
// the CPU and still count as idle: ovn-controller computes for seconds at
// a time without touching br-int, so a steady flow count alone does not
// mean it is done.
const idleShare = 0.03

// settled finds the moment the controller was done in samples taken every
// poll interval: the first sample from which on every local port was
// ovn-installed and the flow count no longer changed, provided that lasted
// at least settle and the controller was idle (CPU under idleShare) for the
// last settle. It returns false while that is not yet known.
func settled(samples []sample, local int, settle time.Duration) (sample, bool) {
	if len(samples) == 0 {
		return sample{}, false
	}
	last := samples[len(samples)-1]
	if last.installed < local || last.flows == 0 {
		return sample{}, false
	}
	i := len(samples) - 1
	for i > 0 && samples[i-1].flows == last.flows && samples[i-1].installed >= local {
		i--
	}
	if last.at-samples[i].at < settle {
		return sample{}, false
	}
	// The idle window runs from the last sample at least settle ago.
	j := len(samples) - 1
	for j > i && last.at-samples[j].at < settle {
		j--
	}
	if window := last.at - samples[j].at; window < settle || last.cpu-samples[j].cpu > time.Duration(idleShare*float64(window)) {
		return sample{}, false
	}
	return samples[i], true
}

// firstInstalled is when every local port first showed ovn-installed.
func firstInstalled(samples []sample, local int) time.Duration {
	for _, s := range samples {
		if s.installed >= local {
			return s.at
		}
	}
	return 0
}

// waitInstalled samples the chassis every poll until settled, ctl dies or
// timeout passes.
func waitInstalled(ctx context.Context, b tools, h *hypervisor, ctl *daemon, local int, poll, settle, timeout time.Duration) ([]sample, sample, error) {
	var samples []sample
	for {
		if err := ctl.Alive(); err != nil {
			return samples, sample{}, err
		}
		at := time.Since(ctl.started)
		s := sample{at: at}
		var err error
		if s.cpu, err = proc.CPU(ctl.Pid()); err != nil {
			return samples, sample{}, err
		}
		if s.installed, err = h.installed(ctx, b); err != nil {
			return samples, sample{}, err
		}
		// No flows yet is not an error: the bridge may not be connected.
		s.flows, _ = h.flowCount(ctx, b)
		samples = append(samples, s)
		if done, ok := settled(samples, local, settle); ok {
			return samples, done, nil
		}
		if at > timeout {
			return samples, sample{}, fmt.Errorf("not settled after %v: %d of %d ports installed, %d flows", timeout, s.installed, local, s.flows)
		}
		select {
		case <-ctx.Done():
			return samples, sample{}, ctx.Err()
		case <-time.After(poll):
		}
	}
}

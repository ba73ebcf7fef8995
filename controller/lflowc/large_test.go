package lflowc

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// largeScript writes an ovn-nbctl batch for the controller bench's
// layout scaled up: nSwitch switches of perSwitch VIFs each, all on
// router r0, every VIF in port group "vifs" with three stateful ACLs.
func largeScript(nSwitch, perSwitch int) string {
	var b strings.Builder
	b.WriteString("$N lr-add r0")
	for s := range nSwitch {
		sep := " -- "
		if s%50 == 0 {
			sep = "\n$N " // one ovn-nbctl per 50 switches: the kernel bounds a command line
		}
		sw := fmt.Sprintf("sw%d", s)
		fmt.Fprintf(&b, "%sls-add %s -- lrp-add r0 r0-%s 02:0a:%02x:%02x:00:01 10.%d.%d.1/24", sep, sw, sw, s/256, s%256, s/256, s%256)
		fmt.Fprintf(&b, " -- lsp-add %s %s-r0 -- lsp-set-type %s-r0 router -- lsp-set-addresses %s-r0 router"+
			" -- lsp-set-options %s-r0 router-port=r0-%s", sw, sw, sw, sw, sw, sw)
		for h := range perSwitch {
			p := fmt.Sprintf("%s-vif%d", sw, h)
			addr := fmt.Sprintf("02:0b:%02x:%02x:00:%02x 10.%d.%d.%d", s/256, s%256, h+2, s/256, s%256, h+2)
			fmt.Fprintf(&b, " -- lsp-add %s %s -- lsp-set-addresses %s \"%s\" -- lsp-set-port-security %s \"%s\"", sw, p, p, addr, p, addr)
		}
	}
	b.WriteString("\n$N pg-add vifs")
	for s := range nSwitch {
		for h := range perSwitch {
			fmt.Fprintf(&b, " sw%d-vif%d", s, h)
		}
	}
	b.WriteString("\n$N acl-add vifs to-lport 1002 'outport == @vifs && ip4 && ip4.src == $vifs_ip4' allow-related")
	b.WriteString("\n$N acl-add vifs to-lport 1002 'outport == @vifs && ip4 && tcp.dst == 22' allow-related")
	b.WriteString("\n$N acl-add vifs from-lport 1002 'inport == @vifs && ip4' allow-related\n")
	return b.String()
}

// TestLargeCompile measures a full compile of a large topology as a real
// ovn-northd writes it, every datapath and port taken as local (the
// worst case for one chassis): go test -run LargeCompile -large.
func TestLargeCompile(t *testing.T) {
	if !*large {
		t.Skip("run with -large")
	}
	s := newSandbox(t)
	start := time.Now()
	s.scriptText(largeScript(100, 20))
	t.Logf("northd built the SB in %v", time.Since(start))
	e := readSB(t, s)
	pairs := 0
	for _, d := range e.lfDPs {
		pairs += len(d)
	}
	// Every VIF local (worst case), then only sw0's (a chassis among
	// a hundred; every datapath is still local through the router).
	for round, local := range []func(string) bool{
		func(string) bool { return true },
		func(p string) bool { return strings.HasPrefix(p, "sw0-") || e.ports[p].typ == "patch" },
	} {
		env := &localEnv{sbEnv: e, local: local}
		cc := NewCompiler()
		nflows, failed := 0, 0
		start, cpu0 := time.Now(), cpuTime()
		for i, lf := range e.lflows {
			dps := slices.Clone(e.lfDPs[i])
			slices.Sort(dps)
			flows, _, err := cc.Compile(lf, dps, env)
			if err != nil {
				failed++
				continue
			}
			nflows += len(flows)
		}
		d, cpu := time.Since(start), cpuTime()-cpu0
		t.Logf("round %d: %d lflows (%d lflow-datapath pairs) -> %d flows, %d groups: %v CPU (%.1f µs/pair), %v wall; %d not compiled",
			round, len(e.lflows), pairs, nflows, len(cc.Groups()), cpu, float64(cpu.Microseconds())/float64(pairs), d, failed)
	}
}

// localEnv is an sbEnv whose Resident and Local answers come from local.
type localEnv struct {
	*sbEnv
	local func(string) bool
}

func (e *localEnv) Resident(p string) bool { return e.local(p) }
func (e *localEnv) Local(p string) bool    { return e.local(p) }

// cpuTime is the CPU time the process has used: on the shared test
// machine wall time mostly measures the other tenants.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

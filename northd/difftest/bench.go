package difftest

import (
	"fmt"
	"strconv"
	"strings"
)

// BenchScript is the northd benchmark's topology (bench/northdbench) as
// ovn-nbctl commands, at any scale: switches×ports VIFs with addresses,
// one router lr0 with a port on every switch (and the router-type switch
// port peered with it), and a port group pg_all of every VIF with three
// stateful ACLs. Switches go benchBatch to an ovn-nbctl command, and each
// VIF joins pg_all as it is created (one pg-add naming 10,000 ports takes
// ovn-nbctl longer than its timeout), so that the full size (500×20)
// loads in a couple of minutes.
func BenchScript(switches, ports int) [][]string {
	cmds := [][]string{{"lr-add", "lr0", "--", "pg-add", "pg_all"}}
	var c []string
	for s := range switches {
		ls := fmt.Sprintf("ls%03d", s)
		if s%benchBatch == 0 {
			if c != nil {
				cmds = append(cmds, c)
			}
			c = []string{"ls-add", ls}
		} else {
			c = append(c, "--", "ls-add", ls)
		}
		for p := range ports {
			id := fmt.Sprintf("@p%d_%d", s, p)
			c = append(c, "--", "--id="+id, "create", "Logical_Switch_Port", fmt.Sprintf("name=%s-p%02d", ls, p),
				fmt.Sprintf("addresses=%q", benchMAC(s, p)+" "+benchIP(s, p)),
				"--", "add", "Logical_Switch", ls, "ports", id, "--", "add", "Port_Group", "pg_all", "ports", id)
		}
		lrp, rp := fmt.Sprintf("lr0-%s", ls), ls+"-lr0"
		c = append(c, "--", "lrp-add", "lr0", lrp, benchMAC(s, -1), benchIP(s, -1)+"/24",
			"--", "lsp-add", ls, rp, "--", "lsp-set-type", rp, "router", "--", "lsp-set-addresses", rp, "router",
			"--", "lsp-set-options", rp, "router-port="+lrp)
	}
	if c != nil {
		cmds = append(cmds, c)
	}
	for i, a := range []struct{ dir, match string }{
		{"to-lport", `outport == @pg_all && ip4 && ip4.src == $pg_all_ip4`},
		{"to-lport", `outport == @pg_all && ip4 && tcp.dst == 22`},
		{"from-lport", `inport == @pg_all && ip4`},
	} {
		cmds = append(cmds, []string{"--type=port-group", "acl-add", "pg_all", a.dir, strconv.Itoa(1001 + i), a.match, "allow-related"})
	}
	return cmds
}

// benchBatch is how many of the benchmark's switches one command adds.
const benchBatch = 25

func benchMAC(s, p int) string {
	return fmt.Sprintf("0a:00:%02x:%02x:%02x:%02x", s>>8, s&0xff, (p+1)>>8, (p+1)&0xff)
}

func benchIP(s, p int) string { return fmt.Sprintf("10.%d.%d.%d", s>>8, s&0xff, p+2) }

// ParseBench reads a "bench:SWITCHESxPORTS" name, as the difftest command
// takes it in place of a script.
func ParseBench(name string) (switches, ports int, ok bool) {
	spec, found := strings.CutPrefix(name, "bench:")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "x")
	s, err1 := strconv.Atoi(a)
	p, err2 := strconv.Atoi(b)
	if !found || err1 != nil || err2 != nil || s < 1 || p < 1 || p > 250 {
		return 0, 0, false
	}
	return s, p, true
}

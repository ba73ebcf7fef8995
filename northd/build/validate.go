package build

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// Bad NB content is skipped row by row (or address entry by address
// entry) with a problem line naming it, so that one bad row never stops
// the rest from being built:
//
//   - a logical switch port listed by two switches, or two ports with one
//     name: the port stays on the first switch (by tunnel key) and is
//     left out of the others, since SB's Port_Binding.logical_port is
//     unique;
//   - an address entry that is not "MAC [IP...]" (or unknown, router,
//     dynamic): left out of the port;
//   - an ACL whose match does not parse: left out (acl.go);
//   - an address entry whose MAC or IP another port of the same switch
//     also has: left out of all but one port, since two owners of one
//     address would give two conflicting flows of the same priority and
//     match. Ports SB already binds keep theirs over new ports, so that
//     adding a port never takes an address away from a working one;
//     otherwise the first port by name keeps it.
//
// ovn-northd 23.03 warns about most of these and builds them anyway.
//
// The per-switch checks run in switchPorts and leave their lines in
// lswitch.problems, which whoever assembles a Result (Build, or an
// incremental engine) gathers from every switch; the cross-switch name
// check (dedupPorts) runs over all switches at once.

// portProblem names a port and its switch for a problem line.
func portProblem(sw *lswitch, p *lport, format string, args ...any) string {
	return fmt.Sprintf("logical switch port %q (%s) on switch %q: ", p.nb.Name, p.nb.UUID, sw.nb.Name) +
		fmt.Sprintf(format, args...)
}

// checkAddrEntry reports why an addresses entry is unusable, or "" when
// it is fine. Keywords and entries with "dynamic" are left to the
// builders.
func checkAddrEntry(s string) string {
	f := strings.Fields(s)
	switch {
	case len(f) == 0:
		return "empty address"
	case len(f) == 1 && (f[0] == "unknown" || f[0] == "router" || f[0] == "dynamic"):
		return ""
	case slices.Contains(f, "dynamic"):
		return ""
	}
	if _, ok := parseMAC(f[0]); !ok {
		return fmt.Sprintf("invalid MAC %q", f[0])
	}
	for _, w := range f[1:] {
		if _, err := netip.ParseAddr(strings.SplitN(w, "/", 2)[0]); err != nil {
			return fmt.Sprintf("invalid IP address %q", w)
		}
		if _, plen, ok := strings.Cut(w, "/"); ok {
			if _, err := netip.ParsePrefix(w); err != nil {
				return fmt.Sprintf("invalid prefix length %q in %q", plen, w)
			}
		}
	}
	return ""
}

// owners tracks which port of a switch has each MAC and IP.
type owners map[string]string

// claim records entry's MAC and IPs for port, or names the first one
// another port already has.
func (o owners) claim(port string, entry string) (conflict string, other string) {
	f := strings.Fields(entry)
	if len(f) == 0 || f[0] == "unknown" || f[0] == "router" || slices.Contains(f, "dynamic") {
		return "", ""
	}
	keys := []string{"mac " + strings.ToLower(f[0])}
	for _, w := range f[1:] {
		if ip, err := netip.ParseAddr(strings.SplitN(w, "/", 2)[0]); err == nil {
			keys = append(keys, "ip "+ip.String())
		}
	}
	for _, k := range keys {
		if p, ok := o[k]; ok && p != port {
			return k, p
		}
	}
	for _, k := range keys {
		o[k] = port
	}
	return "", ""
}

// checkPorts drops the unusable address entries of ps, sw's ports, and
// those that repeat another port's MAC or IP, and returns a problem line
// for each. Entries the port's Port_Binding already carries (sw.sbMACs)
// claim their addresses first, then those of ports bound already (bound),
// then the rest, each round by port name: adding a port never takes an
// address away from a working one, and the choice is stable from one
// round to the next. A port's addresses are replaced, never changed in
// place: the NB snapshot stays as it was.
func checkPorts(sw *lswitch, ps []*lport, bound func(*lport) bool) (problems []string) {
	keep := make([][]bool, len(ps))
	for i, p := range ps {
		keep[i] = make([]bool, len(p.nb.Addresses))
		for j, a := range p.nb.Addresses {
			if why := checkAddrEntry(a); why != "" {
				problems = append(problems, portProblem(sw, p, "address %q: %s; entry skipped", a, why))
				continue
			}
			keep[i][j] = true
		}
	}
	own := owners{}
	inSB := func(p *lport, a string) bool { return slices.Contains(sw.sbMACs[p.nb.Name], a) }
	for round := range 3 {
		for i, p := range ps {
			for j, a := range p.nb.Addresses {
				held := inSB(p, a)
				switch {
				case !keep[i][j], round == 0 && !held, round == 1 && (held || !bound(p)), round == 2 && (held || bound(p)):
					continue
				}
				if what, other := own.claim(p.nb.Name, a); what != "" {
					problems = append(problems, portProblem(sw, p, "address %q: %s is already port %q's; entry skipped", a, what, other))
					keep[i][j] = false
				}
			}
		}
	}
	for i, p := range ps {
		if slices.Contains(keep[i], false) {
			var addrs []string
			for j, a := range p.nb.Addresses {
				if keep[i][j] {
					addrs = append(addrs, a)
				}
			}
			p.nb.Addresses = addrs
		}
	}
	slices.Sort(problems)
	return problems
}

// dedupPorts keeps each logical port name on the first switch (sws in
// tunnel key order) and drops it from the others, recording a problem.
func dedupPorts(sws []*lswitch) {
	first := map[string]*lswitch{}
	for _, sw := range sws {
		sw.ports = slices.DeleteFunc(sw.ports, func(p *lport) bool {
			if o, ok := first[p.nb.Name]; ok {
				sw.problems = append(sw.problems, portProblem(sw, p, "port name already on switch %q; skipped here", o.nb.Name))
				return true
			}
			first[p.nb.Name] = sw
			return false
		})
	}
}

// aclProblem names an ACL for a problem line: its name when it has one,
// its UUID, direction and priority. Not the switches or port groups
// listing it: the line depends on the ACL row alone.
func aclProblem(a nbdb.ACL, format string, args ...any) string {
	name := ""
	if a.Name != nil && *a.Name != "" {
		name = fmt.Sprintf(" %q", *a.Name)
	}
	return fmt.Sprintf("acl%s (%s, %s priority %d): ", name, a.UUID, a.Direction, a.Priority) + fmt.Sprintf(format, args...)
}

package build

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/lflow"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// aclPriorityOffset is what ovn-northd adds to an ACL's priority.
const aclPriorityOffset = 1000

// Conntrack flows ovn-northd adds to ls_in/out_acl_hint when a switch has
// a stateful ACL: they classify the connection for the ACL stage.
var aclHints = []staticFlow{
	{priority: 7, match: "ct.new && !ct.est", actions: "reg0[7] = 1; reg0[9] = 1; next;"},
	{priority: 6, match: "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 1", actions: "reg0[7] = 1; reg0[9] = 1; next;"},
	{priority: 5, match: "!ct.trk", actions: "reg0[8] = 1; reg0[9] = 1; next;"},
	{priority: 4, match: "!ct.new && ct.est && !ct.rpl && ct_mark.blocked == 0", actions: "reg0[8] = 1; reg0[10] = 1; next;"},
	{priority: 3, match: "!ct.est", actions: "reg0[9] = 1; next;"},
	{priority: 2, match: "ct.est && ct_mark.blocked == 1", actions: "reg0[9] = 1; next;"},
	{priority: 1, match: "ct.est && ct_mark.blocked == 0", actions: "reg0[10] = 1; next;"},
}

const (
	ctEstRpl   = "ct.est && !ct.rel && !ct.new && !ct.inv && ct.rpl && ct_mark.blocked == 0"
	ctRel      = "!ct.est && ct.rel && !ct.new && !ct.inv && ct_mark.blocked == 0"
	ctInvalid  = "ct.inv || (ct.est && ct.rpl && ct_mark.blocked == 1)"
	preACLSkip = "nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)"
)

// aclDir is one direction's pair of stages and its own spellings.
type aclDir struct {
	pre, hint, acl Stage
	svcMatch       string
	// rejectNext continues a rejected packet in the other pipeline.
	rejectNext string
	ingress    bool
}

var (
	fromLport = aclDir{LSInPreACL, LSInACLHint, LSInACL, "eth.dst == $svc_monitor_mac",
		fmt.Sprintf("next(pipeline=egress,table=%d)", LSOutQoSMark.Table), true}
	toLport = aclDir{LSOutPreACL, LSOutACLHint, LSOutACL, "eth.src == $svc_monitor_mac",
		fmt.Sprintf("next(pipeline=ingress,table=%d)", LSInL2Lkup.Table), false}
)

// switchACLs is the ACLs that apply to sw: its own and those of port
// groups with a port on it, in a stable order.
func (sw *lswitch) switchACLs(nb *NB) []nbdb.ACL {
	uuids := slices.Clone(sw.nb.ACLs)
	for _, pg := range sw.portGroups(nb) {
		uuids = append(uuids, pg.ACLs...)
	}
	var acls []nbdb.ACL
	for _, u := range uuids {
		if a, ok := nb.ACLs[u]; ok && !slices.ContainsFunc(acls, func(b nbdb.ACL) bool { return b.UUID == u }) {
			acls = append(acls, a)
		}
	}
	slices.SortFunc(acls, func(a, b nbdb.ACL) int { return cmp.Compare(a.UUID, b.UUID) })
	return acls
}

// portGroups is the port groups with a port on sw. The engine gives sw
// an index of its ports' groups (pgsOf); without it, every group's ports
// are searched.
func (sw *lswitch) portGroups(nb *NB) []nbdb.PortGroup {
	var out []nbdb.PortGroup
	if sw.pgsOf != nil {
		seen := map[string]bool{}
		for _, p := range sw.ports {
			for _, u := range sw.pgsOf[p.nb.UUID] {
				if pg, ok := nb.PortGroups[u]; ok && !seen[u] {
					seen[u] = true
					out = append(out, pg)
				}
			}
		}
		return out
	}
	mine := map[string]bool{}
	for _, p := range sw.ports {
		mine[p.nb.UUID] = true
	}
	for _, pg := range nb.PortGroups {
		if slices.ContainsFunc(pg.Ports, func(u string) bool { return mine[u] }) {
			out = append(out, pg)
		}
	}
	return out
}

// aclFlows adds the ACL stages' flows for sw, leaving out the bad ACLs,
// and reports whether the switch uses conntrack for them.
// A load balancer VIP needs conntrack as a stateful ACL does.
func (sw *lswitch) aclFlows(nb *NB, fs *flowSet, bad map[string]bool, hasLB bool) (stateful bool) {
	acls := sw.switchACLs(nb)
	for _, d := range []aclDir{fromLport, toLport} {
		if len(acls) == 0 && !hasLB {
			fs.add(sw.key, d.hint, 65535, "1", "next;")
			fs.add(sw.key, d.acl, 65535, "1", "next;")
		} else {
			fs.add(sw.key, d.hint, 0, "1", "next;")
			fs.add(sw.key, d.acl, 34000, d.svcMatch, "next;")
			fs.add(sw.key, d.acl, 0, "1", "next;")
		}
		fs.add(sw.key, d.acl, 65532, ndMatch, "next;")
	}
	statefulACL := slices.ContainsFunc(acls, func(a nbdb.ACL) bool { return a.Action == nbdb.ACLActionAllowRelated })
	stateful = statefulACL || hasLB
	if stateful {
		sw.statefulACLFlows(fs, statefulACL)
	}
	sw.localnetConntrack(fs, statefulACL, hasLB)
	for _, a := range acls {
		if bad[a.UUID] {
			continue
		}
		d := toLport
		if a.Direction == nbdb.ACLDirectionFromLport {
			d = fromLport
			if a.Options["apply-after-lb"] == "true" {
				d.acl = LSInACLAfterLB
			}
		}
		sw.aclFlow(fs, d, a, stateful)
	}
	return stateful
}

// localnetConntrack keeps traffic through localnet ports out of
// conntrack as ovn-northd 23.03 does: exempt from pre_acl when the switch
// has a stateful ACL, and in egress pre_lb (without a load balancer VIP)
// passed on, with conntrack state cleared unless a stateful ACL needs it.
func (sw *lswitch) localnetConntrack(fs *flowSet, statefulACL, hasLB bool) {
	for _, p := range sw.ports {
		if p.nb.Type != "localnet" {
			continue
		}
		in, out := fmt.Sprintf("ip && inport == %q", p.nb.Name), fmt.Sprintf("ip && outport == %q", p.nb.Name)
		egress := "ct_clear; next;"
		if statefulACL {
			egress = "next;"
			fs.add(sw.key, LSInPreACL, 110, in, "next;")
			fs.add(sw.key, LSOutPreACL, 110, out, "next;")
		}
		if !hasLB {
			fs.add(sw.key, LSOutPreLB, 110, out, egress)
		}
	}
}

// checkACLs parses every ACL's match once and returns the ACLs that do not
// parse, with a problem line for each.
func checkACLs(nb *NB) (bad map[string]bool, problems []string) {
	bad = map[string]bool{}
	sets := nbSets(nb)
	for _, a := range nb.ACLs {
		if _, err := lflow.ParseExpr(a.Match, lflow.Symbols, sets); err != nil {
			bad[a.UUID] = true
			problems = append(problems, aclProblem(a, "match %q: %v; skipped", a.Match, err))
		}
	}
	slices.Sort(problems)
	return bad, problems
}

// statefulACLFlows are the conntrack flows a switch gets once any ACL on
// it is stateful or it has a load balancer VIP. Only a stateful ACL sends
// all IP traffic to conntrack in pre_acl; a VIP does that in pre_lb.
func (sw *lswitch) statefulACLFlows(fs *flowSet, preACL bool) {
	for _, d := range []aclDir{fromLport, toLport} {
		if preACL {
			fs.add(sw.key, d.pre, 110, "eth.mcast", "next;")
			fs.add(sw.key, d.pre, 110, preACLSkip, "next;")
			fs.add(sw.key, d.pre, 100, "ip", "reg0[0] = 1; next;")
		}
		for _, h := range aclHints {
			fs.add(sw.key, d.hint, h.priority, h.match, h.actions)
		}
		mark := ""
		if d.ingress {
			mark = "reg0[17] = 1; "
		}
		fs.add(sw.key, d.acl, 65532, ctRel, mark+"ct_commit_nat;")
		reset := ""
		if d.ingress {
			reset = "reg0[9] = 0; reg0[10] = 0; "
		}
		fs.add(sw.key, d.acl, 65532, ctEstRpl, reset+mark+"next;")
		fs.add(sw.key, d.acl, 65532, ctInvalid, "drop;")
		fs.add(sw.key, d.acl, 1, "ip && !ct.est", "reg0[1] = 1; next;")
		fs.add(sw.key, d.acl, 1, "ip && ct.est && ct_mark.blocked == 1", "reg0[1] = 1; next;")
	}
	fs.add(sw.key, LSInACLAfterLB, 65532, "reg0[17] == 1", "next;")
}

// aclFlow adds one ACL's flows in direction d.
func (sw *lswitch) aclFlow(fs *flowSet, d aclDir, a nbdb.ACL, stateful bool) {
	prio := a.Priority + aclPriorityOffset
	m := a.Match
	switch {
	case a.Action == nbdb.ACLActionAllowStateless:
		if stateful {
			fs.add(sw.key, d.pre, prio, m, "reg0[16] = 1; next;")
		}
		fs.add(sw.key, d.acl, prio, m, aclLog(a, "allow")+"next;")
	case a.Action == nbdb.ACLActionAllow || a.Action == nbdb.ACLActionAllowRelated:
		log := aclLog(a, "allow")
		if !stateful {
			fs.add(sw.key, d.acl, prio, m, log+"next;")
			return
		}
		commit, est := "reg0[1] = 1; ", ""
		if a.Label != 0 {
			// A labelled ACL commits every packet, so that conntrack
			// carries the label (ct_label.label from reg3).
			commit += fmt.Sprintf("reg0[13] = 1; reg3 = %d; ", a.Label)
			est = commit
		}
		fs.add(sw.key, d.acl, prio, "reg0[7] == 1 && ("+m+")", commit+log+"next;")
		fs.add(sw.key, d.acl, prio, "reg0[8] == 1 && ("+m+")", est+log+"next;")
	default: // drop, reject
		sw.denyFlow(fs, d, a, prio, stateful)
	}
}

// denyFlow adds a drop or reject ACL. With conntrack in use, an
// established connection that the ACL now denies is marked blocked.
func (sw *lswitch) denyFlow(fs *flowSet, d aclDir, a nbdb.ACL, prio int, stateful bool) {
	if a.Action == nbdb.ACLActionReject {
		sw.rejectFlow(fs, d, a, prio, stateful)
		return
	}
	act := aclLog(a, "drop") + "/* drop */"
	if !stateful {
		fs.add(sw.key, d.acl, prio, a.Match, act)
		return
	}
	fs.add(sw.key, d.acl, prio, "reg0[10] == 1 && ("+a.Match+")", "ct_commit { ct_mark.blocked = 1; }; "+act)
	fs.add(sw.key, d.acl, prio, "reg0[9] == 1 && ("+a.Match+")", act)
}

// rejectFlow adds a reject ACL. ovn-northd 23.03 spells these apart from
// drop: the ACL's match unparenthesised, the log before the commit, and a
// double space after it.
func (sw *lswitch) rejectFlow(fs *flowSet, d aclDir, a nbdb.ACL, prio int, stateful bool) {
	log := aclLog(a, "reject")
	act := "reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; " + d.rejectNext + "; };"
	if !stateful {
		fs.add(sw.key, d.acl, prio, a.Match, log+act)
		return
	}
	fs.add(sw.key, d.acl, prio, "(reg0[10] == 1) && "+a.Match, log+"ct_commit { ct_mark.blocked = 1; };  "+act)
	fs.add(sw.key, d.acl, prio, "(reg0[9] == 1) && "+a.Match, log+act)
}

// aclLog is the log() action for an ACL with log=true, followed by a
// space, or "" when the ACL does not log. Severity defaults to info.
func aclLog(a nbdb.ACL, verdict string) string {
	if !a.Log {
		return ""
	}
	var args []string
	if a.Name != nil && *a.Name != "" {
		args = append(args, fmt.Sprintf("name=%q", *a.Name))
	}
	sev := "info"
	if a.Severity != nil {
		sev = string(*a.Severity)
	}
	args = append(args, "severity="+sev, "verdict="+verdict)
	if a.Meter != nil && *a.Meter != "" {
		args = append(args, fmt.Sprintf("meter=%q", *a.Meter))
	}
	return "log(" + strings.Join(args, ", ") + "); "
}

// nbSets resolves $address_set and @port_group names in ACL matches.
func nbSets(nb *NB) lflow.Sets {
	s := lflow.MapSets{AddressSets: map[string][]string{}, PortGroups: map[string][]string{}}
	for _, as := range nb.AddressSets {
		s.AddressSets[as.Name] = as.Addresses
	}
	for _, pg := range nb.PortGroups {
		var names []string
		for _, u := range pg.Ports {
			if p, ok := nb.Ports[u]; ok {
				names = append(names, p.Name)
			}
		}
		s.PortGroups[pg.Name] = names
		s.AddressSets[pg.Name+"_ip4"] = []string{"0.0.0.0/0"}
		s.AddressSets[pg.Name+"_ip6"] = []string{"::/0"}
	}
	s.AddressSets[svcMonitorMAC] = []string{"00:00:00:00:00:00"}
	return s
}

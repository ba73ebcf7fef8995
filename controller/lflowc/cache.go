package lflowc

import (
	"slices"
	"strings"

	"github.com/ovnd/ovnd/lflow"
)

// textCache keeps parsed action and match text: many lflows share their
// text across datapath groups, and parsing dominates compile time. Only
// text that does not depend on the world is cached (matches naming
// address sets or port groups are parsed every time). It is cleared
// whole once it holds maxCached entries, which bounds it without
// bookkeeping per lflow.
type textCache struct {
	actions map[string]parsedActions
	matches map[string]parsedMatch
	names   map[string][]string // match text -> the sets it names, "$as" / "@pg"
}

type parsedActions struct {
	acts []lflow.Action
	pre  []string
	err  error
}

type parsedMatch struct {
	terms []lflow.Term
	err   error
}

const maxCached = 1 << 16

func newTextCache() *textCache {
	return &textCache{actions: map[string]parsedActions{}, matches: map[string]parsedMatch{}, names: map[string][]string{}}
}

// parseActions parses an actions string and its match prerequisites.
// The result is shared: callers must not modify it.
func (tc *textCache) parseActions(s string) ([]lflow.Action, []string, error) {
	if tc != nil {
		if p, ok := tc.actions[s]; ok {
			return p.acts, p.pre, p.err
		}
	}
	acts, err := lflow.ParseActions(s, lflow.Symbols)
	var pre []string
	if err == nil {
		pre = prereqs(acts)
	}
	if tc != nil {
		if len(tc.actions) >= maxCached {
			clear(tc.actions)
		}
		tc.actions[s] = parsedActions{acts, pre, err}
	}
	return acts, pre, err
}

// parseMatch parses and normalises a match. key identifies the text
// together with the contents of the sets it names (sets resolves them),
// so that a match naming sets is parsed again only when one changes.
func (tc *textCache) parseMatch(s, key string, sets lflow.Sets) ([]lflow.Term, error) {
	if tc != nil {
		if p, ok := tc.matches[key]; ok {
			return p.terms, p.err
		}
	}
	terms, err := lflow.Compile(s, lflow.Symbols, sets)
	if tc != nil {
		if len(tc.matches) >= maxCached {
			clear(tc.matches)
		}
		tc.matches[key] = parsedMatch{terms, err}
	}
	return terms, err
}

// setNames returns the address sets ("$name") and port groups
// ("@name") a match names, in order.
func (tc *textCache) setNames(s string) []string {
	if !strings.ContainsAny(s, "$@") {
		return nil // most matches: no need to lex them or to remember them
	}
	if tc != nil {
		if n, ok := tc.names[s]; ok {
			return n
		}
	}
	var names []string
	toks, _ := lflow.Lex(s) // a lexing error shows when parsing
	for _, t := range toks {
		switch t.Kind {
		case lflow.AddrSet:
			names = append(names, "$"+t.Text)
		case lflow.PortGroup:
			names = append(names, "@"+t.Text)
		}
	}
	if tc != nil {
		if len(tc.names) >= maxCached {
			clear(tc.names)
		}
		tc.names[s] = names
	}
	return names
}

// opPrereqs are the match prerequisites named actions imply, as
// ovn-controller ANDs them into the lflow's match: conntrack needs IP,
// the nested actions the packet they answer.
var opPrereqs = map[string]string{
	"ct_next": "ip", "ct_commit": "ip", "ct_commit_nat": "ip", "ct_lb": "ip", "ct_lb_mark": "ip",
	"ct_dnat": "ip", "ct_snat": "ip", "ct_dnat_in_czone": "ip", "ct_snat_in_czone": "ip",
	"arp": "ip4", "nd_ns": "ip6", "nd_na": "nd_ns", "nd_na_router": "nd_ns", "icmp4": "ip4",
	"icmp4_error": "ip4", "icmp6": "ip6", "icmp6_error": "ip6", "tcp_reset": "tcp", "sctp_abort": "sctp",
}

// prereqs returns the prerequisites of the top-level actions: those of
// the fields they touch and those of the named actions.
func prereqs(acts []lflow.Action) []string {
	pre := lflow.ActionPrereqs(acts, lflow.Symbols)
	add := func(p string) {
		if p != "" && !slices.Contains(pre, p) {
			pre = append(pre, p)
		}
	}
	for _, a := range acts {
		o, ok := a.(lflow.Op)
		if !ok {
			continue
		}
		add(opPrereqs[o.Name])
		for _, p := range learnPrereqs(o) {
			add(p)
		}
		for _, arg := range o.Args {
			if arg.Value.Kind == lflow.RefValue {
				for s := arg.Value.Ref.Sym; s != nil; s = lflow.Symbols[s.Parent] {
					add(s.Prereq)
				}
			}
		}
	}
	slices.Sort(pre)
	return pre
}

// learnPrereqs are the prerequisites of the learn actions, which copy
// IP and transport fields from the packet: the address family and
// protocol they name. ovn-controller does not add them and emits flows
// OVS refuses (an IPv6 twin of an IPv4 learn) when the match leaves
// them open; ovnd narrows the match instead.
func learnPrereqs(o lflow.Op) []string {
	var out []string
	for _, a := range o.Args {
		if a.Key == nil {
			continue
		}
		switch {
		case o.Name == "commit_lb_aff" && a.Key.Word == "vip" && a.Value.Kind == lflow.ConstValue:
			if strings.Contains(a.Value.Const.Str, "[") {
				out = append(out, "ip6")
			} else {
				out = append(out, "ip4")
			}
		case o.Name == "commit_ecmp_nh" && a.Key.Word == "ipv6":
			if a.Value.Word == "true" {
				out = append(out, "ip6")
			} else {
				out = append(out, "ip4")
			}
		case (o.Name == "commit_lb_aff" || o.Name == "commit_ecmp_nh") && a.Key.Word == "proto":
			if a.Value.Word == "tcp" || a.Value.Word == "udp" || a.Value.Word == "sctp" {
				out = append(out, a.Value.Word)
			}
		}
	}
	return out
}

package lflowc

import (
	"slices"
	"strings"

	"github.com/ovnd/ovnd/lflow"
)

// textCache keeps parsed action and match text: many lflows share their
// text across datapaths (a match naming a port group parses the same on
// every datapath where the group has the same local members) or with
// other lflows ("next;"). Most lflows' text is their own, though (per
// port addresses and names), so the cache keeps only what was used
// recently: a full recompute of 57,000 lflows would otherwise keep a
// parse tree for each of them, for recompiles that may never come.
type textCache struct {
	actions recent[parsedActions]
	matches recent[parsedMatch]
	names   recent[[]string]  // match text -> the sets it names, "$as" / "@pg"
	consts  recent[parsedSet] // address set name and digest -> its members parsed
	norm    *lflow.Normalizer
	// terms holds the normal forms made for one lflow's match alone,
	// until the compile is done (see parseOwnMatch).
	terms lflow.TermBuf
	// digests holds each address set's digest with the members it is
	// of: an lflow compiled per datapath resolves its sets on each, and
	// comparing members with the last ones (the same strings, mostly) is
	// much cheaper than hashing them again.
	digests map[string]setDigest
}

type setDigest struct {
	members []string
	digest  string
}

// digest returns membersKey(members) for address set name.
func (tc *textCache) digest(name string, members []string) string {
	if tc == nil {
		return membersKey(members)
	}
	if d, ok := tc.digests[name]; ok && slices.Equal(d.members, members) {
		return d.digest
	}
	d := setDigest{members, membersKey(members)}
	if tc.digests == nil {
		tc.digests = map[string]setDigest{}
	}
	tc.digests[name] = d
	return d.digest
}

type parsedSet struct {
	members []lflow.Const
	err     error
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

// maxRecent bounds each generation of a recent cache, in entries and
// in weight (matches held, for parsed matches: one that names a large
// address set holds one per member). A parse tree costs about a
// kilobyte, and a full compile runs one Fork per core, each with its
// own caches: with 4,096 entries a generation they held some 35 MB at
// the controller's peak in the 10,000-port benchmark. What hits is
// either text shared by many lflows ("next;"), which stays in the
// current generation however small it is, or the same lflow compiled
// for each datapath of its group, back to back: 512 entries compile
// the benchmark's snapshot in the same CPU time (BenchmarkCompileLarge).
//
// The parsed matches are bounded lower in weight (maxMatchWeight): the
// per-port matches that most lflows have no longer pass through that
// cache (parseOwnMatch), so what a generation fills up with is large
// sets' normal forms, and at 1 << 15 a fork kept some 6 MB of them to
// the end of a full compile, for few hits.
const (
	maxRecent       = 512
	maxRecentWeight = 1 << 15
	maxMatchWeight  = 1 << 12
)

// recent is a cache that keeps what is used: entries go to the current
// generation; when it is full it becomes the old one and the old one
// is dropped; a hit in the old generation moves the entry back to the
// current one.
type recent[V any] struct {
	cur, old  map[string]weighted[V]
	weight    int // of cur
	maxWeight int // of a generation; 0 is maxRecentWeight
}

type weighted[V any] struct {
	v V
	w int
}

func (r *recent[V]) get(k string) (V, bool) {
	if e, ok := r.cur[k]; ok {
		return e.v, true
	}
	e, ok := r.old[k]
	if ok {
		r.putWeighted(k, e.v, e.w)
	}
	return e.v, ok
}

func (r *recent[V]) put(k string, v V) { r.putWeighted(k, v, 1) }

func (r *recent[V]) putWeighted(k string, v V, w int) {
	maxWeight := r.maxWeight
	if maxWeight == 0 {
		maxWeight = maxRecentWeight
	}
	if len(r.cur) >= maxRecent || r.weight+w > maxWeight {
		// The dropped generation's map becomes the current one: a
		// full compile rotates each cache of each fork hundreds of
		// times, and a new map grown to 512 entries each time was
		// some 30 MB of the benchmark's 400 MB of compile garbage.
		r.old, r.cur, r.weight = r.cur, r.old, 0
		clear(r.cur)
	}
	if r.cur == nil {
		r.cur = make(map[string]weighted[V])
	}
	r.cur[k] = weighted[V]{v, w}
	r.weight += w
}

func newTextCache() *textCache {
	tc := &textCache{norm: lflow.NewNormalizer(lflow.Symbols)}
	tc.matches.maxWeight = maxMatchWeight
	return tc
}

// parseActions parses an actions string and its match prerequisites.
// The result is shared: callers must not modify it.
func (tc *textCache) parseActions(s string) ([]lflow.Action, []string, error) {
	if tc != nil {
		if p, ok := tc.actions.get(s); ok {
			return p.acts, p.pre, p.err
		}
	}
	acts, err := lflow.ParseActions(s, lflow.Symbols)
	var pre []string
	if err == nil {
		pre = prereqs(acts)
	}
	if tc != nil {
		tc.actions.put(s, parsedActions{acts, pre, err})
	}
	return acts, pre, err
}

// parseMatch parses and normalises a match. key identifies the text
// together with the contents of the sets it names (sets resolves them),
// so that a match naming sets is parsed again only when one changes.
func (tc *textCache) parseMatch(s, key string, sets lflow.Sets) ([]lflow.Term, error) {
	if tc != nil {
		if p, ok := tc.matches.get(key); ok {
			return p.terms, p.err
		}
	}
	if tc == nil {
		return lflow.Compile(s, lflow.Symbols, sets)
	}
	terms, err := tc.norm.Compile(s, sets)
	tc.matches.putWeighted(key, parsedMatch{terms, err}, termsWeight(terms))
	return terms, err
}

// parseOwnMatch is parseMatch for a match that names no set, whose
// terms the caller uses only until it calls tc.terms.Reset. A match
// built for one port is its own, unlike its shape: its normal form
// with its parameters put in is made in tc.terms and not kept (it
// would be found again only for the same text, by a recompile of the
// lflow long after the cache has moved on).
func (tc *textCache) parseOwnMatch(s string) ([]lflow.Term, error) {
	if tc == nil {
		return lflow.Compile(s, lflow.Symbols, nil)
	}
	if p, ok := tc.matches.get(s); ok {
		return p.terms, p.err
	}
	terms, own, err := tc.norm.CompileIn(s, nil, &tc.terms)
	if !own {
		tc.matches.putWeighted(s, parsedMatch{terms, err}, termsWeight(terms))
	}
	return terms, err
}

// termsWeight is how many matches terms hold.
func termsWeight(terms []lflow.Term) int {
	n := 1
	for _, t := range terms {
		n += len(t.Conj)
		for _, d := range t.Dims {
			for _, alt := range d {
				n += len(alt)
			}
		}
	}
	return n
}

// setNames returns the address sets ("$name") and port groups
// ("@name") a match names, in order.
func (tc *textCache) setNames(s string) []string {
	if !strings.ContainsAny(s, "$@") {
		return nil // most matches: no need to lex them or to remember them
	}
	if tc != nil {
		if n, ok := tc.names.get(s); ok {
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
		tc.names.put(s, names)
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

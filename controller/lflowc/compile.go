package lflowc

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// Env is what compiling needs to know about the world. The controller
// loop implements it from its SB replica and the chassis bindings.
type Env interface {
	// LookupPort maps a logical port name to its datapath and port
	// tunnel keys (Port_Binding).
	LookupPort(name string) (dp, port uint32, ok bool)
	// LookupMulticast maps a Multicast_Group name on datapath dp to its
	// tunnel key.
	LookupMulticast(dp uint32, name string) (key uint32, ok bool)
	// Resident reports whether a logical port is bound to this chassis
	// (is_chassis_resident).
	Resident(port string) bool
	// Local reports whether ovn-controller treats a port as local:
	// ports bound here, and the patch and localnet ports of local
	// datapaths. Only local ports match as inport/outport (literal or
	// port-group members), and lflows tagged in_out_port with another
	// port are skipped.
	Local(port string) bool
	// AddressSet returns the addresses of SB Address_Set name.
	AddressSet(name string) ([]string, bool)
	// PortGroup returns the ports of SB Port_Group name; SB names are
	// per datapath ("<dp key>_<name>"), Compile builds them.
	PortGroup(name string) ([]string, bool)
	// Router reports whether datapath dp is a logical router (its
	// Datapath_Binding has external_ids:logical-router); conntrack
	// actions use the router's DNAT/SNAT zones instead of the port's.
	Router(dp uint32) bool
	// Meter returns the OpenFlow meter id the caller allocated for SB
	// Meter name (ovn-controller numbers meters by name whether or not
	// the row exists yet), or 0 for none.
	Meter(name string) uint32
}

// LogicalFlow is the part of an SB Logical_Flow row compiling needs.
type LogicalFlow struct {
	UUID            string
	Pipeline        string // "ingress" or "egress"
	TableID         int
	Priority        int
	Match, Actions  string
	ControllerMeter string
	Tags            map[string]string
}

// Refs are the names a compiled lflow depends on: when one of them
// changes (appears, goes, changes members or binding), the caller
// recompiles the lflow.
type Refs struct {
	Ports       []string // logical ports named or tested for residence, incl. port-group members
	AddressSets []string
	PortGroups  []string // SB names, "<dp key>_<name>"
	Multicast   []string // "<dp key>/<name>"
	Meters      []string // meter names (controller_meter, log(meter=...))
}

// refSet collects the names one compile refers to. Most lflows name a
// handful, so they are appended (repeats of the last one skipped) and
// sorted and deduplicated once at the end, without a map per kind.
type refSet struct {
	ports, sets, groups, mcast, meters nameList
}

type nameList []string

func (l *nameList) add(name string) {
	if n := len(*l); n > 0 && (*l)[n-1] == name {
		return
	}
	*l = append(*l, name)
}

// sorted returns the names sorted, each once; nil when there are none.
func (l nameList) sorted() []string {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Clip(slices.Compact(out))
}

func newRefSet() *refSet { return &refSet{} }

func (r *refSet) refs() Refs {
	return Refs{Ports: r.ports.sorted(), AddressSets: r.sets.sorted(), PortGroups: r.groups.sorted(),
		Multicast: r.mcast.sorted(), Meters: r.meters.sorted()}
}

// maxFlows bounds the flows one lflow may expand to on one datapath.
const maxFlows = 1 << 16

// Compile compiles one lflow for the given datapaths (its
// logical_datapath, or every datapath of its logical_dp_group) and
// returns the flows and the names it referred to. conj allocates the
// conjunction ids of conjunctive matches; it may be nil when the caller
// knows the lflow needs none (Compile then fails if it does).
//
// An error names what could not be compiled (a parse error, an
// unsupported action); the caller logs it with the UUID and skips the
// lflow, as ovn-controller does.
func Compile(lf LogicalFlow, datapaths []uint32, env Env, conj *ConjIDs) ([]flowtable.Flow, Refs, error) {
	return compile(lf, datapaths, env, conj, nil, nil, nil)
}

// Compiler compiles lflows with what outlives one lflow: the
// conjunction ids and a cache of parsed text. It is not safe for
// concurrent use; the controller loop owns one, and Fork gives it
// others that may compile at the same time.
type Compiler struct {
	Conj    *ConjIDs
	cache   *textCache
	groups  *groupTable
	scratch *scratch
}

// scratch is what compiles reuse without it being part of their
// result.
type scratch struct {
	arena matchArena
	// meta holds each datapath's metadata match value, shared by its
	// flows (flows never modify match values).
	meta map[uint32][]byte
	// What one compile fills and drops: the compiler, its references
	// (Refs copies them out), its address sets and a datapath's sets.
	// A full compile of the benchmark's SB allocated them 57,000 times
	// (the sets once per lflow and datapath pair), some 30 MB.
	c     compiler
	refs  refSet
	addrs addrSets
	dp    dpSets
	index *flowIndex // a datapath's flows by match, for large sets
}

func newScratch() *scratch {
	return &scratch{meta: map[uint32][]byte{}, addrs: addrSets{sets: map[string]addrSet{}},
		dp: dpSets{ports: map[string][]string{}}, index: newFlowIndex()}
}

// begin returns the compiler and references for a compile, emptied.
func (sc *scratch) begin() (*compiler, *refSet) {
	r := &sc.refs
	r.ports, r.sets, r.groups, r.mcast, r.meters = r.ports[:0], r.sets[:0], r.groups[:0], r.mcast[:0], r.meters[:0]
	return &sc.c, r
}

// end drops what the compile referred to.
func (sc *scratch) end() {
	sc.arena.reset()
	sc.c = compiler{}
	clear(sc.addrs.sets)
	sc.addrs.env, sc.addrs.refs, sc.addrs.cache = nil, nil, nil
	clear(sc.dp.ports)
	sc.dp.addrSets = nil
}

// NewCompiler returns a Compiler with empty state.
func NewCompiler() *Compiler {
	return &Compiler{Conj: NewConjIDs(), cache: newTextCache(), groups: newGroupTable(), scratch: newScratch()}
}

// Fork returns a Compiler that shares cc's conjunction ids and groups
// (which lock) and has a text cache and scratch space of its own: cc and
// its forks may compile at the same time, on different lflows, given an
// Env that is safe for concurrent reads.
func (cc *Compiler) Fork() *Compiler {
	return &Compiler{Conj: cc.Conj, cache: newTextCache(), groups: cc.groups, scratch: newScratch()}
}

// Compile is Compile with the Compiler's conjunction ids, groups and
// cache. Load balancers with backends compile only here: their flows
// refer to select groups that Groups returns.
func (cc *Compiler) Compile(lf LogicalFlow, datapaths []uint32, env Env) ([]flowtable.Flow, Refs, error) {
	old := cc.groups.begin(lf.UUID)
	defer cc.groups.end(lf.UUID, old)
	defer cc.scratch.end()
	defer cc.cache.terms.Reset() // the flows own what they took from the terms
	return compile(lf, datapaths, env, cc.Conj, cc.cache, cc.groups, cc.scratch)
}

// Release forgets the conjunction ids and group references of an
// lflow that is gone.
func (cc *Compiler) Release(uuid string) {
	cc.Conj.Release(uuid)
	cc.groups.release(uuid)
}

// Groups returns the OpenFlow groups the compiled lflows refer to, as
// group adds sorted by id. The installer must add a group before the
// flows that use it and may delete it once no flow does.
func (cc *Compiler) Groups() []*openflow.GroupMod { return cc.groups.groups() }

func compile(lf LogicalFlow, datapaths []uint32, env Env, conj *ConjIDs, cache *textCache,
	groups *groupTable, sc *scratch) ([]flowtable.Flow, Refs, error) {
	var c *compiler
	var refs *refSet
	if sc != nil {
		c, refs = sc.begin()
	} else {
		c, refs = &compiler{}, newRefSet()
	}
	if p := lf.Tags["in_out_port"]; p != "" {
		refs.ports.add(p)
		if !env.Local(p) {
			return nil, refs.refs(), nil
		}
	}
	ingress, err := pipelineOf(lf)
	if err != nil {
		return nil, refs.refs(), err
	}
	acts, pre, err := cache.parseActions(lf.Actions)
	if err != nil {
		return nil, refs.refs(), fmt.Errorf("actions %q: %w", lf.Actions, err)
	}
	*c = compiler{lf: lf, env: env, conj: conj, refs: refs, ingress: ingress,
		cookie: cookieOf(lf.UUID), cache: cache, prereqs: pre, groups: groups}
	if sc != nil {
		c.arena, c.meta, c.scratch = &sc.arena, sc.meta, sc
	}
	if m := lf.ControllerMeter; m != "" {
		refs.meters.add(m)
		c.ctrlMeter = env.Meter(m)
	}
	var out []flowtable.Flow
	for i, dp := range datapaths {
		if avg := len(out) / max(i, 1); cap(out)-len(out) < avg {
			// Room for as many flows on each datapath left as on
			// those so far, but at most double: one slice for the
			// lflow's flows, and a port group's ACL has its flows
			// on the few datapaths with local members, not on all.
			out = slices.Grow(out, min(avg*(len(datapaths)-i), len(out)))
		}
		var err error
		out, err = c.datapath(out, dp, acts)
		c.arena.reset() // the flows own their matches
		if err != nil {
			return nil, refs.refs(), err
		}
	}
	return out, refs.refs(), nil
}

func pipelineOf(lf LogicalFlow) (bool, error) {
	if lf.TableID < 0 || lf.TableID >= oftable.MaxLogicalTables {
		return false, fmt.Errorf("logical table %d out of range", lf.TableID)
	}
	if lf.Priority < 0 || lf.Priority > 0xffff {
		return false, fmt.Errorf("priority %d out of range", lf.Priority)
	}
	switch lf.Pipeline {
	case "ingress":
		return true, nil
	case "egress":
		return false, nil
	}
	return false, fmt.Errorf("unknown pipeline %q", lf.Pipeline)
}

// cookieOf is the first 32 bits of the UUID, as ovn-controller sets
// flow cookies.
// It allocates nothing: it runs once per compile, 115,000 times in a
// full compile of the benchmark's SB.
func cookieOf(uuid string) uint64 {
	first := uuid
	if i := strings.IndexByte(uuid, '-'); i >= 0 {
		first = uuid[:i]
	}
	if len(first) != 8 {
		return 0
	}
	c, err := strconv.ParseUint(first, 16, 32)
	if err != nil {
		return 0
	}
	return c
}

// compiler holds what is fixed while compiling one lflow.
type compiler struct {
	lf      LogicalFlow
	env     Env
	conj    *ConjIDs
	refs    *refSet
	ingress bool
	cookie  uint64
	cache   *textCache
	groups  *groupTable // nil: no load balancer backends
	prereqs []string    // match prerequisites of the actions' fields
	// ctrlMeter meters the packets the lflow's controller actions send
	// (the lflow's controller_meter), 0 for none.
	ctrlMeter uint32
	// actsByKind holds compiled actions that do not depend on the
	// datapath, for switches ([0]) and routers ([1]), once known (an
	// array, not a map: a map per compile was some 20 MB of a full
	// compile's garbage).
	actsByKind [2]kindActs
	addrs      *addrSets   // the address sets the match names, once resolved
	fixed      parsedMatch // the match, when it names no sets, once parsed (fixedOK)
	fixedOK    bool
	base       [1]ofMatch // expand's result when it multiplies nothing out
	arena      *matchArena
	meta       map[uint32][]byte // nil: not shared between compiles
	scratch    *scratch          // nil: nothing reused between compiles
}

// kindActs is the compiled actions of one kind of datapath, when known.
type kindActs struct {
	acts  []openflow.Action
	known bool
}

// metadata is the value of datapath dp's metadata match.
func (c *compiler) metadata(dp uint32) []byte {
	if v, ok := c.meta[dp]; ok {
		return v
	}
	v := openflow.F("metadata").Exact(uint64(dp)).Value
	if c.meta != nil {
		c.meta[dp] = v
	}
	return v
}

// table is the OpenFlow table of logical table n of this lflow's
// pipeline.
func (c *compiler) table(n int) uint8 {
	if c.ingress {
		return uint8(oftable.IngressBase + n)
	}
	return uint8(oftable.EgressBase + n)
}

// datapath compiles the lflow for one datapath. Actions that name no
// port compile the same on every switch (and on every router), so they
// are compiled once per kind of datapath.
func (c *compiler) datapath(out []flowtable.Flow, dp uint32, acts []lflow.Action) ([]flowtable.Flow, error) {
	router := c.env.Router(dp)
	kind := &c.actsByKind[0]
	if router {
		kind = &c.actsByKind[1]
	}
	ofacts, ok := kind.acts, kind.known
	if !ok {
		ac := &actionCompiler{compiler: c, dp: dp, router: router}
		var err error
		if ofacts, err = ac.actions(acts, true); err != nil {
			return nil, err
		}
		if !namesPorts(acts) {
			kind.acts, kind.known = ofacts, true
		}
	}
	terms, err := c.terms(dp)
	if err != nil {
		return nil, fmt.Errorf("match %q: %w", c.lf.Match, err)
	}
	return c.flows(out, dp, terms, ofacts)
}

// namesPorts reports whether actions assign a port name, whose key
// depends on the datapath.
func namesPorts(acts []lflow.Action) bool {
	for _, a := range acts {
		switch a := a.(type) {
		case lflow.Assign:
			if a.Src.Kind == lflow.ConstValue && a.Src.Const.IsStr {
				return true
			}
		case lflow.Op:
			if namesPorts(a.Body) {
				return true
			}
		}
	}
	return false
}

// terms parses the match, with the prerequisites of the actions' fields
// ANDed in, resolving named sets for datapath dp.
func (c *compiler) terms(dp uint32) ([]lflow.Term, error) {
	if c.fixedOK {
		return c.fixed.terms, c.fixed.err
	}
	text := c.lf.Match
	if len(c.prereqs) > 0 {
		text = "(" + text + ") && " + strings.Join(c.prereqs, " && ")
	}
	names := c.cache.setNames(text)
	if len(names) == 0 {
		// The same on every datapath.
		terms, err := c.cache.parseOwnMatch(text)
		c.fixed, c.fixedOK = parsedMatch{terms, err}, true
		return terms, err
	}
	if c.addrs == nil {
		if c.scratch != nil {
			c.addrs = &c.scratch.addrs
		} else {
			c.addrs = &addrSets{sets: map[string]addrSet{}}
		}
		c.addrs.env, c.addrs.refs, c.addrs.cache = c.env, c.refs, c.cache
	}
	var sets *dpSets
	if c.scratch != nil {
		sets = &c.scratch.dp
		clear(sets.ports)
	} else {
		sets = &dpSets{ports: map[string][]string{}}
	}
	sets.addrSets, sets.dp = c.addrs, dp
	key := sets.resolve(text, names)
	return c.cache.parseMatch(text, key, sets)
}

// addrSets resolves $as for one Compile: address sets do not depend on
// the datapath, so each is looked up and digested once however many
// datapaths the lflow has (an address set of every VIF's address on
// each of 500 switches was a tenth of the compile).
type addrSets struct {
	env   Env
	refs  *refSet
	cache *textCache // nil: members parsed per use
	sets  map[string]addrSet
}

type addrSet struct {
	members []string
	digest  string // what identifies the members in a cache key
	parsed  *parsedSet
}

// consts returns the members of address set name parsed, once per
// compile and, with a cache, once per content.
func (a *addrSets) consts(name string) ([]lflow.Const, error) {
	s := a.get(name)
	if s.parsed != nil {
		return s.parsed.members, s.parsed.err
	}
	key := name + "\x00" + s.digest
	p, ok := parsedSet{}, false
	if a.cache != nil {
		p, ok = a.cache.consts.get(key)
	}
	if !ok {
		p.members, p.err = lflow.ParseConsts(s.members)
		if a.cache != nil {
			a.cache.consts.putWeighted(key, p, len(p.members)+1)
		}
	}
	s.parsed = &p
	a.sets[name] = s
	return p.members, p.err
}

func (a *addrSets) get(name string) addrSet {
	if s, ok := a.sets[name]; ok {
		return s
	}
	a.refs.sets.add(name)
	members, _ := a.env.AddressSet(name)
	s := addrSet{members: members, digest: a.cache.digest(name, members)}
	a.sets[name] = s
	return s
}

// membersKey identifies a list of set members: the list itself when
// short, else its SHA-256.
func membersKey(members []string) string {
	n := 0
	for _, m := range members {
		n += len(m) + 1
	}
	b := make([]byte, 0, n)
	for _, m := range members {
		b = append(b, '\x01')
		b = append(b, m...)
	}
	if len(b) <= 256 {
		return string(b)
	}
	sum := sha256.Sum256(b)
	return "\x02" + string(sum[:])
}

// dpSets resolves $as and @pg for one datapath: port groups by their
// per-datapath SB name and reduced to the local ports, as
// ovn-controller does; a set that does not exist is empty.
type dpSets struct {
	*addrSets
	dp    uint32
	ports map[string][]string
}

// resolve looks up every set the match names and returns a key for the
// text with those contents.
func (s *dpSets) resolve(text string, names []string) string {
	var b strings.Builder
	b.WriteString(text)
	for _, n := range names {
		b.WriteString("\x00")
		b.WriteString(n)
		if n[0] == '$' {
			b.WriteString(s.get(n[1:]).digest)
			continue
		}
		for _, m := range s.portGroup(n[1:]) {
			b.WriteByte('\x01')
			b.WriteString(m)
		}
	}
	if b.Len() <= 512 {
		return b.String()
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + string(sum[:])
}

func (s *dpSets) addressSet(name string) []string { return s.get(name).members }

func (s *dpSets) portGroup(name string) []string {
	if p, ok := s.ports[name]; ok {
		return p
	}
	sb := fmt.Sprintf("%d_%s", s.dp, name)
	s.refs.groups.add(sb)
	ports, _ := s.env.PortGroup(sb)
	var local []string
	for _, p := range ports {
		s.refs.ports.add(p)
		if s.env.Local(p) {
			local = append(local, p)
		}
	}
	s.ports[name] = local
	return local
}

func (s *dpSets) AddressSet(name string) ([]string, bool) { return s.addressSet(name), true }

func (s *dpSets) AddressSetConsts(name string) ([]lflow.Const, bool, error) {
	c, err := s.consts(name)
	return c, true, err
}
func (s *dpSets) PortGroup(name string) ([]string, bool) { return s.portGroup(name), true }

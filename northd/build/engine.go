package build

import (
	"cmp"
	"maps"
	"reflect"
	"slices"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// Engine is the incremental form of Build. It keeps what the last
// computation produced, owned by the NB row that produced it: each
// logical switch owns its Datapath_Binding, Port_Bindings,
// Multicast_Groups and its share of the logical flows; each port group
// owns its SB Port_Group rows and its _ip4/_ip6 address sets. A change
// recomputes only the owners it touches and reports the difference as a
// Delta. Changes it does not follow in detail (DHCP options, DNS, QoS,
// load balancers) recompute every switch, which is still correct.
//
// Update's results equal Build's on the same NB and on the SB the
// previous result describes (engine_test.go checks this on random change
// sequences).
type Engine struct {
	nb *NB
	// sws is every switch with a tunnel key, by NB UUID; keys maps the
	// keys in use back.
	sws  map[string]*swOut
	keys map[int]string
	// portSws is the switches each NB port UUID is placed on; listed
	// the switches whose NB row lists it, whether or not the port row
	// exists (a transaction's rows may reach the engine in two rounds).
	portSws map[string][]*swOut
	listed  map[string][]*swOut
	pgs     map[string]*pgOut
	// pgOf is the port groups listing each NB port UUID, and pgPorts
	// the ports each group listed when pgOf was last updated.
	pgOf    map[string]strSet
	pgPorts map[string][]string
	// names is, by logical port name, the switches (UUID and key) whose
	// ports carry it before duplicates are dropped: a name stays on the
	// switch with the lowest key (dedupPorts).
	names    map[string][]nameRef
	flows    map[flowKey][]int // sorted datapath keys
	bad      map[string]bool
	problems []string
	global   Global
	svc      *NamedSet
	ass      map[string]NamedSet // NB Address_Set rows by UUID
	dns      []DNS
	lbs      []LB
	// sb is the SB NewEngine started from: the keys and addresses it
	// holds for switches the engine has not computed yet.
	sb *sbKeys
	// fanout runs the switches' computations (serial when nil).
	fanout Fanout
}

// Fanout runs work(i) for every i in [0, n), in any order and perhaps
// at once, and returns when every call has returned. The engine hands it
// computations that share nothing they write (one logical switch each)
// and merges their results itself, in an order that does not depend on
// the calls': the result is the same whichever Fanout runs them. The
// engine starts no goroutine of its own; a Fanout that uses several
// cores is its caller's.
type Fanout func(n int, work func(i int))

// serial is the Fanout that runs the calls one after another.
func serial(n int, work func(i int)) {
	for i := range n {
		work(i)
	}
}

// sbKeys is what SB says about switches and ports: tunnel keys and
// Port_Binding.mac, by switch UUID.
type sbKeys struct {
	dp    map[string]int
	ports map[[2]string]int
	macs  map[string]map[string][]string
}

func newSBKeys(sb *SB) *sbKeys {
	k := &sbKeys{dp: map[string]int{}, ports: map[[2]string]int{}, macs: map[string]map[string][]string{}}
	owner := map[string]string{}
	for _, dp := range sb.Datapaths {
		if ls := dp.ExternalIDs["logical-switch"]; ls != "" {
			k.dp[ls], owner[dp.UUID] = dp.TunnelKey, ls
		}
	}
	for _, pb := range sb.PortBindings {
		ls := owner[pb.Datapath]
		k.ports[[2]string{ls, pb.LogicalPort}] = pb.TunnelKey
		if k.macs[ls] == nil {
			k.macs[ls] = map[string][]string{}
		}
		k.macs[ls][pb.LogicalPort] = pb.MAC
	}
	return k
}

// swOut is what one switch produced.
type swOut struct {
	sw    *lswitch
	dp    Datapath
	ports []Port
	mcs   []MCGroup
	// names is the switch's port names before dedupPorts.
	names []string
	flows []flowKey
	tags  map[string]int
	// acls is the ACL UUIDs listed by the switch and by the port groups
	// with a port on it, whether or not the ACL rows exist.
	acls map[string]bool
}

// pgOut is what one port group produced.
type pgOut struct {
	ports    []string
	acls     []string
	rows     []NamedSet
	ip4, ip6 NamedSet
}

// Changes names the NB rows that changed (were added, updated or deleted)
// since the last computation, by table. Other is set when a table the
// engine does not follow in detail changed (DHCP_Options, DNS, QoS,
// Load_Balancer, Load_Balancer_Group).
type Changes struct {
	Global                                         bool
	Switches, Ports, PortGroups, AddressSets, ACLs map[string]bool
	Other                                          bool
}

// Delta is the difference between two computations. Rows are named as in
// Result; a changed row is listed whole in the "set" list.
type Delta struct {
	Global          *Global // nil when unchanged
	Datapaths       []Datapath
	DatapathsGone   []int
	Ports           []Port
	PortsGone       []string
	MCGroups        []MCGroup
	MCGroupsGone    []MCGroup // Datapath and Name identify the row
	PortGroups      []NamedSet
	PortGroupsGone  []string
	AddressSets     []NamedSet
	AddressSetsGone []string
	// Flows are flows to add; FlowsGone flows to remove. A flow whose
	// datapaths changed is in both, with its old and new datapaths.
	Flows, FlowsGone []Flow
	// DNSChanged and LBsChanged report that the SB DNS or Load_Balancer
	// rows differ from the previous result (Result has them whole).
	DNSChanged, LBsChanged bool
	// Tags are the container port tags after the change, whole.
	Tags map[string]int
	// Problems are the NB rows skipped, whole.
	Problems []string
}

// Empty reports whether d changes nothing in SB.
func (d *Delta) Empty() bool {
	return d.Global == nil && len(d.Datapaths)+len(d.DatapathsGone)+len(d.Ports)+len(d.PortsGone)+
		len(d.MCGroups)+len(d.MCGroupsGone)+len(d.PortGroups)+len(d.PortGroupsGone)+len(d.AddressSets)+
		len(d.AddressSetsGone)+len(d.Flows)+len(d.FlowsGone) == 0 && !d.DNSChanged && !d.LBsChanged
}

// NewEngine computes everything from nb and the stable parts of sb, as
// Build does. The engine keeps nb and reads it on every Update: the
// caller changes nb in place and names the changed rows.
func NewEngine(nb *NB, sb *SB) *Engine { return NewEngineFanout(nb, sb, nil) }

// NewEngineFanout is NewEngine with the switches' computations, in this
// and every later Update, run through run (serial when nil).
func NewEngineFanout(nb *NB, sb *SB, run Fanout) *Engine {
	if run == nil {
		run = serial
	}
	e := &Engine{nb: nb, fanout: run, sws: map[string]*swOut{}, keys: map[int]string{}, portSws: map[string][]*swOut{},
		listed: map[string][]*swOut{}, pgs: map[string]*pgOut{}, pgOf: map[string]strSet{}, pgPorts: map[string][]string{},
		names: map[string][]nameRef{}, flows: map[flowKey][]int{}, ass: map[string]NamedSet{}, sb: newSBKeys(sb)}
	all := Changes{Global: true, Other: true, Switches: map[string]bool{}, PortGroups: map[string]bool{},
		AddressSets: map[string]bool{}}
	for u := range nb.Switches {
		all.Switches[u] = true
	}
	for u := range nb.PortGroups {
		all.PortGroups[u] = true
	}
	for u := range nb.AddressSets {
		all.AddressSets[u] = true
	}
	e.bad, e.problems = checkACLs(nb)
	e.Update(all)
	e.sb = nil
	return e
}

// computeSwitch computes the outputs of sw, whose ports are final;
// names are its port names before duplicates were dropped.
func (e *Engine) computeSwitch(sw *lswitch, names []string) *swOut {
	fs := newFlowSetFor(len(sw.ports))
	sw.flows(e.nb, fs, e.bad)
	o := &swOut{sw: sw, ports: sw.bindings(), mcs: sw.mcGroups(), names: names, flows: fs.order,
		tags: map[string]int{}, acls: map[string]bool{}}
	o.dp = datapaths([]*lswitch{sw})[0]
	for _, p := range sw.ports {
		if t := p.tag(); t != nil && p.nb.ParentName != nil {
			o.tags[p.nb.UUID] = *t
		}
	}
	for _, a := range sw.nb.ACLs {
		o.acls[a] = true
	}
	for _, pg := range sw.portGroups(e.nb) {
		for _, a := range pg.ACLs {
			o.acls[a] = true
		}
	}
	return o
}

// addSwitch indexes o; removeSwitch forgets it. Their flows are moved
// by updateSwitches.
func (e *Engine) addSwitch(o *swOut) {
	e.sws[o.sw.nb.UUID] = o
	e.keys[o.sw.key] = o.sw.nb.UUID
	for _, p := range o.sw.ports {
		e.portSws[p.nb.UUID] = append(e.portSws[p.nb.UUID], o)
	}
	for _, u := range o.sw.nb.Ports {
		e.listed[u] = append(e.listed[u], o)
	}
	for _, n := range o.names {
		refs := slices.DeleteFunc(e.names[n], func(r nameRef) bool { return r.sw == o.sw.nb.UUID })
		e.names[n] = append(refs, nameRef{o.sw.nb.UUID, o.sw.key})
	}
}

func (e *Engine) removeSwitch(o *swOut) {
	delete(e.sws, o.sw.nb.UUID)
	delete(e.keys, o.sw.key)
	for _, p := range o.sw.ports {
		forget(e.portSws, p.nb.UUID, o)
	}
	for _, u := range o.sw.nb.Ports {
		forget(e.listed, u, o)
	}
	for _, n := range o.names {
		refs := slices.DeleteFunc(e.names[n], func(r nameRef) bool { return r.sw == o.sw.nb.UUID })
		if len(refs) == 0 {
			delete(e.names, n)
		} else {
			e.names[n] = refs
		}
	}
}

// nameRef is a switch (NB UUID) carrying a port name, and its key.
type nameRef struct {
	sw  string
	key int
}

// strSet is a small set of strings as a slice: a port is listed by a
// group or two, and 10,000 one-entry maps (a port's groups) took 5 MB.
type strSet []string

func (s strSet) with(x string) strSet {
	if slices.Contains(s, x) {
		return s
	}
	return append(s, x)
}

func (s strSet) without(x string) strSet {
	if i := slices.Index(s, x); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// findPort is the switch and port an NB port UUID is on; with a port on
// several switches, the one with the highest key, as Build's groups
// picks it.
func (e *Engine) findPort(u string) (*lswitch, *lport) {
	var best *swOut
	for _, o := range e.portSws[u] {
		if best == nil || o.sw.key > best.sw.key {
			best = o
		}
	}
	if best == nil {
		return nil, nil
	}
	for _, p := range best.sw.ports {
		if p.nb.UUID == u {
			return best.sw, p
		}
	}
	return nil, nil
}

func (e *Engine) computePG(pg nbdb.PortGroup) *pgOut {
	rows, ip4, ip6 := pgSets(pg, e.findPort)
	return &pgOut{ports: slices.Clone(pg.Ports), acls: slices.Clone(pg.ACLs), rows: rows, ip4: ip4, ip6: ip6}
}

func (e *Engine) setPG(u string, o *pgOut) {
	if o == nil {
		delete(e.pgs, u)
		e.indexPG(u, nil)
		return
	}
	e.pgs[u] = o
	e.indexPG(u, o.ports)
}

// indexPG records in pgOf that port group u lists ports.
func (e *Engine) indexPG(u string, ports []string) {
	for _, p := range e.pgPorts[u] {
		if rest := e.pgOf[p].without(u); len(rest) == 0 {
			delete(e.pgOf, p)
		} else {
			e.pgOf[p] = rest
		}
	}
	if len(ports) == 0 {
		delete(e.pgPorts, u)
		return
	}
	e.pgPorts[u] = slices.Clone(ports)
	for _, p := range ports {
		e.pgOf[p] = e.pgOf[p].with(u)
	}
}

// perNB computes the SB rows that several switches share by NB row: DNS
// and load balancers. They are cheap to recompute whole.
func (e *Engine) perNB() ([]DNS, []LB) {
	sws := e.sorted()
	return dnsRows(e.nb, sws), lbRows(e.nb, sws)
}

func (e *Engine) sorted() []*lswitch {
	sws := make([]*lswitch, 0, len(e.sws))
	for _, o := range e.sws {
		sws = append(sws, o.sw)
	}
	slices.SortFunc(sws, func(a, b *lswitch) int { return cmp.Compare(a.key, b.key) })
	return sws
}

// Result is the whole desired SB content, as Build returns it.
func (e *Engine) Result() *Result {
	r := &Result{Global: e.global, Tags: map[string]int{}, Problems: e.allProblems(), DNS: e.dns, LBs: e.lbs}
	for _, sw := range e.sorted() {
		o := e.sws[sw.nb.UUID]
		r.Datapaths = append(r.Datapaths, o.dp)
		r.Ports = append(r.Ports, o.ports...)
		r.MCGroups = append(r.MCGroups, o.mcs...)
		maps.Copy(r.Tags, o.tags)
	}
	for _, pg := range e.pgs {
		r.PortGroups = append(r.PortGroups, pg.rows...)
		r.AddressSets = append(r.AddressSets, pg.ip4, pg.ip6)
	}
	for _, as := range e.ass {
		r.AddressSets = append(r.AddressSets, as)
	}
	if e.svc != nil {
		r.AddressSets = append(r.AddressSets, *e.svc)
	}
	sortSets(r.PortGroups)
	sortSets(r.AddressSets)
	r.Flows = make([]Flow, 0, len(e.flows))
	for k, dps := range e.flows {
		r.Flows = append(r.Flows, k.flow(slices.Clone(dps)))
	}
	slices.SortFunc(r.Flows, compareFlows)
	return r
}

// allProblems is every problem, in Build's order: the switches' in key
// order, then the ACLs'.
func (e *Engine) allProblems() []string {
	var out []string
	for _, sw := range e.sorted() {
		out = append(out, sw.problems...)
	}
	return append(out, e.problems...)
}

// Global is the SB_Global content of the last computation.
func (e *Engine) Global() Global { return e.global }

// FlowCount is the number of distinct logical flows (SB Logical_Flow rows).
func (e *Engine) FlowCount() int { return len(e.flows) }

func sameRow(a, b any) bool { return reflect.DeepEqual(a, b) }

// nbAddressSet is the SB Address_Set of an NB one, members sorted.
func nbAddressSet(as nbdb.AddressSet) NamedSet {
	s := NamedSet{as.Name, slices.Clone(as.Addresses)}
	sortMembers(&s)
	return s
}

// forget removes o from m[u].
func forget(m map[string][]*swOut, u string, o *swOut) {
	rest := slices.DeleteFunc(m[u], func(x *swOut) bool { return x == o })
	if len(rest) == 0 {
		delete(m, u)
	} else {
		m[u] = rest
	}
}

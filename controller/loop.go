package controller

import (
	"context"
	"fmt"
	"path/filepath"

	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/lbhairpin"
	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/controller/pinctrl"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// loop is the state one Serve keeps between rounds. Only the Serve
// goroutine uses it, except sb, which a connecting goroutine hands over
// under mu.
type loop struct {
	c    *Controller
	ovsc client.Client
	kick chan struct{}

	mu        sync.Mutex
	sb        client.Client // connected and monitoring, or nil
	sbRemote  string        // the remote sb (or the pending connection) is for
	sbCancel  context.CancelFunc
	sbWG      sync.WaitGroup
	lastError string // the last config problem logged, to log each once

	mgr *chassis.Manager

	ofc      *openflow.Conn
	ofBridge string
	inst     *flowtable.Installer
	desired  *flowtable.Desired
	compiler *lflowc.Compiler
	lflows   map[string]*compiled // by Logical_Flow UUID
	physical map[string]bool      // physical owners in desired
	lbOwners map[string]bool      // load-balancer hairpin owners in desired
	lbError  string               // the last hairpin flow error logged, to log each once

	nbCfgReported int64
}

// compiled is what the loop remembers of one compiled lflow, to tell
// whether it must be compiled again.
type compiled struct {
	row  *sbdb.LogicalFlow // the cached row it was compiled from (libovsdb replaces rows on update)
	dps  []uint32          // the local datapaths it was compiled for
	sig  string            // the row's content and dps
	refs map[string]refVal // each name it referred to, with its value then
}

func newLoop(c *Controller, ovsc client.Client, kick chan struct{}) *loop {
	return &loop{c: c, ovsc: ovsc, kick: kick,
		inst: flowtable.NewInstaller(c.log), desired: flowtable.NewDesired(c.log),
		compiler: lflowc.NewCompiler(), lflows: map[string]*compiled{}, physical: map[string]bool{}, lbOwners: map[string]bool{},
		nbCfgReported: -1}
}

func (l *loop) close() {
	l.mu.Lock()
	if l.sbCancel != nil {
		l.sbCancel()
	}
	sb := l.sb
	l.mu.Unlock()
	l.sbWG.Wait()
	if sb != nil {
		sb.Close()
	}
	if l.ofc != nil {
		l.ofc.Close()
	}
}

// logOnce logs a configuration problem the first time it is seen.
func (l *loop) logOnce(msg string, err error) {
	s := msg + ": " + err.Error()
	if s != l.lastError {
		l.c.log.Warn(msg, "err", err)
		l.lastError = s
	}
}

// round brings the chassis and br-int in line with both databases.
func (l *loop) round(ctx context.Context) error {
	cfg, err := chassis.LoadConfig(ctx, l.ovsc, l.c.cfg.SystemIDFile)
	if err != nil {
		// Not configured yet (no system-id, no ovn-remote...): wait for
		// the Open_vSwitch row to change.
		l.logOnce("chassis not configured", err)
		return nil
	}
	l.lastError = ""
	sb := l.sbClient(ctx, cfg)
	if sb == nil {
		return nil // connecting; the connection pokes the loop
	}
	if l.mgr == nil {
		l.mgr = chassis.New(l.ovsc, sb, chassis.Options{SystemIDFile: l.c.cfg.SystemIDFile, Logger: l.c.log})
	}
	st, err := l.mgr.Reconcile(ctx)
	if err != nil {
		return fmt.Errorf("chassis: %w", err)
	}
	if err := l.openflow(ctx, st.Bridge); err != nil {
		return err
	}
	view, err := readSB(ctx, sb, st.Chassis)
	if err != nil {
		return err
	}
	l.compileLflows(view, st)
	if err := l.physicalFlows(view, st); err != nil {
		return err
	}
	l.lbHairpinFlows(view, st)
	stats, err := l.inst.Install(ctx, l.desired)
	if err != nil {
		l.ofc.Close()
		l.ofc = nil
		return fmt.Errorf("install flows: %w", err)
	}
	if !stats.Empty() {
		l.c.log.Debug("installed", "added", stats.Added, "modified", stats.Modified, "deleted", stats.Deleted, "flows", l.desired.Len())
	}
	// Everything the SB said is on the switch now.
	var ready []string
	for name, p := range st.LocalPorts {
		if !p.Installed && p.OFPort > 0 {
			ready = append(ready, name)
		}
	}
	if len(ready) > 0 {
		slices.Sort(ready)
		if err := l.mgr.MarkInstalled(ctx, ready); err != nil {
			return fmt.Errorf("mark installed: %w", err)
		}
	}
	if view.global != nil && int64(view.global.NbCfg) != l.nbCfgReported {
		if err := l.mgr.ReportNbCfg(ctx, int64(view.global.NbCfg)); err != nil {
			return fmt.Errorf("report nb_cfg: %w", err)
		}
		l.nbCfgReported = int64(view.global.NbCfg)
	}
	return nil
}

// sbClient returns the SB client for cfg.Remote, starting a connection
// (in the background, so that a dead SB does not stop the loop) when the
// remote is new or changed.
func (l *loop) sbClient(ctx context.Context, cfg chassis.Config) client.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg.Remote == l.sbRemote {
		return l.sb
	}
	if l.sbCancel != nil {
		l.sbCancel()
	}
	if l.sb != nil {
		l.sb.Close()
		l.sb = nil
	}
	l.mgr = nil
	l.sbRemote = cfg.Remote
	cctx, cancel := context.WithCancel(ctx)
	l.sbCancel = cancel
	l.sbWG.Add(1)
	go func() {
		defer l.sbWG.Done()
		c, err := connectSB(cctx, l, cfg)
		if err != nil {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if cctx.Err() != nil {
			c.Close()
			return
		}
		l.sb = c
		l.c.log.Info("connected to the southbound database", "remote", cfg.Remote)
		poke(l.kick)
	}()
	return nil
}

func connectSB(ctx context.Context, l *loop, cfg chassis.Config) (client.Client, error) {
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		return nil, err
	}
	return connect(ctx, l.c.log, m, cfg.Remote, cfg.ProbeInterval, l.kick)
}

// openflow (re)connects to the integration bridge's management socket
// and syncs the installer with what the switch holds.
func (l *loop) openflow(ctx context.Context, bridge string) error {
	if l.ofc != nil && l.ofBridge == bridge && l.ofc.Err() == nil {
		return nil
	}
	if l.ofc != nil {
		l.ofc.Close()
		l.ofc = nil
	}
	path := filepath.Join(l.c.cfg.RunDir, bridge+".mgmt")
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ofc, err := openflow.Dial(dctx, "unix", path, l.c.log)
	if err != nil {
		return fmt.Errorf("openflow %s: %w", path, err)
	}
	if err := l.inst.Sync(ctx, ofc); err != nil {
		ofc.Close()
		return fmt.Errorf("openflow sync %s: %w", path, err)
	}
	go func() {
		// Answer packet-ins off the main loop (put_arp / put_nd and
		// dns_lookup use the current SB connection), and wake the loop
		// when the connection dies.
		sb := func() client.Client { l.mu.Lock(); defer l.mu.Unlock(); return l.sb }
		pinctrl.Serve(ctx, ofc, l.c.log.With("component", "pinctrl"), pinctrl.NewSB(sb))
		poke(l.kick)
	}()
	l.ofc, l.ofBridge = ofc, bridge
	l.c.log.Info("connected to the integration bridge", "socket", path)
	return nil
}

// localKeys returns the tunnel keys of the local datapaths.
func localKeys(st *chassis.State) map[uint32]bool {
	keys := make(map[uint32]bool, len(st.LocalDatapaths))
	for _, dp := range st.LocalDatapaths {
		keys[uint32(dp.Key)] = true
	}
	return keys
}

// compileLflows brings the desired table's logical flows in line with
// the SB: an lflow is compiled again only when its row, its local
// datapaths or something it refers to changed.
func (l *loop) compileLflows(v *sbView, st *chassis.State) {
	local := localKeys(st)
	env := &refMemo{v: v, st: st, vals: map[string]refVal{}}
	seen := make(map[string]bool, len(v.flows))
	for _, lf := range v.flows {
		var dps []uint32
		for _, k := range v.flowDatapaths(lf) {
			if local[k] {
				dps = append(dps, k)
			}
		}
		if len(dps) == 0 {
			continue
		}
		seen[lf.UUID] = true
		slices.Sort(dps)
		old := l.lflows[lf.UUID]
		if old != nil && old.row == lf && slices.Equal(old.dps, dps) && !env.changed(old.refs) {
			continue // the same row: nothing to compare
		}
		sig := lflowSig(lf, dps)
		if old != nil && old.sig == sig && !env.changed(old.refs) {
			old.row = lf
			continue
		}
		in := lflowc.LogicalFlow{UUID: lf.UUID, Pipeline: string(lf.Pipeline), TableID: lf.TableID,
			Priority: lf.Priority, Match: lf.Match, Actions: lf.Actions, Tags: lf.Tags}
		if lf.ControllerMeter != nil {
			in.ControllerMeter = *lf.ControllerMeter
		}
		flows, refs, err := l.compiler.Compile(in, dps, env)
		if err != nil {
			l.c.log.Warn("skipping logical flow", "uuid", lf.UUID, "pipeline", lf.Pipeline, "table", lf.TableID,
				"match", lf.Match, "actions", lf.Actions, "err", err)
			flows = nil
		}
		l.desired.Set(lf.UUID, flows)
		l.lflows[lf.UUID] = &compiled{row: lf, dps: dps, sig: sig, refs: env.snapshot(refs)}
	}
	for id := range l.lflows {
		if !seen[id] {
			l.desired.Remove(id)
			l.compiler.Release(id)
			delete(l.lflows, id)
		}
	}
	mods := l.compiler.Groups()
	groups := make([]flowtable.Group, len(mods))
	for i, m := range mods {
		groups[i] = flowtable.GroupFromMod(m)
	}
	l.desired.SetGroups(lflowGroupsOwner, groups)
}

// lflowGroupsOwner owns the groups the compiled lflows use (load
// balancer backends); the compiler numbers and reference-counts them.
const lflowGroupsOwner = "lflowc/groups"

func lflowSig(lf *sbdb.LogicalFlow, dps []uint32) string {
	var b strings.Builder
	b.WriteString(string(lf.Pipeline))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(lf.TableID))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(lf.Priority))
	b.WriteByte(0)
	b.WriteString(lf.Match)
	b.WriteByte(0)
	b.WriteString(lf.Actions)
	b.WriteByte(0)
	if lf.ControllerMeter != nil {
		b.WriteString(*lf.ControllerMeter)
	}
	b.WriteByte(0)
	keys := make([]string, 0, len(lf.Tags))
	for k := range lf.Tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + lf.Tags[k] + ",")
	}
	b.WriteByte(0)
	for _, d := range dps {
		b.WriteString(strconv.FormatUint(uint64(d), 10))
		b.WriteByte(',')
	}
	return b.String()
}

// refMemo is the compiler's environment for one round, remembering the
// value of every name it is asked about so that the next round can tell
// which compiled lflows refer to something that changed.
type refMemo struct {
	v    *sbView
	st   *chassis.State
	vals map[string]refVal
}

// refVal is the value of one reference: a port's or multicast group's
// keys as text, or an address set's or port group's members. Members are
// kept as the cached slice itself: libovsdb replaces a row's slice when
// the row changes, so the same backing array (kept alive by holding it
// here) means the same members, and only a replaced slice is compared
// element by element.
type refVal struct {
	text    string
	members []string
	ok      bool
}

func (a refVal) equal(b refVal) bool {
	if a.text != b.text || a.ok != b.ok || len(a.members) != len(b.members) {
		return false
	}
	if len(a.members) == 0 || unsafe.SliceData(a.members) == unsafe.SliceData(b.members) {
		return true
	}
	return slices.Equal(a.members, b.members)
}

func (m *refMemo) LookupPort(name string) (uint32, uint32, bool) { return m.v.LookupPort(name) }
func (m *refMemo) LookupMulticast(dp uint32, name string) (uint32, bool) {
	return m.v.LookupMulticast(dp, name)
}
func (m *refMemo) Resident(port string) bool               { return m.v.Resident(port) }
func (m *refMemo) AddressSet(name string) ([]string, bool) { return m.v.AddressSet(name) }
func (m *refMemo) PortGroup(name string) ([]string, bool)  { return m.v.PortGroup(name) }
func (m *refMemo) Router(dp uint32) bool                   { return m.v.Router(dp) }

// Meter maps an SB Meter name to an OpenFlow meter id. Meters are not
// installed yet, so controller actions run unmetered.
func (m *refMemo) Meter(string) uint32 { return 0 }

// Local reports whether port is bound here, is the localnet port of a
// local datapath, or is of a type ovn-controller always counts as
// related (patch, localport, vtep), as ovn-controller decides which
// port-group members and in_out_port lflows to compile.
func (m *refMemo) Local(port string) bool {
	if m.v.Resident(port) || m.v.alwaysRelated(port) {
		return true
	}
	_, ok := m.st.Localnet[port]
	return ok
}

// value returns the current value of a reference, e.g. "p:lsp1".
func (m *refMemo) value(ref string) refVal {
	if v, ok := m.vals[ref]; ok {
		return v
	}
	kind, name, _ := strings.Cut(ref, ":")
	var val refVal
	switch kind {
	case "p":
		dp, key, ok := m.v.LookupPort(name)
		b := strconv.AppendUint(nil, uint64(dp), 10)
		b = strconv.AppendUint(append(b, '/'), uint64(key), 10)
		b = strconv.AppendBool(append(b, '/'), m.v.Resident(name))
		b = strconv.AppendBool(append(b, '/'), m.Local(name))
		val = refVal{text: string(b), ok: ok}
	case "as":
		val.members, val.ok = m.v.AddressSet(name)
	case "pg":
		val.members, val.ok = m.v.PortGroup(name)
	case "mc":
		dps, n, _ := strings.Cut(name, "/")
		dp, _ := strconv.ParseUint(dps, 10, 32)
		k, ok := m.v.LookupMulticast(uint32(dp), n)
		val = refVal{text: strconv.FormatUint(uint64(k), 10), ok: ok}
	}
	m.vals[ref] = val
	return val
}

func (m *refMemo) snapshot(r lflowc.Refs) map[string]refVal {
	out := map[string]refVal{}
	add := func(kind string, names []string) {
		for _, n := range names {
			k := kind + ":" + n
			out[k] = m.value(k)
		}
	}
	add("p", r.Ports)
	add("as", r.AddressSets)
	add("pg", r.PortGroups)
	add("mc", r.Multicast)
	return out
}

func (m *refMemo) changed(refs map[string]refVal) bool {
	for k, v := range refs {
		if !m.value(k).equal(v) {
			return true
		}
	}
	return false
}

// physicalFlows recomputes the physical flows from the SB and the
// chassis state and replaces them in the desired table.
func (l *loop) physicalFlows(v *sbView, st *chassis.State) error {
	in := physical.Input{Chassis: st.Chassis}
	localUUID := map[string]uint32{}
	for id, dp := range st.LocalDatapaths {
		localUUID[id] = uint32(dp.Key)
		in.Datapaths = append(in.Datapaths, physical.Datapath{Key: uint32(dp.Key),
			DNATZone: uint16(dp.DNATZone), SNATZone: uint16(dp.SNATZone)})
	}
	for _, pb := range v.ports {
		dp, ok := localUUID[pb.Datapath]
		if !ok {
			continue
		}
		p := physical.PortFromBinding(pb, v.chassisNameOf)
		p.Datapath = dp
		if lp, ok := st.LocalPorts[pb.LogicalPort]; ok && lp.OFPort > 0 {
			p.OFPort = uint32(lp.OFPort)
			p.Zone = uint16(lp.Zone)
		}
		if gw, ok := st.Gateways[pb.LogicalPort]; ok {
			p.Zone = uint16(gw.Zone)
		}
		if ln, ok := st.Localnet[pb.LogicalPort]; ok {
			p.OFPort = uint32(max(ln.OFPort, 0))
			p.Zone = uint16(ln.Zone)
			p.Tag = uint16(ln.Tag)
		}
		in.Ports = append(in.Ports, p)
	}
	in.Peers = v.remotePeers(in.Ports, localUUID)
	for _, mb := range v.macBindings {
		if _, ok := localUUID[mb.Datapath]; ok {
			if b, err := physical.MACBindingFromSB(mb); err == nil {
				in.MACBindings = append(in.MACBindings, b)
			}
		}
	}
	for _, mb := range v.staticMACs {
		if _, ok := localUUID[mb.Datapath]; ok {
			if b, err := physical.StaticMACBindingFromSB(mb); err == nil {
				in.MACBindings = append(in.MACBindings, b)
			}
		}
	}
	localKey := localKeys(st)
	for _, f := range v.fdbs {
		if localKey[uint32(f.DpKey)] {
			if e, err := physical.FDBFromSB(f); err == nil {
				in.FDBs = append(in.FDBs, e)
			}
		}
	}
	for _, mc := range v.mcast {
		dp, ok := localUUID[mc.Datapath]
		if !ok {
			continue
		}
		g := physical.MulticastGroup{UUID: mc.UUID, Datapath: dp, Key: uint32(mc.TunnelKey)}
		for _, id := range mc.Ports {
			if pb := v.portByUUID(id); pb != nil {
				g.Members = append(g.Members, pb.LogicalPort)
			}
		}
		in.MulticastGroups = append(in.MulticastGroups, g)
	}
	for _, t := range st.Tunnels {
		if t.OFPort > 0 {
			in.Tunnels = append(in.Tunnels, physical.Tunnel{Chassis: t.Chassis, Type: t.Type, OFPort: uint32(t.OFPort)})
		}
	}
	slices.SortFunc(in.Ports, func(a, b physical.Port) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(in.MulticastGroups, func(a, b physical.MulticastGroup) int { return strings.Compare(a.UUID, b.UUID) })
	slices.SortFunc(in.Tunnels, func(a, b physical.Tunnel) int { return strings.Compare(a.Chassis, b.Chassis) })
	slices.SortFunc(in.MACBindings, func(a, b physical.MACBinding) int { return strings.Compare(a.UUID, b.UUID) })
	slices.SortFunc(in.FDBs, func(a, b physical.FDB) int { return strings.Compare(a.UUID, b.UUID) })
	byOwner, err := physical.Flows(in)
	if err != nil {
		return fmt.Errorf("physical flows: %w", err)
	}
	for owner, flows := range byOwner {
		l.desired.Set(owner, flows)
		l.physical[owner] = true
	}
	for owner := range l.physical {
		if _, ok := byOwner[owner]; !ok {
			l.desired.Remove(owner)
			delete(l.physical, owner)
		}
	}
	return nil
}

// lbHairpinFlows replaces the load-balancer hairpin flows (tables 68 to
// 70) with those of the SB Load_Balancers that apply to a local
// datapath, as ovn-controller builds them from that table.
func (l *loop) lbHairpinFlows(v *sbView, st *chassis.State) {
	local := localKeys(st)
	var lbs []lbhairpin.LB
	for _, lb := range v.lbs {
		if !slices.ContainsFunc(v.lbDatapaths(lb), func(k uint32) bool { return local[k] }) {
			continue
		}
		in := lbhairpin.LB{UUID: lb.UUID, VIPs: lb.Vips, Options: lb.Options}
		if lb.Protocol != nil {
			in.Protocol = string(*lb.Protocol)
		}
		lbs = append(lbs, in)
	}
	cfg := lbhairpin.Config{UseCTMark: true}
	if v.global != nil && v.global.Options["lb_hairpin_use_ct_mark"] == "false" {
		cfg.UseCTMark = false
	}
	byOwner, err := lbhairpin.Flows(lbs, cfg)
	if err != nil && err.Error() != l.lbError {
		l.c.log.Warn("load balancer hairpin flows", "err", err)
	}
	l.lbError = ""
	if err != nil {
		l.lbError = err.Error()
	}
	for owner, flows := range byOwner {
		l.desired.Set(owner, flows)
		l.lbOwners[owner] = true
	}
	for owner := range l.lbOwners {
		if _, ok := byOwner[owner]; !ok {
			l.desired.Remove(owner)
			delete(l.lbOwners, owner)
		}
	}
}

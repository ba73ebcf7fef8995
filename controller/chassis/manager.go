package chassis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// ErrEncapInUse is returned by Reconcile when another chassis holds an
// Encap with this chassis' type and IP; the SB allows only one.
var ErrEncapInUse = errors.New("encapsulation in use by another chassis")

// ErrNotRegistered is returned by ReportNbCfg and MarkInstalled before a
// Reconcile has registered the chassis.
var ErrNotRegistered = errors.New("chassis not registered yet")

// Options tune a Manager; the zero value is what ovnd runs with.
type Options struct {
	// SystemIDFile is read when external_ids has no system-id; ""
	// means none (ovnd passes DefaultSystemIDFile).
	SystemIDFile string
	Logger       *slog.Logger
	// Now is the clock for the ms timestamps ovn-controller writes
	// (ovn-startup-ts, ovn-installed-ts, nb_cfg_timestamp); default
	// time.Now.
	Now func() time.Time
	// KernelDatapath reports whether the kernel has OVS's datapath;
	// default KernelDatapath.
	KernelDatapath func() (bool, error)
}

// Manager keeps the local OVS and this chassis' SB rows as
// ovn-controller keeps them. Its methods may be called from any
// goroutine; they run one at a time.
type Manager struct {
	ovs, sb client.Client
	opts    Options
	log     *slog.Logger
	startTS string

	mu        sync.Mutex        // guards the fields below, held for a whole method
	kernel    *bool             // KernelDatapath's answer, asked once
	installed map[string]string // logical port -> interface uuid ovn-installed is on ("" for a container port)
	state     *State            // the last Reconcile's result
	seen      *seen             // what the last Reconcile read, for Affected; nil until one succeeds
	lastSeen  *seen             // the last successful Reconcile's seen, which the next one updates
	pbx       pbIndex           // the cached Port_Bindings indexed, kept between reads
	// pending are the transactions the last Reconcile sent and no
	// one has waited for yet (see Settle).
	pending []pendingTxn
}

// pendingTxn is a transaction sent by a goroutine of its own, whose
// outcome comes on done.
type pendingTxn struct {
	what string // for the error: "sb port bindings", "ovs bridge br-int"
	done chan error
}

// sendTxn commits t from a goroutine of its own; settleLocked waits for
// it. what names it in logs and errors.
func (m *Manager) sendTxn(ctx context.Context, t *txn, what string) {
	done := make(chan error, 1)
	m.pending = append(m.pending, pendingTxn{what: what, done: done})
	go func() {
		t0 := time.Now()
		err := t.commit(ctx)
		m.log.Debug("written", "txn", what, "ops", len(t.ops), "took", time.Since(t0).Round(10*time.Microsecond))
		done <- err
	}()
}

// New returns a Manager writing through ovs (the local Open_vSwitch
// database) and sb. Both clients must be connected and monitoring at
// least OVSMonitorOptions and SBMonitorOptions; the manager reads only
// their caches and writes nothing until Reconcile.
func New(ovs, sb client.Client, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KernelDatapath == nil {
		opts.KernelDatapath = KernelDatapath
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Manager{ovs: ovs, sb: sb, opts: opts, log: opts.Logger,
		startTS: msString(opts.Now()), installed: map[string]string{}}
}

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// State is the local view the flow builders need, as of the end of a
// Reconcile; the Manager does not modify it after returning it. OFPorts
// are 0 until ovs-vswitchd has assigned them; the Interface update that
// follows makes the loop reconcile again.
type State struct {
	Config       Config
	Chassis      string // this chassis' name (system-id)
	ChassisUUID  string
	Bridge       string // the integration bridge's name
	BridgeUUID   string
	DatapathType string
	// LocalPorts are the logical ports with an interface here: VIFs and
	// container ports bound here, and localports.
	LocalPorts map[string]LocalPort
	// Gateways are the ports bound here that have no interface:
	// l3gateway ports pinned here, chassisredirect and external ports
	// whose HA group has this chassis active.
	Gateways map[string]GatewayPort
	// Tunnels are the tunnel ports, by remote chassis name.
	Tunnels map[string]Tunnel
	// Localnet are the localnet ports on local datapaths that have their
	// patch ports, by localnet logical port.
	Localnet map[string]LocalnetPort
	// LocalDatapaths are the datapaths with a port bound here and those
	// reachable from them through patch ports, by Datapath_Binding UUID.
	LocalDatapaths map[string]LocalDatapath
	// Zones are all conntrack zone assignments, by zone name (a logical
	// port, or "<datapath uuid>_dnat" / "_snat").
	Zones map[string]int
}

// GatewayPort is a port bound here without an interface.
type GatewayPort struct {
	Name        string // logical port
	Type        string // l3gateway, chassisredirect or external
	Datapath    string // Datapath_Binding UUID
	DatapathKey int64
	PortKey     int64
	Zone        int
}

// LocalDatapath is a datapath with local relevance.
type LocalDatapath struct {
	UUID     string
	Key      int64 // tunnel key
	Name     string
	DNATZone int
	SNATZone int
}

// NoteChanges reports the rows of the SB client's cache that changed
// since the last report, by table and UUID, or, with full, that changes
// were lost (a rebuilt cache, a dropped event). A caller that reports
// changes once must report every change from then on: the Manager then
// reads only the Port_Bindings reported, instead of looking at all of
// them in every Reconcile, and scans them all again after a full
// report.
func (m *Manager) NoteChanges(sb map[string]map[string]struct{}, full bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pbx.note(sb[sbdb.PortBindingTable], full)
}

// Reconcile does every OVS and SB write needed to bring this chassis in
// line with the configuration and the SB, and returns the local view.
// It is idempotent: when nothing changed it issues no transaction. The
// configuration is re-read from Open_vSwitch each time, so changes
// apply without restart.
func (m *Manager) Reconcile(ctx context.Context) (*State, error) {
	st, err := m.ReconcileStart(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.Settle(); err != nil {
		return nil, err
	}
	return st, nil
}

// ReconcileStart is Reconcile without waiting for the SB's answer to
// the Port_Binding claims and releases it sends: the State already
// counts a port claimed here as bound here, so its flows can be
// installed while the SB commits the claim, as ovn-controller does
// (its claim and its flows go out in the same loop iteration). Settle
// returns the claim's outcome; MarkInstalled, ReportNbCfg, Cleanup and
// the next Reconcile wait for it first, so nothing is reported for a
// port before its claim is in the SB.
func (m *Manager) ReconcileStart(ctx context.Context) (*State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.settleLocked() // a failed claim is made again below
	m.seen = nil         // until this one succeeds
	ov, err := readOVS(ctx, m.ovs)
	if err != nil {
		return nil, err
	}
	cfg, err := ReadConfig(ov.root, m.opts.SystemIDFile)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if ov, err = m.ensureBridge(ctx, ov, cfg); err != nil {
		return nil, err
	}
	br := ov.bridges[cfg.Bridge]
	sbv, err := m.register(ctx, cfg, chassisOtherConfig(cfg, ov.root, br.DatapathType))
	if err != nil {
		return nil, err
	}
	chUUID := sbv.chassis[cfg.SystemID].UUID
	b := computeBinding(ov, sbv, cfg, chUUID)
	t := &txn{c: m.sb}
	claimOps(t, b, chUUID)
	m.logBinding(b)
	if t.err != nil {
		return nil, fmt.Errorf("sb port bindings: build transaction: %w", t.err)
	}
	if len(t.ops) > 0 {
		m.sendTxn(ctx, t, "sb port bindings")
	}
	// The next index update reads them again, whether or not their
	// change has been reported by then.
	for _, l := range [][]*sbdb.PortBinding{b.claim, b.release} {
		for _, pb := range l {
			m.pbx.touch(pb.UUID)
		}
	}
	st, err := m.applyOVS(ctx, ov, sbv, cfg, b, chUUID)
	if err != nil {
		_ = m.settleLocked()
		m.seen = nil
		return nil, err
	}
	return st, nil
}

// Settle waits for the transactions the last ReconcileStart sent
// without waiting (its Port_Binding claims, and its OVS writes when
// they only set external_ids keys), if any is still unanswered, and
// returns their error. After an error the next Reconcile reads
// everything again and writes anew.
func (m *Manager) Settle() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.settleLocked()
}

func (m *Manager) settleLocked() error {
	var errs []error
	for _, p := range m.pending {
		if err := <-p.done; err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.what, err))
		}
	}
	m.pending = nil
	if len(errs) > 0 {
		m.seen = nil
		return errors.Join(errs...)
	}
	return nil
}

// ensureBridge writes Open_vSwitch other_config and creates the
// integration bridge if it is missing.
func (m *Manager) ensureBridge(ctx context.Context, ov *ovsView, cfg Config) (*ovsView, error) {
	t := &txn{c: m.ovs}
	want := rootOtherConfig(cfg)
	managed := sortedKeys(want)
	if prev := m.previousID(cfg); prev != "" {
		managed = append(managed, chassisIdxPrefix+prev)
	}
	root := &vswitch.OpenvSwitch{UUID: ov.root.UUID}
	t.setKeys(root, &root.OtherConfig, ov.root.OtherConfig, want, managed)
	if ov.bridges[cfg.Bridge] == nil {
		dpType := chooseDatapathType(cfg, ov.root, m.kernelDatapath())
		m.log.Info("creating integration bridge", "bridge", cfg.Bridge, "datapath_type", dpType)
		if err := createBridge(t, ov.root, cfg, dpType); err != nil {
			return nil, err
		}
	}
	if len(t.ops) == 0 && t.err == nil {
		return ov, nil
	}
	if err := t.commit(ctx); err != nil {
		return nil, fmt.Errorf("ovs bridge %s: %w", cfg.Bridge, err)
	}
	ov, err := readOVS(ctx, m.ovs)
	if err == nil && ov.bridges[cfg.Bridge] == nil {
		err = fmt.Errorf("bridge %s not in the ovs cache after creating it", cfg.Bridge)
	}
	return ov, err
}

// previousID returns the system-id this manager registered before, if
// the configuration now names another one, else "".
func (m *Manager) previousID(cfg Config) string {
	if m.state == nil || m.state.Chassis == cfg.SystemID {
		return ""
	}
	return m.state.Chassis
}

// kernelDatapath asks once whether the kernel has OVS's datapath.
func (m *Manager) kernelDatapath() bool {
	if m.kernel == nil {
		k, err := m.opts.KernelDatapath()
		if err != nil {
			m.log.Warn("cannot tell whether the kernel has the openvswitch datapath; assuming not", "err", err)
		}
		m.kernel = &k
	}
	return *m.kernel
}

// register writes the Chassis, Encap and Chassis_Private rows and
// returns the SB view that holds them.
func (m *Manager) register(ctx context.Context, cfg Config, otherConfig map[string]string) (*sbView, error) {
	sbv, err := readSB(ctx, m.sb, &m.pbx)
	if err != nil {
		return nil, err
	}
	if err := encapConflict(sbv, cfg, m.previousID(cfg)); err != nil {
		return nil, err
	}
	t := &txn{c: m.sb}
	if prev := m.previousID(cfg); prev != "" {
		// The system-id changed under this manager: the rows it
		// registered under the old name go in the same transaction,
		// taking their Encaps (whose type and ip the new ones reuse)
		// and, through the weak references, the old claims.
		m.log.Info("system-id changed; removing the old chassis", "old", prev, "new", cfg.SystemID)
		if ch := sbv.chassis[prev]; ch != nil {
			t.add(m.sb.Where(ch).Delete())
		}
		if p := sbv.privates[prev]; p != nil {
			t.add(m.sb.Where(p).Delete())
		}
	}
	registerChassis(t, sbv, cfg, otherConfig)
	if len(t.ops) == 0 && t.err == nil {
		return sbv, nil
	}
	if sbv.chassis[cfg.SystemID] == nil {
		m.log.Info("registering chassis", "chassis", cfg.SystemID, "encaps", cfg.EncapTypes, "ip", cfg.EncapIP)
	}
	if err := t.commit(ctx); err != nil {
		return nil, fmt.Errorf("sb chassis %s: %w", cfg.SystemID, err)
	}
	if sbv, err = readSB(ctx, m.sb, &m.pbx); err != nil {
		return nil, err
	}
	if sbv.chassis[cfg.SystemID] == nil {
		return nil, fmt.Errorf("chassis %s not in the sb cache after registering it", cfg.SystemID)
	}
	return sbv, nil
}

func (m *Manager) logBinding(b *binding) {
	for _, pb := range b.claim {
		m.log.Info("claiming logical port", "port", pb.LogicalPort)
	}
	for _, pb := range b.release {
		m.log.Info("releasing logical port", "port", pb.LogicalPort)
	}
}

// applyOVS writes the bridge settings, tunnels, patch ports, zones and
// ovn-installed marks in one transaction and builds the State.
func (m *Manager) applyOVS(ctx context.Context, ov *ovsView, sbv *sbView, cfg Config, b *binding, chUUID string) (*State, error) {
	br := ov.bridges[cfg.Bridge]
	localnets := b.localnetPorts(sbv)
	zones, err := AssignZones(ZonesFromExternalIDs(br.ExternalIDs), zoneNames(b, localnets))
	if err != nil {
		return nil, err
	}
	tunnels := desiredTunnels(sbv, cfg)
	patches := desiredPatches(ov, cfg, localnets)
	t := &txn{c: m.ovs}
	updateBridge(t, br, cfg, m.startTS)
	if err := tunnelOps(t, ov, br, tunnels); err != nil {
		return nil, err
	}
	patchOps(t, ov, patches)
	zoneOps(t, br, zones)
	installedOps(t, m.bridgeIfaces(ov, cfg.Bridge), m.updateInstalled(b), msString(m.opts.Now()))
	read := ov // what this Reconcile decided from
	switch after, ok := ov.afterKeys(t); {
	case ok:
		// Only external_ids keys (a new port's conntrack zone, marks
		// cleared): nothing the State is built from changes, so the
		// flows need not wait for the answer (Settle does).
		m.sendTxn(ctx, t, "ovs bridge "+cfg.Bridge)
		ov = after
	case len(t.ops) > 0 || t.err != nil:
		if err := t.commit(ctx); err != nil {
			return nil, fmt.Errorf("ovs bridge %s: %w", cfg.Bridge, err)
		}
		if ov, err = readOVS(ctx, m.ovs); err != nil {
			return nil, err
		}
	}
	st := buildState(ov, sbv, cfg, b, chUUID, zones, tunnels, localnets, patches)
	for name, lp := range st.LocalPorts {
		lp.Installed = m.isInstalled(name, lp)
		st.LocalPorts[name] = lp
	}
	m.state = st
	m.remember(read, ov, updatedRows(t.ops), sbv, b, chUUID)
	return st, nil
}

// isInstalled reports whether the loop (or a previous run) said lp's
// flows are in: on the interface lp has now, or at all for a container
// port, which has no interface of its own.
func (m *Manager) isInstalled(name string, lp LocalPort) bool {
	u, ok := m.installed[name]
	return ok && (u == lp.InterfaceUUID || lp.Parent != "")
}

// zoneNames are the names that want a conntrack zone, as with
// ovn-controller: every local port (and every iface-id on br-int, bound
// here or not: ovn-controller zones them all), every gateway port bound
// here, every localnet port of a local datapath, and every local
// datapath's DNAT and SNAT zones. AssignZones drops duplicates.
func zoneNames(b *binding, localnets []*sbdb.PortBinding) []string {
	out := append([]string(nil), b.ifaceIDs...)
	for name := range b.local {
		out = append(out, name)
	}
	for _, pb := range localnets {
		out = append(out, pb.LogicalPort)
	}
	for name := range b.gateway {
		out = append(out, name)
	}
	for dp := range b.datapath {
		out = append(out, dnatZoneName(dp), snatZoneName(dp))
	}
	return out
}

// bridgeIfaces returns every interface on bridge br.
func (m *Manager) bridgeIfaces(ov *ovsView, br string) []*vswitch.Interface {
	var out []*vswitch.Interface
	for _, p := range ov.bridgePorts(br) {
		out = append(out, ov.portIfaces(p)...)
	}
	return out
}

// updateInstalled brings the installed set in line with this round's
// binding and returns the interfaces that keep ovn-installed. A port
// claimed now is not installed until MarkInstalled; a port this chassis
// already held that carries ovn-installed (a previous run's) stays
// installed; ports no longer local are forgotten. Localports are
// remembered as installed but get no ovn-installed, as with
// ovn-controller.
func (m *Manager) updateInstalled(b *binding) map[string]bool {
	claimed := map[string]bool{}
	for _, pb := range b.claim {
		claimed[pb.LogicalPort] = true
	}
	keep := map[string]bool{}
	for name, lp := range b.local {
		if claimed[name] {
			delete(m.installed, name)
			continue
		}
		f := b.ifaceOf[name]
		if lp.Parent != "" {
			// A container port has no interface of its own to carry
			// ovn-installed: one this chassis held with up=true (a
			// previous run's) stays installed.
			if _, ok := m.installed[name]; !ok && lp.Type == typeVIF && b.up[name] {
				m.installed[name] = ""
			}
			continue
		}
		if u, ok := m.installed[name]; ok && u != f.UUID {
			delete(m.installed, name) // moved to another interface
		}
		if lp.Type != typeVIF {
			continue
		}
		if _, ok := m.installed[name]; !ok && hasInstalled(f) {
			m.installed[name] = f.UUID
		}
		if _, ok := m.installed[name]; ok {
			keep[f.UUID] = true
		}
	}
	for name := range m.installed {
		if b.local[name] == nil {
			delete(m.installed, name)
		}
	}
	return keep
}

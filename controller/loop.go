package controller

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"

	"slices"
	"sync"
	"time"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/lbhairpin"
	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/controller/pinctrl"
	"github.com/ovnd/ovnd/controller/sbreplica"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// loop is the state one Serve keeps between rounds. Only the Serve
// goroutine uses it, except sb, which a connecting goroutine hands over
// under mu, and the change logs, which the clients' event goroutines
// fill.
type loop struct {
	c    *Controller
	ovsc client.Client
	kick chan struct{}

	mu        sync.Mutex
	sb        client.Client      // connected and monitoring, or nil
	replica   *sbreplica.Replica // the big SB tables, from the same remote
	sbRemote  string             // the remote and probe interval sb and replica (or the pending connection) are for
	sbCancel  context.CancelFunc
	sbWG      sync.WaitGroup
	lastError string // the last config problem logged, to log each once

	ovsChanges *changeLog // the OVS client's cache changes
	sbChanges  *changeLog // the SB client's cache changes
	sbCaches   map[string]*cache.RowCache

	// What the last rounds left to do: each is cleared only when its
	// step succeeds, so that a failed round is retried in full.
	cfg        *chassis.Config // the chassis config as last read, nil if unusable
	ovsDirty   bool            // the OVS database changed since the last Reconcile
	reconcile  bool            // the SB rows the chassis manager reads changed
	pendSB     changeSet       // SB changes not yet applied to view
	physDirty  bool            // physical flows' inputs changed
	lbDirty    bool            // load balancer hairpin flows' inputs changed
	installDue bool            // desired changed, or the switch reconnected, since the last Install

	mgr  *chassis.Manager
	st   *chassis.State // the last Reconcile's
	view *sbView

	ofc      *openflow.Conn
	ofBridge string
	inst     *flowtable.Installer
	desired  *flowtable.Desired
	compiler *lflowc.Compiler
	// feed, while a full compile streams its flows to the switch, is
	// called after each compiled unit is set in desired.
	feed func()
	fed  feedStats // since the last install

	// parallelMin, when set, replaces the constant of that name (tests).
	parallelMin int
	// feedMin, when set, replaces the constant of that name (tests).
	feedMin int
	// forceParts, when set, loads the SB replica in parts from any
	// remote (tests; see loadInParts).
	forceParts bool

	lflows   map[string]*compiled       // by unit: Logical_Flow UUID, or "<UUID>@<datapath key>" (lflows.go)
	units    map[string]map[uint32]bool // Logical_Flow UUID -> datapaths compiled as units of their own
	refIndex refSets                    // reference -> lflows that used it
	local    map[string]uint32          // the local datapaths lflows were compiled for, UUID -> key
	localnet map[string]bool            // the localnet ports Local answered for
	bound    map[string]bool            // the ports the chassis state bound here when Resident and Local answered (boundNames)
	phys     *physical.Builder          // of the physical flows in desired
	physSig  string                     // the chassis state phys was built from
	physIn   physState                  // the Input phys holds, row by row, and the SB rows changed since (physflows.go)
	lbOwners map[string]bool            // load-balancer hairpin owners in desired
	lbLocal  map[uint32]bool            // the local datapath keys lbOwners were built for
	lbConfig lbhairpin.Config           // and the configuration
	lbError  string                     // the last hairpin flow error logged, to log each once

	nbCfgReported int64
	replicaNbCfg  int64    // SB_Global.nb_cfg as the replica last had it, -1 for none
	replicaSynced bool     // the replica had every part of its load when its changes were last taken
	clientNbCfg   int64    // SB_Global.nb_cfg whose changes the SB client has handed over, -1 for none
	waited        [2]int64 // the client's and the replica's nb_cfg when a round last gave up waiting for them to meet
}

// compiled is what the loop remembers of one compiled lflow: the
// references it used, to find it again when one changes.
type compiled struct {
	refs []string
}

func newLoop(c *Controller, ovsc client.Client, ovsChanges *changeLog, kick chan struct{}) *loop {
	return &loop{c: c, ovsc: ovsc, kick: kick, ovsChanges: ovsChanges, sbChanges: newChangeLog(),
		inst: flowtable.NewInstaller(c.log), desired: flowtable.NewDesired(c.log),
		compiler: lflowc.NewCompiler(), lflows: map[string]*compiled{}, units: map[string]map[uint32]bool{}, refIndex: refSets{},
		local: map[string]uint32{}, localnet: map[string]bool{}, bound: map[string]bool{}, lbOwners: map[string]bool{},
		ovsDirty: true, physDirty: true, lbDirty: true, nbCfgReported: -1, replicaNbCfg: -1, clientNbCfg: -1}
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

// round brings the chassis and br-int in line with both databases,
// doing only what the changes since the last round call for.
func (l *loop) round(ctx context.Context) error {
	t0 := time.Now()
	if cs := l.ovsChanges.take(); !cs.empty() && (cs.Full || l.mgr == nil || l.mgr.Affected(cs.Tables, nil)) {
		l.ovsDirty = true
	}
	if l.ovsDirty || l.cfg == nil {
		cfg, err := chassis.LoadConfig(ctx, l.ovsc, l.c.cfg.SystemIDFile)
		if err != nil {
			// Not configured yet (no system-id, no ovn-remote...): wait for
			// the Open_vSwitch row to change.
			l.cfg = nil
			l.logOnce("chassis not configured", err)
			return nil
		}
		l.cfg = &cfg
	}
	l.lastError = ""
	sb, rep := l.sbClient(ctx, *l.cfg)
	if sb == nil {
		return nil // connecting; the connection pokes the loop
	}
	var rs roundSteps
	// A stream this round opened and did not install (the round failed
	// or stopped short of publish) is dropped: the switch applies none
	// of it.
	defer func() {
		if l.inst.Streaming(l.desired) {
			if err := l.inst.Abort(ctx); err != nil {
				l.c.log.Warn("drop streamed flows", "err", err)
			}
		}
	}()
	for pass := 0; ; pass++ {
		if done, err := l.update(ctx, sb, rep, &rs); err != nil || !done {
			return err
		}
		if pass == 0 && l.ovsChangedMeanwhile() {
			continue
		}
		if !l.awaitOtherSide(ctx, t0) {
			break
		}
	}
	st := l.st
	tReconcile, tView, tPhys, pending := rs.reconcile, rs.view, rs.phys, rs.pending
	tPublish := time.Now()
	err := l.publish(ctx, st, tView, l.mgr)
	if d := time.Since(t0); d >= slowRound {
		l.c.log.Debug("slow round", "took", d.Round(time.Millisecond), "reconcile", tView.Sub(tReconcile).Round(time.Millisecond),
			"view", tPhys.Sub(tView).Round(time.Millisecond), "physical", tPublish.Sub(tPhys).Round(time.Millisecond),
			"publish", time.Since(tPublish).Round(time.Millisecond), "sb_changes", pending)
	} else if d >= roundShown {
		// The steps of a port's way to its first packet, to the 10 µs.
		r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
		l.c.log.Debug("round", "start", t0.UTC().Format("15:04:05.000000"), "took", r(d), "pre", r(tReconcile.Sub(t0)),
			"reconcile", r(tView.Sub(tReconcile)), "view", r(tPhys.Sub(tView)), "physical", r(tPublish.Sub(tPhys)),
			"publish", r(time.Since(tPublish)), "sb_changes", pending)
	}
	return err
}

// roundSteps is when a round's steps began (its first pass's), and the
// SB changes it took, for the debug log.
type roundSteps struct {
	reconcile, view, phys time.Time
	pending               string
}

// update is one pass of a round up to the install: the SB changes, the
// chassis, the view, the compiled and physical flows. It reports false
// when the replica is still connecting (it pokes the loop).
func (l *loop) update(ctx context.Context, sb client.Client, rep *sbreplica.Replica, rs *roundSteps) (bool, error) {
	l.takeSBChanges(sb)
	if l.mgr == nil {
		l.mgr = chassis.New(l.ovsc, sb, chassis.Options{SystemIDFile: l.c.cfg.SystemIDFile, Logger: l.c.log})
		l.reconcile = true
	}
	first := rs.reconcile.IsZero()
	if first {
		rs.reconcile = time.Now()
	}
	if l.ovsDirty || l.reconcile || l.st == nil {
		// The claims this sends are answered while the flows are
		// computed and installed; publish's reports wait for them.
		st, err := l.mgr.ReconcileStart(ctx)
		if err != nil {
			return false, fmt.Errorf("chassis: %w", err)
		}
		l.st, l.ovsDirty, l.reconcile = st, false, false
	}
	st := l.st
	if err := l.openflow(ctx, st.Bridge); err != nil {
		return false, err
	}
	src, ok := l.sbSnapshot(sb, rep, st)
	if !ok {
		return false, nil
	}
	if first {
		rs.view = time.Now()
	}
	if p := l.pendSB.summary(); p != "" {
		rs.pending = strings.TrimSpace(rs.pending + " " + p)
	}
	l.startStream(ctx, st)
	l.updateView(src, st)
	l.feed = nil
	if first {
		rs.phys = time.Now()
	}
	if err := l.physicalFlows(l.view, st); err != nil {
		return false, err
	}
	l.lbHairpinFlows(l.view, st)
	return true, nil
}

// awaitOtherSide reports whether the round should take another pass
// before it installs, after waiting for a poke of the loop. The lflows
// behind an nb_cfg come over the replica's connection, the ports over
// the client's, from the same SB transaction. When a pass took only one
// side, the other follows within a millisecond or two: waiting for it
// (until splitWait after the round began, t0) and taking it in another
// pass installs both in one bundle and reports nb_cfg this round, where
// a round for each side cost a bundle and a round more on the way of
// `ovn-nbctl --wait=hv`. A split that outlasts the wait is not waited
// for again.
func (l *loop) awaitOtherSide(ctx context.Context, t0 time.Time) bool {
	if !l.nbCfgSplit() {
		return false
	}
	split := [2]int64{l.clientNbCfg, l.replicaNbCfg}
	left := splitWait - time.Since(t0)
	if split == l.waited || left <= 0 {
		l.waited = split
		return false
	}
	wait := time.NewTimer(left)
	defer wait.Stop()
	select {
	case <-l.kick:
	case <-wait.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// ovsChangedMeanwhile reports whether the local OVS database changed,
// while the round's first pass ran, in a way the chassis manager reads:
// the round then takes a second pass (one at most) before it installs.
// The first round of a start creates the tunnel ports, whose OpenFlow
// port numbers the switch assigns while the lflows compile; taken in
// the same round, the tunnel flows go out in the first bundle, where
// they took a round of their own after it (with the SB's echo of the
// claims: 0.8 s after the first install in the benchmark).
func (l *loop) ovsChangedMeanwhile() bool {
	cs := l.ovsChanges.take()
	if cs.empty() || !(cs.Full || l.mgr == nil || l.mgr.Affected(cs.Tables, nil)) {
		return false
	}
	l.ovsDirty = true
	return true
}

// splitWait bounds how long a round waits for the SB connection that
// has not handed over its part of an nb_cfg yet (see round).
const splitWait = 5 * time.Millisecond

// nbCfgSplit reports whether the SB's two connections have handed over
// different nb_cfgs: one has yet to hand over its part of a transaction.
func (l *loop) nbCfgSplit() bool {
	return l.clientNbCfg >= 0 && l.replicaNbCfg >= 0 && l.clientNbCfg != l.replicaNbCfg
}

// slowRound is how long a round must take for the debug log to show
// where its time went; roundShown, for a shorter debug line.
const (
	slowRound  = 50 * time.Millisecond
	roundShown = time.Millisecond
)

// reporter is what publish needs of the chassis manager.
type reporter interface {
	Settle() error
	MarkInstalled(ctx context.Context, ports []string) error
	ReportNbCfg(ctx context.Context, nbCfg int64) error
}

// publish installs the desired table, if it changed, and reports what
// is on the switch: the ports now installed and the nb_cfg. It does
// neither while the replica's load in parts is not all in: a table
// compiled from some of the lflows lacks flows (an ACL's drop among
// them), and replaces the whole table on the switch only as one
// bundle once complete; ports and nb_cfg reported before would claim
// flows that are not there. tView is when this round's compile began.
func (l *loop) publish(ctx context.Context, st *chassis.State, tView time.Time, rep reporter) error {
	if !l.replicaSynced {
		return nil // the next part pokes the loop
	}
	if l.installDue {
		tInstall := time.Now()
		stats, err := l.inst.Install(ctx, l.desired)
		if err != nil {
			l.ofc.Close()
			l.ofc = nil
			return fmt.Errorf("install flows: %w", err)
		}
		l.installDue = false
		defer func() { l.fed = feedStats{} }()
		if n := stats.Added + stats.Modified + stats.Deleted; n >= bulkInstall {
			// A new view or a switch that lost its flows: how long the
			// controller took is worth an operator's eye.
			l.c.log.Info("installed the flow table", "added", stats.Added, "modified", stats.Modified, "deleted", stats.Deleted,
				"flows", l.desired.Len(), "compile", tInstall.Sub(tView).Round(time.Millisecond),
				"install", time.Since(tInstall).Round(time.Millisecond), "streamed", l.fed.parts,
				"stream_wait", l.fed.took.Round(time.Millisecond))
		} else if n > 0 {
			l.c.log.Debug("installed", "added", stats.Added, "modified", stats.Modified, "deleted", stats.Deleted, "flows", l.desired.Len(),
				"took", time.Since(tInstall).Round(10*time.Microsecond))
		}
		if !stats.Empty() {
			releaseMemory(stats.Added+stats.Modified+stats.Deleted >= bulkInstall)
		}
	}
	// The Port_Binding claims of the last Reconcile were answered
	// while the flows were computed and installed: nothing is
	// reported for a port before its claim is in. A failed claim is
	// made again by a new Reconcile.
	if err := rep.Settle(); err != nil {
		l.reconcile = true
		return fmt.Errorf("chassis: %w", err)
	}
	return l.report(ctx, st, rep)
}

// takeSBChanges moves the SB client's recorded changes into pendSB: a
// cache that libovsdb rebuilt after a reconnect (it replaces the
// tables without events) counts as a Full change.
func (l *loop) takeSBChanges(sb client.Client) {
	// nb_cfg first, changes second: every change nb_cfg stands for is
	// then among those taken (see changeLog.nbCfg).
	if cfg := l.sbChanges.nbCfg(); cfg >= 0 {
		l.clientNbCfg = cfg
	}
	cs := l.sbChanges.take()
	if c := sb.Cache(); c != nil {
		if l.sbCaches == nil {
			l.sbCaches = map[string]*cache.RowCache{}
		}
		for _, t := range viewTables {
			if rc := c.Table(t); rc != l.sbCaches[t] {
				l.sbCaches[t] = rc
				cs.Full = true
			}
		}
	}
	if c := sb.Cache(); cs.Full && c != nil {
		// After a lost event or a rebuilt cache the change log's
		// nb_cfg may lag (SB_Global's own event may be the one lost):
		// the view is about to be loaded anew from the cache, which
		// holds at least what its nb_cfg stands for.
		if rc := c.Table(sbdb.SBGlobalTable); rc != nil {
			for _, m := range rc.Rows() {
				if g, ok := m.(*sbdb.SBGlobal); ok {
					l.clientNbCfg = max(l.clientNbCfg, int64(g.NbCfg))
				}
			}
		}
	}
	if l.mgr != nil {
		// Every change, so that the manager reads only the bindings
		// that changed (a new manager reads them all once).
		l.mgr.NoteChanges(cs.Tables, cs.Full)
	}
	l.pendSB.merge(cs)
	// Only a change the chassis manager reads, in a way that matters
	// (not SB_Global's nb_cfg, not another chassis' port), reconciles.
	if !cs.empty() && (cs.Full || l.mgr == nil || l.mgr.Affected(nil, cs.Tables)) {
		l.reconcile = true
	}
}

// updateView applies the pending SB changes to the view (a Full change
// or a new chassis name loads it anew) and recompiles what they and the
// chassis state's changes invalidate.
func (l *loop) updateView(src sbSource, st *chassis.State) {
	full := l.needsLoad(st)
	cs := l.pendSB
	l.pendSB = changeSet{}
	if full {
		beginBulkGC()
		l.view = loadSBView(src, st.Chassis)
		l.compileLflows(l.view, st, nil)
		l.physDirty, l.lbDirty = true, true
		l.physIn.full = true
		releaseMemory(true)
		return
	}
	if cs.empty() && !l.localChanged(st) {
		return
	}
	d := l.view.apply(src, cs)
	l.physIn.note(cs)
	l.compileLflows(l.view, st, d)
	releaseMemory(false)
	if d.phys {
		l.physDirty = true
	}
	// SB_Global changes with every nb_cfg: lbHairpinFlows compares the
	// one option it reads itself.
	if cs.has(sbdb.LoadBalancerTable, sbdb.DatapathBindingTable, sbdb.LogicalDPGroupTable) {
		l.lbDirty = true
	}
}

// needsLoad reports whether the next updateView loads the view anew and
// compiles every lflow.
func (l *loop) needsLoad(st *chassis.State) bool {
	return l.view == nil || l.pendSB.Full || l.view.chassis != st.Chassis
}

// startStream opens a stream of the desired table to the switch when
// the next updateView compiles every lflow and what it compiles will be
// installed (the replica's load is whole): its flows go out while it
// runs (streamFeed), in the bundle the round's publish commits.
func (l *loop) startStream(ctx context.Context, st *chassis.State) {
	if l.needsLoad(st) && l.replicaSynced && l.inst.Stream(l.desired) {
		l.feed = func() { l.streamFeed(ctx) }
	}
}

// feedMin is the number of flows set in the desired table from which a
// full compile sends them to the open bundle (streamFeed): the switch
// parses each part while the loop compiles the next.
const feedMin = 4096

// streamFeed sends the flows a full compile has set since the last
// feed into the bundle open on the switch, once there are feedMin. In
// the benchmark the switch took 1.6-2.6 s to parse the 203,752 flow
// mods of the first bundle after a compile of 1.8-5 s, and then 0.4 s
// to apply them: parsed while the flows compile, most of that is off
// the start's critical path. A failed feed loses the stream; the
// install reports why.
func (l *loop) streamFeed(ctx context.Context) {
	min := feedMin
	if l.feedMin > 0 {
		min = l.feedMin
	}
	if l.inst.Pending(l.desired) < min {
		return
	}
	t := time.Now()
	if err := l.inst.Feed(ctx, l.desired); err != nil {
		l.c.log.Debug("stream flows", "err", err)
	}
	l.fed.parts++
	l.fed.took += time.Since(t)
}

// feedStats is what a full compile's feeds cost the loop: the parts,
// and the time spent handing them over (waiting, when the stream's
// queue is full, for the switch to read), for the install's log line.
type feedStats struct {
	parts int
	took  time.Duration
}

// report tells the chassis manager what is on the switch now: the ports
// whose flows are installed, and the nb_cfg the SB asked for.
func (l *loop) report(ctx context.Context, st *chassis.State, rep reporter) error {
	var ready []string
	for name, p := range st.LocalPorts {
		if !p.Installed && p.OFPort > 0 {
			ready = append(ready, name)
		}
	}
	if len(ready) > 0 {
		slices.Sort(ready)
		t := time.Now()
		if err := rep.MarkInstalled(ctx, ready); err != nil {
			return fmt.Errorf("mark installed: %w", err)
		}
		l.c.log.Debug("marked installed", "ports", ready, "took", time.Since(t).Round(10*time.Microsecond))
		for _, name := range ready {
			p := st.LocalPorts[name]
			p.Installed = true
			st.LocalPorts[name] = p
		}
	}
	// The lflows behind an nb_cfg come over the replica's connection,
	// the ports over the client's: the flows are all in only once both
	// have seen it.
	if l.clientNbCfg >= 0 && l.replicaNbCfg >= 0 {
		nb := min(l.clientNbCfg, l.replicaNbCfg)
		if nb != l.nbCfgReported {
			t := time.Now()
			if err := rep.ReportNbCfg(ctx, nb); err != nil {
				return fmt.Errorf("report nb_cfg: %w", err)
			}
			l.c.log.Debug("reported nb_cfg", "nb_cfg", nb, "took", time.Since(t).Round(10*time.Microsecond))
			l.nbCfgReported = nb
		}
	}
	return nil
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
	l.installDue = true
	l.c.log.Info("connected to the integration bridge", "socket", path)
	return nil
}

// bulkInstall is the number of flow changes in one install (the initial
// table, a full recompute) after which the loop hands the memory its
// compile left behind back to the system.
const bulkInstall = 10000

// releaseDelay is how long the loop's work must pause before
// releaseMemory runs: the initial table comes in a full compile and a
// bulk install, then smaller ones as ports are claimed, which postpone
// the release. Once it has run, only new bulk work schedules another:
// a full collection of a large heap costs a hundred milliseconds and
// more, which small changes (a port added) must not pay each time.
const releaseDelay = time.Second

var release struct {
	sync.Mutex
	t       *time.Timer
	pending bool // bulk work scheduled a release that has not run yet
}

// releaseMemory is called after every compile and every install that
// changed flows; bulk says it was bulk work (a full compile, a bulk
// install). Once the loop's work then pauses for releaseDelay, a full
// collection returns the freed pages to the system, so that the resident
// size once the bulk work is over reflects the live heap rather than the
// peak of the compile. Other work only postpones a pending release.
func releaseMemory(bulk bool) {
	release.Lock()
	defer release.Unlock()
	if !bulk && !release.pending {
		return
	}
	release.pending = true
	if release.t == nil {
		release.t = time.AfterFunc(releaseDelay, func() {
			release.Lock()
			release.pending = false
			release.Unlock()
			endBulkGC()
			debug.FreeOSMemory()
		})
		return
	}
	release.t.Reset(releaseDelay)
}

package northd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// incState is what the loop keeps between rounds to handle changes
// incrementally: its own copy of NB (kept current from cache events),
// the engine that owns the desired SB, the UUIDs of the SB rows the
// engine's result describes, and the SB facts NB feedback needs. Only the
// loop goroutine uses it. nil means the next round is a full one.
type incState struct {
	nb  *nbState
	eng *build.Engine
	idx *sbIndex
	// pbs is what feedback reads of SB Port_Binding, by UUID; up the
	// feedback derived from them.
	pbs         map[string]pbFacts
	up          map[string]bool
	chassis     []sbdb.Chassis
	chassisPriv []sbdb.ChassisPrivate
	// byName is the NB port UUIDs by port name, and tags the container
	// port tags last written, to find the ports whose feedback may have
	// changed.
	byName map[string][]string
	tags   map[string]int
	// pbsGone is the logical port names of the bindings that changed
	// or went this round, by binding UUID.
	pbsGone map[string]string
	// deferred is the ports whose feedback a bulk round left to the
	// next one (deferPorts).
	deferred map[string]bool
}

// resyncEvery bounds how long SB rows changed behind northd's back (by
// another writer) stay wrong: a full round repairs them.
const resyncEvery = 5 * time.Minute

// round brings SB in line with NB: incrementally when the loop has its
// state and SB is the database it wrote, else by a full recompute.
func (n *Northd) round(ctx context.Context, nbc, sbc client.Client) error {
	c := n.tr.collect(ctx)
	if n.inc == nil || c.sbReset || time.Since(n.lastFull) > resyncEvery {
		return n.fullRound(ctx, nbc, sbc)
	}
	err := n.incRound(ctx, nbc, sbc, c)
	if errors.Is(err, errFallback) {
		return n.fullRound(ctx, nbc, sbc)
	}
	if err != nil {
		n.inc = nil
	}
	return err
}

// errFallback is returned by incRound for changes it leaves to a full
// round.
var errFallback = errors.New("change needs a full recompute")

func (n *Northd) incRound(ctx context.Context, nbc, sbc client.Client, c collected) error {
	s := n.inc
	t0 := time.Now()
	s.unname(c.nb[nbdb.LogicalSwitchPortTable])
	ch := applyNB(s.nb, c.nb)
	s.name(c.nb[nbdb.LogicalSwitchPortTable])
	// The rows are in s.nb now; after a bulk load, c.nb alone is
	// 21,000 models the round need not hold through the SB write.
	c.nb = nil
	tApply := time.Now()
	d := s.eng.Update(ch)
	tUpdate := time.Now()
	if d.DNSChanged || d.LBsChanged {
		return errFallback
	}
	n.reportProblems(d.Problems)
	tags := d.Tags
	t1, t2 := time.Now(), time.Now()
	var wt txnTimes
	var tCfg, tRes time.Time
	ops := 0
	if !d.Empty() {
		p := planDeltaStream(sbc, s.idx, d, n.stream(d))
		d = nil // planned: the delta's flows need not outlive the plan
		if p.err != nil {
			p.abandon()
			return fmt.Errorf("plan sb: %w", p.err)
		}
		t1 = time.Now()
		res, err := n.writeSB(ctx, sbc, &p.sbTxn)
		if err != nil {
			return fmt.Errorf("write sb: %w", err)
		}
		t2, ops, wt = time.Now(), p.len(), p.times
		if ops >= bulkOps {
			// sb_cfg before the index takes the new rows' UUIDs:
			// SB holds nb_cfg's content now; after a bulk load
			// resolving 40,000 UUIDs took 25 ms (100s on a busy
			// machine) of `--wait=sb`.
			if err := s.reportSBCfg(ctx, nbc, n.defaults); err != nil {
				return err
			}
			tCfg = time.Now()
		}
		p.resolve(res)
		tRes = time.Now()
	}
	if err := s.feedback(ctx, sbc, c); err != nil {
		return err
	}
	fb := &nbFeedback{sbCfg: s.eng.Global().NbCfg, chassis: s.chassisPriv, hosts: s.chassis, up: s.up,
		tags: tags, defaults: n.defaults, now: int(time.Now().UnixMilli())}
	sub := s.feedbackPorts(ch, c, tags)
	s.takeDeferred(sub)
	var err error
	if ops >= bulkOps && n.tr.waiting() {
		// More NB changes are in already (`ovn-nbctl --wait=sb`
		// bumps nb_cfg right after a bulk load): the next round,
		// which runs at once, reports the ports along with its own.
		// Writing 10,000 ports' up first held its sb_cfg back by as
		// long as the NB server took to commit them (0.9 s on
		// ovsdb-server).
		s.deferPorts(sub)
		n.log.Debug("port feedback deferred to the next round", "ports", len(sub.Ports))
	} else if err = writeNB(ctx, nbc, sub, fb); err == nil {
		s.wrote(sub, fb)
	}
	n.log.Debug("incremental round", "sb_ops", ops, "compute", t1.Sub(t0), "sb_write", t2.Sub(t1),
		"nb_feedback", time.Since(t2), "flows", s.eng.FlowCount())
	if c.rows >= bulkRows {
		n.log.Debug("bulk round", "nb_rows", c.rows, "first_row", c.first.Sub(t0), "last_row", c.last.Sub(t0),
			"apply", tApply.Sub(t0), "update", tUpdate.Sub(tApply), "plan", t1.Sub(tUpdate),
			"start", t0.UTC().Format("15:04:05.000"), "sent", since(t0, wt.sent), "replied", since(t0, wt.replied),
			"decoded", since(t0, wt.decoded), "sb_cfg_written", since(t0, tCfg), "resolved", since(t0, tRes))
	}
	afterBulk(ops)
	return err
}

// streamOps is the size of a delta (its flows and bindings) from which
// its SB transaction goes out while it is planned.
const streamOps = 5000

// stream starts the SB transaction of a large delta on the lock
// session, for the plan to write as it goes; nil for a small one, or
// without a session (the transaction then goes out whole).
func (n *Northd) stream(d *build.Delta) *txnStream {
	if n.lock == nil || len(n.lock.remotes) == 0 || len(d.Flows)+len(d.Ports) < streamOps {
		return nil
	}
	s, err := n.lock.begin(ovnschema.SouthboundName)
	if err != nil {
		return nil
	}
	return s
}

// since is t-t0, or 0 when t was not taken.
func since(t0, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return t.Sub(t0)
}

// reportSBCfg writes NB_Global (sb_cfg, hv_cfg) right after a bulk SB
// write, before the ports' feedback is worked out: sb_cfg says that SB
// holds nb_cfg's content, which the ports' up does not change, and
// after a bulk load working out that feedback for 10,000 ports held
// `--wait=sb` back by tens of ms (hundreds on a busy machine). The
// round's own NB write then finds NB_Global current unless the
// feedback changes hv_cfg.
func (s *incState) reportSBCfg(ctx context.Context, nbc client.Client, defaults map[string]string) error {
	if !s.nb.hasGlobal {
		return nil
	}
	g := &nbState{NB: build.NB{Global: s.nb.Global}, hasGlobal: true}
	fb := &nbFeedback{sbCfg: s.eng.Global().NbCfg, chassis: s.chassisPriv, hosts: s.chassis, defaults: defaults,
		now: int(time.Now().UnixMilli())}
	global, _, err := planNB(nbc, g, fb)
	if err != nil {
		return fmt.Errorf("plan nb: %w", err)
	}
	if err := transact(ctx, nbc, global); err != nil {
		return fmt.Errorf("write nb: %w", err)
	}
	s.wrote(g, fb)
	return nil
}

// pbFacts is what NB feedback reads of a Port_Binding (portsUp): a
// full round reads whole bindings, whose other columns (options, MACs,
// external IDs...) incState would otherwise hold for every port, and
// even an sbdb.PortBinding with only these set is 344 bytes.
type pbFacts struct {
	logicalPort string
	chassis     *string
	up          *bool
}

func feedbackFacts(pb sbdb.PortBinding) pbFacts {
	return pbFacts{pb.LogicalPort, pb.Chassis, pb.Up}
}

// binding is f as the Port_Binding portsUp reads.
func (f pbFacts) binding() sbdb.PortBinding {
	return sbdb.PortBinding{LogicalPort: f.logicalPort, Chassis: f.chassis, Up: f.up}
}

// bulkOps is the size of an SB write after which northd hands the
// memory the round used back to the OS.
const bulkOps = 5000

// afterBulk returns the garbage of a large round (the transaction's
// operations and their JSON, the engine's scratch) to the OS at once,
// rather than keeping it mapped until the runtime's scavenger gets to
// it: northd's resident memory then stays near what it holds.
func afterBulk(ops int) {
	if ops >= bulkOps {
		debug.FreeOSMemory()
	}
}

// feedback brings the SB facts of NB feedback up to date: changed port
// bindings one by one, everything after a Chassis change. A change of
// Chassis_Private alone (a chassis reporting nb_cfg, on the path of
// `ovn-nbctl --wait=hv`) re-reads the chassis rows for hv_cfg but no
// port's up, which does not depend on it.
func (s *incState) feedback(ctx context.Context, sbc client.Client, c collected) error {
	if c.chassis || c.priv {
		sb := &sbState{}
		for _, l := range []any{&sb.chassis, &sb.chassisPriv} {
			if err := sbc.List(ctx, l); err != nil {
				return fmt.Errorf("read sb cache: %w", err)
			}
		}
		s.chassis, s.chassisPriv = sb.chassis, sb.chassisPriv
	}
	s.pbsGone = map[string]string{}
	for u, pb := range c.pbs {
		if old, ok := s.pbs[u]; ok {
			delete(s.up, old.logicalPort)
			delete(s.pbs, u)
			s.pbsGone[u] = old.logicalPort
		}
		if pb != nil {
			s.pbs[u] = feedbackFacts(*pb)
		}
	}
	if c.chassis {
		all := make([]sbdb.PortBinding, 0, len(s.pbs))
		for _, pb := range s.pbs {
			all = append(all, pb.binding())
		}
		s.up = portsUp(&sbState{ports: all, chassis: s.chassis})
		return nil
	}
	for u, pb := range c.pbs {
		if pb == nil {
			continue
		}
		for name, up := range portsUp(&sbState{ports: []sbdb.PortBinding{s.pbs[u].binding()}, chassis: s.chassis}) {
			s.up[name] = up
		}
	}
	return nil
}

// fullRound recomputes everything from the caches, writes the SB delta,
// reports back to NB, and sets up the state for incremental rounds.
func (n *Northd) fullRound(ctx context.Context, nbc, sbc client.Client) error {
	n.inc = nil
	nb, err := readNB(ctx, nbc)
	if err != nil {
		return err
	}
	sb, err := readSB(ctx, sbc)
	if err != nil {
		return err
	}
	eng := build.NewEngineFanout(&nb.NB, &build.SB{Datapaths: sb.datapaths, PortBindings: sb.ports}, fanout)
	res := eng.Result()
	n.reportProblems(res.Problems)
	txn, err := planSB(sbc, sb, res)
	if err != nil {
		return fmt.Errorf("plan sb: %w", err)
	}
	results, err := n.writeSB(ctx, sbc, txn)
	if err != nil {
		return fmt.Errorf("write sb: %w", err)
	}
	ops := txn.heads
	n.log.Debug("full round wrote sb", "ops", len(ops), "flows", len(res.Flows))
	defer afterBulk(len(ops))
	fb := &nbFeedback{sbCfg: res.Global.NbCfg, chassis: sb.chassisPriv, hosts: sb.chassis, up: portsUp(sb),
		tags: res.Tags, defaults: n.defaults, now: int(time.Now().UnixMilli())}
	if err := writeNB(ctx, nbc, nb, fb); err != nil {
		return err
	}
	n.lastFull = time.Now()
	idx, err := waitIndex(ctx, sbc, ops, results, res)
	if err != nil {
		n.log.Debug("staying with full recomputes", "err", err)
		return nil
	}
	s := &incState{nb: nb, eng: eng, idx: idx, pbs: make(map[string]pbFacts, len(sb.ports)), up: fb.up,
		chassis: sb.chassis, chassisPriv: sb.chassisPriv, byName: make(map[string][]string, len(nb.Ports)), tags: res.Tags}
	for _, pb := range sb.ports {
		s.pbs[pb.UUID] = feedbackFacts(pb)
	}
	for u, p := range nb.Ports {
		s.addName(p.Name, u)
	}
	n.inc = s
	return nil
}

// writeNB reports fb to NB. When the port feedback touches many ports
// (after a bulk load), NB_Global (sb_cfg, hv_cfg) goes first in a
// transaction of its own: sb_cfg says that SB holds nb_cfg's content,
// which does not depend on Logical_Switch_Port.up, and updating
// thousands of ports (ovsdb-server's commit and the echo of every row
// to every NB monitor) would hold `--wait=sb` back by as long.
func writeNB(ctx context.Context, nbc client.Client, nb *nbState, fb *nbFeedback) error {
	nb, bulk, down := downInBulk(nb, fb)
	global, ports, err := planNB(nbc, nb, fb)
	if err != nil {
		return fmt.Errorf("plan nb: %w", err)
	}
	ports = append(bulk, ports...)
	if len(global) > 0 && down+len(ports) >= splitFeedback {
		if err := transact(ctx, nbc, global); err != nil {
			return fmt.Errorf("write nb: %w", err)
		}
		global = nil
	}
	if err := transact(ctx, nbc, append(global, ports...)); err != nil {
		return fmt.Errorf("write nb: %w", err)
	}
	return nil
}

// splitFeedback is the number of ports whose feedback makes writeNB
// report NB_Global first.
const splitFeedback = 100

// waitIndex waits until the SB cache holds the rows the full round
// inserted, then indexes the SB against the result it wrote.
func waitIndex(ctx context.Context, sbc client.Client, ops []opHead, results []ovsdb.OperationResult, want *build.Result) (*sbIndex, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cached(sbc, ops, results) {
			sb, err := readSB(ctx, sbc)
			if err != nil {
				return nil, err
			}
			idx, err := newSBIndex(sb, want)
			if !errors.Is(err, errIncomplete) {
				return idx, err
			}
		}
		if time.Now().After(deadline) {
			return nil, errIncomplete
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// cached reports whether every row inserted by ops is in the cache.
func cached(c client.Client, ops []opHead, results []ovsdb.OperationResult) bool {
	for i, op := range ops {
		if op.op != ovsdb.OperationInsert || i >= len(results) {
			continue
		}
		if !echoed(op.table) {
			continue
		}
		t := c.Cache().Table(op.table)
		if t == nil || t.Row(results[i].UUID.GoUUID) == nil {
			return false
		}
	}
	return true
}

// writeSB runs ops on SB as one transaction and returns the results:
// on the lock's session, behind an assert of the lock, when there is one
// (always, but for remotes it cannot dial); else through libovsdb.
func (n *Northd) writeSB(ctx context.Context, sbc client.Client, txn *sbTxn) ([]ovsdb.OperationResult, error) {
	if n.lock == nil || len(n.lock.remotes) == 0 {
		ops, err := txn.operations()
		if err != nil {
			return nil, err
		}
		return transactResults(ctx, sbc, ops)
	}
	if txn.len() == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := n.lock.transact(ctx, ovnschema.SouthboundName, txn)
	if err != nil {
		return nil, err
	}
	if err := txn.check(res); err != nil {
		return nil, err
	}
	return res, nil
}

// transactResults runs ops as one transaction and returns the results.
func transactResults(ctx context.Context, c client.Client, ops []ovsdb.Operation) ([]ovsdb.OperationResult, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.Transact(ctx, ops...)
	if err != nil {
		return nil, err
	}
	if _, err := ovsdb.CheckOperationResults(res, ops); err != nil {
		return nil, err
	}
	return res, nil
}

// addName records port u under name. A name is almost always one
// port's: a slice, not a map, per name.
func (s *incState) addName(name, u string) {
	if !slices.Contains(s.byName[name], u) {
		s.byName[name] = append(s.byName[name], u)
	}
}

// unname and name keep byName in step with the changed port rows,
// before and after they are applied.
func (s *incState) unname(rows map[string]model.Model) {
	for u := range rows {
		if p, ok := s.nb.Ports[u]; ok {
			rest := slices.DeleteFunc(s.byName[p.Name], func(x string) bool { return x == u })
			if len(rest) == 0 {
				delete(s.byName, p.Name)
			} else {
				s.byName[p.Name] = rest
			}
		}
	}
}

func (s *incState) name(rows map[string]model.Model) {
	for u := range rows {
		if p, ok := s.nb.Ports[u]; ok {
			s.addName(p.Name, u)
		}
	}
}

// feedbackPorts is the NB state planNB needs this round: NB_Global and
// the ports whose up or tag may have changed (the changed ports, those
// whose binding changed, those whose tag changed; all of them after a
// chassis change).
func (s *incState) feedbackPorts(ch build.Changes, c collected, tags map[string]int) *nbState {
	if c.chassis {
		return s.nb
	}
	sub := &nbState{NB: build.NB{Global: s.nb.Global, Ports: map[string]nbdb.LogicalSwitchPort{}}, hasGlobal: s.nb.hasGlobal}
	add := func(u string) {
		if p, ok := s.nb.Ports[u]; ok {
			sub.Ports[u] = p
		}
	}
	for u := range ch.Ports {
		add(u)
	}
	for u, pb := range c.pbs {
		names := []string{}
		if pb != nil {
			names = append(names, pb.LogicalPort)
		}
		if old, ok := s.pbsGone[u]; ok {
			names = append(names, old)
		}
		for _, n := range names {
			for _, p := range s.byName[n] {
				add(p)
			}
		}
	}
	for u, t := range tags {
		if old, ok := s.tags[u]; !ok || old != t {
			add(u)
		}
	}
	s.tags = tags
	return sub
}

// deferPorts keeps the ports of sub for the next round's feedback.
func (s *incState) deferPorts(sub *nbState) {
	if s.deferred == nil {
		s.deferred = make(map[string]bool, len(sub.Ports))
	}
	for u := range sub.Ports {
		s.deferred[u] = true
	}
}

// takeDeferred adds to sub the ports a previous round left to this one,
// as they are now.
func (s *incState) takeDeferred(sub *nbState) {
	if sub != s.nb {
		for u := range s.deferred {
			if p, ok := s.nb.Ports[u]; ok {
				sub.Ports[u] = p
			}
		}
	}
	s.deferred = nil
}

// wrote records in the NB copy what writeNB just wrote for sub, so that
// the next rounds do not write it again before the echo arrives.
func (s *incState) wrote(sub *nbState, fb *nbFeedback) {
	for u, p := range sub.Ports {
		up := fb.up[p.Name] || p.Type == "router"
		p.Up = &up
		if t, ok := fb.tags[u]; ok {
			p.Tag = &t
		}
		s.nb.Ports[u] = p
	}
	if s.nb.hasGlobal {
		g := &s.nb.Global
		if g.SbCfg != fb.sbCfg {
			g.SbCfgTimestamp = fb.now
		}
		g.Options, _ = withDefaults(g.Options, fb.defaults)
		g.SbCfg = fb.sbCfg
		g.HvCfg, g.HvCfgTimestamp = fb.hvCfg()
	}
}

// downInBulk takes out of nb the ports planNB would only report down
// for the first time (up unset, not bound, not a router port, no tag to
// write) and returns one operation that does that for all of them, and
// how many they are: after a bulk load that is thousands of operations
// fewer. The operation's
// condition (up unset, type not router) matches only such ports.
func downInBulk(nb *nbState, fb *nbFeedback) (rest *nbState, ops []ovsdb.Operation, n int) {
	var down []string
	for u, p := range nb.Ports {
		if _, tagged := fb.tags[u]; p.Up == nil && p.Type != "router" && !fb.up[p.Name] && !tagged {
			down = append(down, u)
		}
	}
	if len(down) < 2 {
		return nb, nil, 0
	}
	rest = &nbState{NB: nb.NB, hasGlobal: nb.hasGlobal}
	rest.Ports = make(map[string]nbdb.LogicalSwitchPort, len(nb.Ports)-len(down))
	for u, p := range nb.Ports {
		rest.Ports[u] = p
	}
	for _, u := range down {
		delete(rest.Ports, u)
	}
	empty, _ := ovsdb.NewOvsSet([]bool{})
	return rest, []ovsdb.Operation{{
		Op:    ovsdb.OperationUpdate,
		Table: nbdb.LogicalSwitchPortTable,
		Where: []ovsdb.Condition{
			{Column: "up", Function: ovsdb.ConditionEqual, Value: empty},
			{Column: "type", Function: ovsdb.ConditionNotEqual, Value: "router"},
		},
		Row: ovsdb.Row{"up": false},
	}}, len(down)
}

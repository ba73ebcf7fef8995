// Package northd is the northd role: it keeps OVN_Southbound in step with
// OVN_Northbound. The translation itself lives in northd/build and is pure;
// this package is the thin loop around it: it connects to both databases,
// keeps a replica of each (NB's tables through a monitor session of its
// own, nbmon.go, whose rows are decoded straight into the models; SB's
// through libovsdb's cache), rebuilds on every change, writes
// only the difference to SB in one transaction and reports progress
// (sb_cfg, hv_cfg, Logical_Switch_Port.up) back to NB.
//
// Changes are handled incrementally (incr.go): cache events name the NB
// rows that changed, the loop keeps its own NB copy current with them,
// build.Engine recomputes only the switches and port groups they touch,
// and the resulting delta is written against an index of the SB rows'
// UUIDs. The first round, a new SB, a lost lock, a failed write, changes
// the engine leaves to a full recompute (DNS, load balancers) and every
// few minutes run the full recompute instead.
//
// A bulk round (a large NB transaction) starts as soon as its update is
// decoded (each NB update reaches the tracker whole), computes its
// switches on every core (fanout.go: the engine itself starts no
// goroutine), encodes the SB transaction as it plans it (sbrows.go,
// sbdirect.go) straight onto the lock's own session (txnStream, lock.go:
// the database reads the request while the rest is planned), reads the
// reply in one pass (sbreply.go), and reports sb_cfg before it resolves
// the new rows' UUIDs and works out the ports' up feedback; that
// feedback waits for the next round when more NB changes are already in.
// Of SB's Port_Binding only bound rows are monitored (sbselect.go): the
// bindings northd inserts are not echoed back to it.
package northd

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachequeue"
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// Config is what the northd role needs.
type Config struct {
	// NB and SB are OVSDB remotes as ovn-northd takes them
	// ("unix:/path", "tcp:host:port", comma-separated for a cluster).
	NB, SB string
	// Logger is the role's logger; nil discards.
	Logger *slog.Logger
}

// Northd is the northd role.
type Northd struct {
	cfg Config
	log *slog.Logger
	// reported is the NB problems already logged, so that each is logged
	// once rather than on every round. Only the loop goroutine uses it.
	reported map[string]bool
	// defaults are NB_Global options northd fills in when missing, chosen
	// once per process as ovn-northd chooses them (random MACs).
	defaults map[string]string
	// tr collects cache events for the loop; inc is the loop's state
	// for incremental rounds (nil: the next round is full) and lastFull
	// when the last full round ran. Only the loop goroutine uses inc
	// and lastFull.
	tr       *tracker
	inc      *incState
	lastFull time.Time
	// lock is the ovn_northd lock's session, which also carries the SB
	// writes when it has a remote (sbWrite). Set by Serve.
	lock *sbLock
}

// New returns a northd role for cfg. It does not connect: Serve does.
func New(cfg Config) *Northd {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Northd{cfg: cfg, log: log, reported: map[string]bool{}, defaults: map[string]string{
		"mac_prefix":      randomMAC()[:8],
		"svc_monitor_mac": randomMAC(),
	}}
}

// randomMAC returns a random unicast, locally administered MAC.
func randomMAC() string {
	var b [6]byte
	rand.Read(b[:])
	b[0] = b[0]&0xfe | 0x02
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// Serve connects to NB and SB and keeps SB up to date until ctx ends.
func (n *Northd) Serve(ctx context.Context) error {
	nbModel, err := nbdb.FullDatabaseModel()
	if err != nil {
		return fmt.Errorf("nb model: %w", err)
	}
	sbModel, err := sbdb.FullDatabaseModel()
	if err != nil {
		return fmt.Errorf("sb model: %w", err)
	}
	kick := make(chan struct{}, 1)
	n.tr = newTracker(kick)
	var wg sync.WaitGroup
	defer wg.Wait()
	nbc, stopNB, err := n.connectNB(ctx, nbModel, kick, &wg)
	if err != nil {
		return nilOnCancel(ctx, fmt.Errorf("connect nb: %w", err))
	}
	defer nbc.Close()
	defer stopNB()
	sbc, err := n.connect(ctx, sbModel, n.cfg.SB, unmonitored, kick, func(*cache.TableCache) cache.EventHandler { return n.tr.sbHandler() })
	if err != nil {
		return nilOnCancel(ctx, fmt.Errorf("connect sb: %w", err))
	}
	defer sbc.Close()
	n.log.Info("connected", "nb", n.cfg.NB, "sb", n.cfg.SB)
	lock := &sbLock{remotes: lockable(splitRemotes(n.cfg.SB)), changed: func() { poke(kick) }, log: n.log}
	n.lock = lock
	if len(lock.remotes) == 0 {
		n.log.Warn("no unix: or tcp: sb remote to take the " + lockName + " lock on; running without standby protection")
	}
	lockCtx, stopLock := context.WithCancel(ctx)
	wg.Add(1)
	go func() { defer wg.Done(); lock.RoutineLock(lockCtx) }()
	defer stopLock()
	return n.loop(ctx, nbc, sbc, lock, kick)
}

// connectNB connects the client northd writes NB with. When every NB
// remote is unix: or tcp:, northd reads NB through a monitor session of
// its own (nbmon.go), started here on wg and stopped by stop, and the
// client monitors nothing; it returns once the replica holds NB's
// contents. Otherwise libovsdb's cache is the replica.
func (n *Northd) connectNB(ctx context.Context, m model.ClientDBModel, kick chan struct{}, wg *sync.WaitGroup) (client.Client, func(), error) {
	remotes := splitRemotes(n.cfg.NB)
	if len(lockable(remotes)) != len(remotes) {
		c, err := n.connect(ctx, m, n.cfg.NB, nil, kick, n.tr.nbHandler)
		return c, func() {}, err
	}
	rep, err := newNBReplica()
	if err != nil {
		return nil, nil, err
	}
	c, err := n.connect(ctx, m, n.cfg.NB, nil, kick, nil)
	if err != nil {
		return nil, nil, err
	}
	mon := newNBMonitor(remotes, rep, n.tr.nbUpdate, n.log)
	monCtx, stop := context.WithCancel(ctx)
	wg.Add(1)
	go func() { defer wg.Done(); mon.RoutineMonitor(monCtx) }()
	select {
	case <-mon.ready:
	case <-ctx.Done():
		stop()
		c.Close()
		return nil, nil, ctx.Err()
	}
	return &nbClient{Client: c, rep: rep}, stop, nil
}

func splitRemotes(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(r))
	}
	return out
}

// poke wakes the loop without blocking; one pending wake-up is enough.
func poke(kick chan struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}

func nilOnCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// loop rebuilds whenever a cache changes. A failed round is retried after
// a second even without a change, since the failure may be transient.
// Only the holder of the ovn_northd lock writes; the others stand by.
func (n *Northd) loop(ctx context.Context, nbc, sbc client.Client, lock *sbLock, kick chan struct{}) error {
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	active := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-retry.C:
		}
		if held := lock.Held(); held != active {
			active = held
			n.inc = nil // what SB holds now is not known
			n.log.Info("lock "+lockName, "held", held)
		}
		if !active {
			continue
		}
		if err := n.round(ctx, nbc, sbc); err != nil && ctx.Err() == nil {
			n.log.Warn("sync failed", "err", err)
			retry.Reset(time.Second)
		}
	}
}

// connect opens a reconnecting client monitoring the tables of m but
// skip, whose cache changes go to events (which pokes kick); with nil
// events it monitors nothing.
func (n *Northd) connect(ctx context.Context, m model.ClientDBModel, remote string, skip []string, kick chan struct{}, events func(*cache.TableCache) cache.EventHandler) (client.Client, error) {
	// A lost cache event (libovsdb's queue full, as a huge NB
	// transaction can make it) costs a full round instead of SB rows
	// that miss the change.
	lg := logr.FromSlogHandler(cachequeue.WatchDrops(n.log.Handler(), n.tr.dropped)).V(4)
	opts := []client.Option{client.WithLogger(&lg), client.WithReconnect(2*time.Second, newBackoff())}
	for _, ep := range splitRemotes(remote) {
		opts = append(opts, client.WithEndpoint(ep))
	}
	c, err := client.NewOVSDBClient(m, opts...)
	if err != nil {
		return nil, err
	}
	for {
		if err = c.Connect(ctx); err == nil {
			break
		}
		n.log.Debug("connect", "remote", remote, "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(500 * time.Millisecond):
		}
	}
	if events == nil {
		return c, nil
	}
	c.Cache().AddEventHandler(events(c.Cache()))
	if err := monitor(ctx, c, m, skip); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	poke(kick)
	return c, nil
}

// reportProblems logs NB rows the build skipped, each once while it lasts.
func (n *Northd) reportProblems(problems []string) {
	now := map[string]bool{}
	for _, p := range problems {
		now[p] = true
		if !n.reported[p] {
			n.log.Warn("skipped nb row", "problem", p)
		}
	}
	n.reported = now
}

// transact runs ops as one transaction and reports any failed operation.
func transact(ctx context.Context, c client.Client, ops []ovsdb.Operation) error {
	if len(ops) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := c.Transact(ctx, ops...)
	if err != nil {
		return err
	}
	_, err = ovsdb.CheckOperationResults(res, ops)
	return err
}

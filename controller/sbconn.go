package controller

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/controller/chassis"
	"github.com/ovnd/ovnd/controller/sbreplica"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// The controller reads the SB over two connections to the same remote.
// libovsdb's client monitors the tables the chassis manager and pinctrl
// read (and writes everything); sbreplica holds the big read-only tables
// the flows come from, decoded without libovsdb's copies. The two are
// not mutually consistent: an lflow may name a port the client does not
// have yet. The reverse index recompiles such an lflow when the port
// arrives, as it does for any reference that changes.

// The replica also holds SB_Global's nb_cfg, for nb_cfg reporting: each
// connection delivers transactions in order, so once both have seen
// nb_cfg N both hold every change N stands for (see loop.report).

// clientTables are the SB tables libovsdb's client monitors:
// chassis.Manager's (SB_Global, Chassis, Encap, Chassis_Private,
// Port_Binding, Datapath_Binding, HA_Chassis_Group, HA_Chassis), and
// pinctrl's (MAC_Binding, DNS, FDB, with Port_Binding and
// Datapath_Binding).
func clientTables() []model.Model {
	return []model.Model{&sbdb.SBGlobal{}, &sbdb.Chassis{}, &sbdb.Encap{}, &sbdb.ChassisPrivate{},
		&sbdb.PortBinding{}, &sbdb.DatapathBinding{}, &sbdb.HAChassisGroup{}, &sbdb.HAChassis{},
		&sbdb.MACBinding{}, &sbdb.DNS{}, &sbdb.FDB{}}
}

// lflowColumns are the Logical_Flow columns the controller reads: all
// but external_ids, which only says where in northd an lflow came from.
var lflowColumns = []string{"logical_datapath", "logical_dp_group", "pipeline", "table_id", "priority",
	"match", "actions", "tags", "controller_meter"}

// replicaSpecs are the SB tables the replica holds for the view.
var replicaSpecs = []sbreplica.Spec{
	{Table: sbdb.LogicalFlowTable, Columns: lflowColumns},
	{Table: sbdb.LogicalDPGroupTable}, {Table: sbdb.MulticastGroupTable}, {Table: sbdb.PortGroupTable},
	{Table: sbdb.AddressSetTable}, {Table: sbdb.LoadBalancerTable}, {Table: sbdb.StaticMACBindingTable},
	{Table: sbdb.MeterTable},
}

// lflowParts split the replica's first load of Logical_Flow by
// table_id (sbreplica.LoadInParts), so that the server builds each part
// while the loop compiles the one before; nothing is installed until
// the last is in (loop.publish). The other tables come with the first
// part, so that every lflow compiles against all the port groups,
// address sets, multicast groups and datapath groups it names. Where
// OVN puts per-port lflows (22,001 of 57,661 in ls_in_arp_rsp, 19, in
// bench/controllerbench's SB; 12,003 in ls_in_l2_lkup, 25; 10,007 in
// lr_in_arp_resolve, 17; 8,509 in lr_in_ip_input, 3) cuts them into
// about a fifth (tables 0-11), two fifths (19), a fifth (12-18) and a
// fifth (20 and up): the biggest part is built while the loop loads
// its view and compiles the first, the longest round, and each later
// part is no bigger than the one the loop compiles meanwhile.
var lflowParts = []sbreplica.Part{
	{sbdb.LogicalFlowTable: {{Column: "table_id", Function: "<", Value: 12}}},
	{sbdb.LogicalFlowTable: {{Column: "table_id", Function: "==", Value: 19}}},
	{sbdb.LogicalFlowTable: {{Column: "table_id", Function: "<", Value: 19}}},
}

// loadInParts reports whether the replica loads from remote in parts:
// only from servers on other machines (tcp:, ssl:), which build a part
// while this one compiles the one before. A server on this machine
// (unix:) shares its cores with the compile, so the work only moves
// around, and the parts cost the server and the loop more than one
// load: in bench/controllerbench on 2 cores (ovsdb-server, ovnd and
// ovs-vswitchd on the same machine) the load in parts ended later
// (9.1 s against 7.6 s to installed in the quietest interleaved pair;
// the server's parts took 6.4 s against 2.5 s for one reply, built
// while the loop compiled on both cores). forceParts (tests) loads in
// parts from any remote.
func (l *loop) loadInParts(remote string) bool {
	if l.forceParts {
		return true
	}
	for _, ep := range strings.Split(remote, ",") {
		if kind, _, _ := strings.Cut(strings.TrimSpace(ep), ":"); kind != "tcp" && kind != "ssl" {
			return false
		}
	}
	return true
}

// isReplicaTable reports whether the replica holds table.
func isReplicaTable(table string) bool {
	for _, s := range replicaSpecs {
		if s.Table == table {
			return true
		}
	}
	return false
}

// sbClient returns the SB client and replica for cfg's remote and probe
// interval, starting both connections (in the background, so that a
// dead SB does not stop the loop) when either is new or changed. The
// client is nil until it is connected and monitoring.
func (l *loop) sbClient(ctx context.Context, cfg chassis.Config) (client.Client, *sbreplica.Replica) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := cfg.Remote + "|" + strconv.FormatInt(int64(cfg.ProbeInterval), 10)
	if key == l.sbRemote {
		return l.sb, l.replica
	}
	if l.sbCancel != nil {
		l.sbCancel()
	}
	if l.sb != nil {
		l.sb.Close()
		l.sb = nil
	}
	l.replica = nil
	l.mgr, l.view, l.sbCaches = nil, nil, nil
	l.sbChanges.setFull()
	l.sbRemote = key
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		l.logOnce("southbound model", err)
		return nil, nil
	}
	specs := append(slices.Clone(replicaSpecs), sbreplica.Spec{Table: sbdb.SBGlobalTable, Columns: []string{"nb_cfg"}})
	rep, err := sbreplica.New(l.c.log.With("component", "sbreplica"), m, sbdb.Schema(), specs)
	if err == nil && l.loadInParts(cfg.Remote) {
		err = rep.LoadInParts(lflowParts...)
	}
	if err != nil {
		l.logOnce("southbound replica", err)
		return nil, nil
	}
	l.replica = rep
	beginBulkGC() // both connections start with a whole copy of their tables
	cctx, cancel := context.WithCancel(ctx)
	l.sbCancel = cancel
	l.sbWG.Add(2)
	go func() {
		defer l.sbWG.Done()
		// ovn-controller has no SSL settings of its own in
		// external_ids; ssl: remotes need the key and certificates
		// that neither connection is given yet.
		rep.Run(cctx, cfg.Remote, nil, cfg.ProbeInterval, func() { poke(l.kick) })
	}()
	go func() {
		defer l.sbWG.Done()
		c, err := connect(cctx, l.c.log, m, cfg.Remote, cfg.ProbeInterval, clientTables(), l.sbChanges, l.kick)
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
	return nil, nil
}

// sbSnapshot takes the replica's changes into pendSB and returns a
// source for the view: the replica's rows that the view will read this
// round (every row when the view is loaded anew, the changed ones
// otherwise), copied out under Read so that the replica is not held
// while flows compile, and libovsdb's cache for the other tables. It
// returns false while the replica is not connected; l.replicaSynced
// says whether the rows are all of a load in parts or only some.
func (l *loop) sbSnapshot(sb client.Client, rep *sbreplica.Replica, st *chassis.State) (sbSource, bool) {
	// Synced first, changes second: once synced, every part of the load
	// is among the changes taken now or before (sbreplica.Synced).
	l.replicaSynced = rep.Synced()
	if !rep.Connected() {
		return nil, false
	}
	src := &mixSource{cache: cacheSource{sb}, snap: map[string]map[string]model.Model{}}
	// Changes first, rows second: a change in between shows in the rows
	// now and is taken (and its row read again) next round.
	l.pendSB.merge(changeSet(rep.TakeChanges()))
	rep.Read(func(v sbreplica.View) {
		l.replicaNbCfg = -1
		for _, g := range sbreplica.Rows[sbdb.SBGlobal](v, sbdb.SBGlobalTable) {
			l.replicaNbCfg = int64(g.NbCfg)
		}
		full := l.pendSB.Full || l.view == nil || l.view.chassis != st.Chassis
		for _, s := range replicaSpecs {
			t := s.Table
			if full {
				src.snap[t] = maps.Clone(v.Table(t))
				continue
			}
			ids := l.pendSB.Tables[t]
			rows := make(map[string]model.Model, len(ids))
			for id := range ids {
				if m, ok := v.Get(t, id); ok {
					rows[id] = m
				}
			}
			src.snap[t] = rows
		}
	})
	return src, true
}

// mixSource reads the replica's tables from a snapshot and the others
// from libovsdb's cache.
type mixSource struct {
	cache cacheSource
	snap  map[string]map[string]model.Model
}

func (s *mixSource) Table(name string) map[string]model.Model {
	if isReplicaTable(name) {
		return s.snap[name]
	}
	return s.cache.Table(name)
}

func (s *mixSource) Get(table, uuid string) (model.Model, bool) {
	if isReplicaTable(table) {
		m, ok := s.snap[table][uuid]
		return m, ok
	}
	return s.cache.Get(table, uuid)
}

// cacheSource reads rows from a libovsdb client's cache.
type cacheSource struct{ c client.Client }

func (s cacheSource) Table(name string) map[string]model.Model {
	if c := s.c.Cache(); c != nil {
		if t := c.Table(name); t != nil {
			return t.RowsShallow()
		}
	}
	return nil
}

// Get returns a copy of the row (libovsdb has no uncopied single-row
// read); the view takes only the few rows that changed this way.
func (s cacheSource) Get(table, uuid string) (model.Model, bool) {
	if c := s.c.Cache(); c != nil {
		if t := c.Table(table); t != nil {
			if m := t.Row(uuid); m != nil {
				return m, true
			}
		}
	}
	return nil, false
}

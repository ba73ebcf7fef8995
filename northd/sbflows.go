package northd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/northd/build"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// flowID identifies a Logical_Flow by content: where it applies (sorted
// datapath UUIDs) and what it is.
func flowID(dps []string, pipeline string, table, prio int, match, actions string) string {
	dps = slices.Clone(dps)
	slices.Sort(dps)
	return fmt.Sprintf("%s|%s|%d|%d|%s|%s", strings.Join(dps, ","), pipeline, table, prio, match, actions)
}

// flows syncs Logical_Flow and Logical_DP_Group. Flows are immutable:
// changed flows are deleted and inserted. Datapath groups are reused when
// their datapath set matches; unreferenced groups are garbage collected
// by the database (Logical_DP_Group is not a root table).
func (p *sbPlan) flows(want []build.Flow) {
	groupDPs := map[string][]string{}
	for _, g := range p.cur.dpGroups {
		groupDPs[g.UUID] = g.Datapaths
	}
	byFlows := map[string]bool{}
	for _, f := range p.cur.flows {
		if f.LogicalDpGroup != nil {
			byFlows[*f.LogicalDpGroup] = true
		}
	}
	p.flowGroups = newDPGroups(p.cur.dpGroups, func(u string) bool { return byFlows[u] })
	cur := map[string]string{} // flow ID → UUID
	for _, f := range p.cur.flows {
		var dps []string
		switch {
		case f.LogicalDatapath != nil:
			dps = []string{*f.LogicalDatapath}
		case f.LogicalDpGroup != nil:
			dps = groupDPs[*f.LogicalDpGroup]
		}
		id := flowID(dps, string(f.Pipeline), f.TableID, f.Priority, f.Match, f.Actions)
		if _, dup := cur[id]; dup {
			p.encoded(deleteOp(sbdb.LogicalFlowTable, f.UUID))
			continue
		}
		cur[id] = f.UUID
	}
	for _, w := range want {
		var dps []string
		for _, k := range w.Datapaths {
			dps = append(dps, p.dp[k])
		}
		id := flowID(dps, string(w.Stage.Pipeline), w.Stage.Table, w.Priority, w.Match, w.Actions)
		if _, ok := cur[id]; ok {
			delete(cur, id)
			continue
		}
		p.insertFlow(w, dps)
	}
	for _, u := range cur {
		p.encoded(deleteOp(sbdb.LogicalFlowTable, u))
	}
}

func (p *sbPlan) insertFlow(w build.Flow, dps []string) {
	f := sbdb.LogicalFlow{
		UUID:        p.named(),
		Pipeline:    sbdb.LogicalFlowPipeline(w.Stage.Pipeline),
		TableID:     w.Stage.Table,
		Priority:    w.Priority,
		Match:       w.Match,
		Actions:     w.Actions,
		ExternalIDs: p.stageIDs.of(w.Stage.Name),
	}
	if len(dps) == 1 {
		f.LogicalDatapath = &dps[0]
	} else {
		g := p.group(p.flowGroups, dps)
		f.LogicalDpGroup = &g
	}
	p.encodedFlow(&f)
}

// dpGroups is one family of Logical_DP_Group rows, by sorted datapath
// set. ovn-northd 23.03 keeps logical flows' groups apart from load
// balancers' groups, even for the same set of switches.
type dpGroups map[string]string

// newDPGroups indexes the existing groups that used(group UUID) claims.
func newDPGroups(cur []sbdb.LogicalDPGroup, used func(string) bool) dpGroups {
	gs := dpGroups{}
	for _, g := range cur {
		if used(g.UUID) {
			gs[setKey(g.Datapaths)] = g.UUID
		}
	}
	return gs
}

// group returns the group in gs for the datapath set dps, reusing an
// existing one or creating it in this transaction.
func (p *sbPlan) group(gs dpGroups, dps []string) string {
	k := setKey(dps)
	g, ok := gs[k]
	if !ok {
		g = p.named()
		p.encoded(insertDPGroup(&sbdb.LogicalDPGroup{UUID: g, Datapaths: dps}))
		gs[k] = g
	}
	return g
}

func setKey(s []string) string {
	s = slices.Clone(s)
	slices.Sort(s)
	return strings.Join(s, ",")
}

// stageIDs is the external_ids of the logical flows of each stage,
// shared by a plan's flows (which only encode them) rather than one map
// a flow.
type stageIDs map[string]map[string]string

func (s *stageIDs) of(stage string) map[string]string {
	if *s == nil {
		*s = map[string]map[string]string{}
	}
	ids := (*s)[stage]
	if ids == nil {
		ids = map[string]string{"stage-name": stage}
		(*s)[stage] = ids
	}
	return ids
}

package build

import (
	"cmp"
	"slices"
)

// Flow is one Logical_Flow: applied to one datapath, or to a
// Logical_DP_Group when Datapaths has more than one key.
type Flow struct {
	Stage     Stage
	Priority  int
	Match     string
	Actions   string
	Datapaths []int
}

// flowKey is a flow's identity without its datapaths. It names the
// stage by number (stageID) rather than holding it: the engine keeps a
// key per flow and switch and hashes keys by the hundred thousand, and
// a Stage is two more strings to store and hash.
type flowKey struct {
	match, actions string
	priority       int32 // OVN priorities are 0..65535
	stage          stageID
}

// flow is the Flow k describes on datapaths dps.
func (k flowKey) flow(dps []int) Flow {
	return Flow{k.stage.stage(), int(k.priority), k.match, k.actions, dps}
}

// flowSet collects flows per datapath and merges identical flows across
// datapaths, as ovn-northd does with datapath groups.
type flowSet struct {
	dps   map[flowKey][]int
	order []flowKey
}

func newFlowSet() *flowSet { return &flowSet{dps: map[flowKey][]int{}} }

// newFlowSetFor is a flow set sized for one switch with ports ports
// (about 60 flows a switch has in any case, a few more a port), so that
// it is not grown by doubling.
func newFlowSetFor(ports int) *flowSet {
	n := 64 + 6*ports
	return &flowSet{dps: make(map[flowKey][]int, n), order: make([]flowKey, 0, n)}
}

// add adds one flow on datapath dp; adding the same flow twice is a no-op.
func (s *flowSet) add(dp int, st Stage, prio int, match, actions string) {
	k := flowKey{match, actions, int32(prio), idOf(st)}
	dps, seen := s.dps[k]
	if !seen {
		s.order = append(s.order, k)
	}
	if !slices.Contains(dps, dp) {
		s.dps[k] = append(dps, dp)
	}
}

// flows returns the merged flows in a stable order.
func (s *flowSet) flows() []Flow {
	out := make([]Flow, 0, len(s.order))
	for _, k := range s.order {
		dps := slices.Clone(s.dps[k])
		slices.Sort(dps)
		out = append(out, k.flow(dps))
	}
	slices.SortFunc(out, compareFlows)
	return out
}

func compareFlows(a, b Flow) int {
	return cmp.Or(
		cmp.Compare(a.Stage.Pipeline.rank(), b.Stage.Pipeline.rank()),
		cmp.Compare(a.Stage.Table, b.Stage.Table),
		cmp.Compare(b.Priority, a.Priority),
		cmp.Compare(a.Match, b.Match),
		cmp.Compare(a.Actions, b.Actions),
		slices.Compare(a.Datapaths, b.Datapaths),
	)
}

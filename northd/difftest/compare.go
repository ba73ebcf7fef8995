package difftest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Flow is one lflow-list line with the datapath it was listed under.
type Flow struct {
	Datapath string // the switch name
	Stage    string // e.g. ls_in_l2_lkup
	Line     string // the line as printed, without leading spaces
}

var (
	headRE  = regexp.MustCompile(`^Datapath: "?([^"]*)"? \([0-9a-f-]+\)  Pipeline: (\w+)$`)
	stageRE = regexp.MustCompile(`^table=\s*\d+\s*\((\S+)\s*\)`)
)

// ParseLflowList splits `ovn-sbctl lflow-list` output into flows. Datapath
// UUIDs are dropped: they differ between any two databases.
func ParseLflowList(out string) []Flow {
	var flows []Flow
	dp := ""
	for _, l := range strings.Split(out, "\n") {
		if m := headRE.FindStringSubmatch(l); m != nil {
			dp = m[1]
			continue
		}
		l = strings.TrimSpace(l)
		if m := stageRE.FindStringSubmatch(l); m != nil {
			flows = append(flows, Flow{dp, m[1], l})
		}
	}
	return flows
}

// StageDiff is the comparison of one stage.
type StageDiff struct {
	Stage     string
	Identical int
	Missing   []string // in the real ovn-northd's SB only
	Extra     []string // in ovnd's SB only
}

// Compare matches flows of the real ovn-northd (want) against ovnd's
// (got), per stage, in order of first appearance.
func Compare(want, got []Flow) []StageDiff {
	var order []string
	byStage := map[string]*StageDiff{}
	stage := func(s string) *StageDiff {
		if d, ok := byStage[s]; ok {
			return d
		}
		order = append(order, s)
		byStage[s] = &StageDiff{Stage: s}
		return byStage[s]
	}
	count := map[Flow]int{}
	for _, f := range got {
		count[f]++
	}
	for _, f := range want {
		d := stage(f.Stage)
		if count[f] > 0 {
			count[f]--
			d.Identical++
		} else {
			d.Missing = append(d.Missing, f.Datapath+": "+f.Line)
		}
	}
	for _, f := range got {
		if count[f] > 0 {
			count[f]--
			d := stage(f.Stage)
			d.Extra = append(d.Extra, f.Datapath+": "+f.Line)
		}
	}
	out := make([]StageDiff, 0, len(order))
	for _, s := range order {
		out = append(out, *byStage[s])
	}
	return out
}

// Report renders a comparison: a summary line per stage, then the
// differing flows.
func Report(diffs []StageDiff) string {
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "%-24s identical=%d missing=%d extra=%d\n", d.Stage, d.Identical, len(d.Missing), len(d.Extra))
	}
	for _, d := range diffs {
		for _, m := range slices.Sorted(slices.Values(d.Missing)) {
			b.WriteString("- " + m + "\n")
		}
		for _, e := range slices.Sorted(slices.Values(d.Extra)) {
			b.WriteString("+ " + e + "\n")
		}
	}
	return b.String()
}

// Clean reports whether every stage is identical.
func Clean(diffs []StageDiff) bool {
	return !slices.ContainsFunc(diffs, func(d StageDiff) bool { return len(d.Missing)+len(d.Extra) > 0 })
}

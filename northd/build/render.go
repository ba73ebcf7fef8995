package build

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Render prints flows as `ovn-sbctl lflow-list` does, one block per
// datapath and pipeline, with the datapath's UUID left out (it is not
// stable). names maps datapath tunnel keys to switch names.
func Render(flows []Flow, names map[int]string) string {
	type row struct {
		dp   int
		flow Flow
	}
	var rows []row
	for _, f := range flows {
		for _, dp := range f.Datapaths {
			rows = append(rows, row{dp, f})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(names[a.dp], names[b.dp]), cmp.Compare(a.dp, b.dp), compareFlows(a.flow, b.flow))
	})
	var b strings.Builder
	last := ""
	for _, r := range rows {
		head := fmt.Sprintf("Datapath: %q  Pipeline: %s", names[r.dp], r.flow.Stage.Pipeline)
		if head != last {
			b.WriteString(head + "\n")
			last = head
		}
		b.WriteString(FlowLine(r.flow.Stage, r.flow.Priority, r.flow.Match, r.flow.Actions) + "\n")
	}
	return b.String()
}

// FlowLine renders one flow as a line of `ovn-sbctl lflow-list`.
func FlowLine(st Stage, prio int, match, actions string) string {
	return fmt.Sprintf("  table=%-2d(%-19s), priority=%-5d, match=(%s), action=(%s)", st.Table, st.Name, prio, match, actions)
}

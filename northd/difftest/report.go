package difftest

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Result is one scenario run through both northds.
type Result struct {
	Name  string
	Diffs []StageDiff
	// Tables are the other SB tables (SBTables) and NB port columns
	// that differ, each with its diff.
	Tables []TableDiff
	// FlowRows are the Logical_Flow row counts: they agree only when
	// ovnd groups flows into datapath groups as ovn-northd does.
	RealFlowRows, OurFlowRows int
}

// TableDiff is one SB table (or NB column set) whose rows differ.
type TableDiff struct {
	Table, Diff string
}

// Totals sums the per-stage counts.
func (r *Result) Totals() (identical, missing, extra int) {
	for _, d := range r.Diffs {
		identical += d.Identical
		missing += len(d.Missing)
		extra += len(d.Extra)
	}
	return identical, missing, extra
}

// Clean reports whether flows, the other tables and the flow row counts
// all agree.
func (r *Result) Clean() bool {
	return Clean(r.Diffs) && len(r.Tables) == 0 && r.RealFlowRows == r.OurFlowRows
}

// Run applies cmds to both NBs, waits for both northds and compares
// everything Result holds.
func (e *Env) Run(ctx context.Context, name string, cmds [][]string) (*Result, error) {
	for _, c := range cmds {
		if err := e.NBCtl(ctx, c...); err != nil {
			return nil, err
		}
	}
	if err := e.Sync(ctx); err != nil {
		return nil, err
	}
	r := &Result{Name: name}
	var err error
	if r.Diffs, err = e.Diff(ctx); err != nil {
		return nil, err
	}
	if r.Tables, err = e.TableDiffs(ctx); err != nil {
		return nil, err
	}
	if r.RealFlowRows, err = FlowRows(ctx, e.RealSB); err != nil {
		return nil, err
	}
	if r.OurFlowRows, err = FlowRows(ctx, e.OurSB); err != nil {
		return nil, err
	}
	return r, nil
}

// TableDiffs compares the SBTables and what northd writes back to NB.
func (e *Env) TableDiffs(ctx context.Context) ([]TableDiff, error) {
	var out []TableDiff
	for _, tb := range SBTables {
		want, err := Rows(ctx, e.RealSB, tb.Table, tb.Columns)
		if err != nil {
			return nil, err
		}
		got, err := Rows(ctx, e.OurSB, tb.Table, tb.Columns)
		if err != nil {
			return nil, err
		}
		if d := rowDiff(want, got); d != "" {
			out = append(out, TableDiff{tb.Table + " (" + tb.Columns + ")", d})
		}
	}
	want, err := NBPorts(ctx, e.RealNB)
	if err != nil {
		return nil, err
	}
	got, err := NBPorts(ctx, e.OurNB)
	if err != nil {
		return nil, err
	}
	if d := rowDiff(want, got); d != "" {
		out = append(out, TableDiff{"NB Logical_Switch_Port (name,up,tag)", d})
	}
	return out, nil
}

// rowDiff lists the rows only in want ("- ") and only in got ("+ "),
// sorted, at most maxListed of each; "" when both hold the same rows.
func rowDiff(want, got []string) string {
	count := map[string]int{}
	for _, r := range got {
		count[r]++
	}
	var missing, extra []string
	for _, r := range want {
		if count[r] > 0 {
			count[r]--
		} else {
			missing = append(missing, r)
		}
	}
	for _, r := range got {
		if count[r] > 0 {
			count[r]--
			extra = append(extra, r)
		}
	}
	var b strings.Builder
	for _, side := range []struct {
		sign string
		rows []string
	}{{"- ", missing}, {"+ ", extra}} {
		slices.Sort(side.rows)
		for i, r := range side.rows {
			if i == maxListed {
				fmt.Fprintf(&b, "%s... and %d more\n", side.sign, len(side.rows)-maxListed)
				break
			}
			b.WriteString(side.sign + r + "\n")
		}
	}
	return b.String()
}

// maxListed caps the differing flows listed per scenario in Markdown.
const maxListed = 40

// Markdown renders results as a report: a summary table, then each
// scenario's per-stage counts and, where they differ, the flows and
// tables that do. header goes first, as it is.
func Markdown(header string, results []*Result) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\n| scenario | result | ovn-northd flows | identical | missing | extra | Logical_Flow rows (ovn-northd / ovnd) | other tables |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		id, miss, extra := r.Totals()
		verdict := "identical"
		if !r.Clean() {
			verdict = "**differs**"
		}
		tables := "identical"
		if len(r.Tables) > 0 {
			var names []string
			for _, t := range r.Tables {
				names = append(names, t.Table)
			}
			tables = strings.Join(names, "; ")
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %d | %d | %d | %d | %d / %d | %s |\n", r.Name, anchor(r.Name), verdict,
			id+miss, id, miss, extra, r.RealFlowRows, r.OurFlowRows, tables)
	}
	for _, r := range results {
		b.WriteString("\n## " + r.Name + "\n\n")
		b.WriteString("| stage | identical | missing | extra |\n|---|---|---|---|\n")
		for _, d := range r.Diffs {
			fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", d.Stage, d.Identical, len(d.Missing), len(d.Extra))
		}
		listDiffs(&b, r)
	}
	return b.String()
}

// listDiffs writes a scenario's differing flows (up to maxListed) and
// tables.
func listDiffs(b *strings.Builder, r *Result) {
	var lines []string
	for _, d := range r.Diffs {
		for _, m := range slices.Sorted(slices.Values(d.Missing)) {
			lines = append(lines, "- "+m)
		}
		for _, e := range slices.Sorted(slices.Values(d.Extra)) {
			lines = append(lines, "+ "+e)
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\nFlows only in ovn-northd's SB (-) and only in ovnd's (+)")
		if len(lines) > maxListed {
			fmt.Fprintf(b, ", the first %d of %d", maxListed, len(lines))
			lines = lines[:maxListed]
		}
		b.WriteString(":\n\n```\n" + strings.Join(lines, "\n") + "\n```\n")
	}
	for _, t := range r.Tables {
		fmt.Fprintf(b, "\n%s (-ovn-northd +ovnd):\n\n```\n%s```\n", t.Table, t.Diff)
	}
}

// anchor is the GitHub heading anchor of a scenario name.
func anchor(s string) string {
	s = strings.ToLower(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r == ' ':
			return '-'
		}
		return -1
	}, s)
}

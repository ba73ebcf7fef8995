package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// metric is one figure measured on one server.
type metric struct {
	label        string // what was measured, e.g. "insert, 1 client: throughput"
	unit         string
	value        float64
	higherBetter bool
	// target is the ovnd/ovsdb-server ratio to reach: at least target if
	// higherBetter, at most target otherwise. Zero means no target.
	target float64
}

// row is one line of the table: the same metric on both sides.
type row struct {
	label, unit string
	base, ovnd  *metric // nil where the side was not run or failed
	higher      bool
	target      float64
}

// buildRows joins the two sides' metrics by label, keeping first-seen order.
func buildRows(base, ovnd []metric) []row {
	var rows []row
	index := map[string]int{}
	add := func(m metric, isOvnd bool) {
		i, ok := index[m.label]
		if !ok {
			i = len(rows)
			index[m.label] = i
			rows = append(rows, row{label: m.label, unit: m.unit, higher: m.higherBetter, target: m.target})
		}
		if isOvnd {
			rows[i].ovnd = &m
		} else {
			rows[i].base = &m
		}
	}
	for _, m := range base {
		add(m, false)
	}
	for _, m := range ovnd {
		add(m, true)
	}
	return rows
}

// cells renders a row: metric, unit, ovsdb-server, ovnd, ratio, target, met.
func (r row) cells() []string {
	value := func(m *metric) string {
		if m == nil {
			return "—"
		}
		return formatValue(m.value)
	}
	ratio, target, met := "—", "—", "—"
	if r.target > 0 {
		op := "≤"
		if r.higher {
			op = "≥"
		}
		target = fmt.Sprintf("%s %.2fx", op, r.target)
	}
	if r.base != nil && r.ovnd != nil && r.base.value > 0 {
		// Judge the ratio as printed, so that "1.00x" never fails "≤ 1.00x".
		x := math.Round(r.ovnd.value/r.base.value*100) / 100
		ratio = fmt.Sprintf("%.2fx", x)
		if r.target > 0 {
			met = "no"
			if (r.higher && x >= r.target) || (!r.higher && x <= r.target) {
				met = "yes"
			}
		}
	}
	return []string{r.label, r.unit, value(r.base), value(r.ovnd), ratio, target, met}
}

func formatValue(v float64) string {
	switch {
	case v >= 1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func groupThousands(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

var tableHeader = []string{"measurement", "unit", sideOvsdbServer, sideOvnd, "ovnd/ovsdb-server", "target", "met"}

// baselineHeader heads the table of -baseline runs, where another ovnd
// build fills ovsdb-server's column (the targets still apply to
// ovsdb-server only).
var baselineHeader = []string{"measurement", "unit", "ovnd baseline", sideOvnd, "ovnd/baseline", "target (vs ovsdb-server)", "met (vs baseline)"}

// writeTable prints rows aligned for a terminal or as a Markdown table.
func writeTable(w io.Writer, tableHeader []string, rows []row, markdown bool) error {
	if markdown {
		fmt.Fprintf(w, "| %s |\n", strings.Join(tableHeader, " | "))
		fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(tableHeader)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r.cells(), " | "))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t\n", strings.Join(tableHeader, "\t"))
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t\n", strings.Join(r.cells(), "\t"))
	}
	return tw.Flush()
}

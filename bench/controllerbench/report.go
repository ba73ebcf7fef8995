package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// metric is one row of the table. target is the highest ratio ovnd /
// ovn-controller the issue accepts, 0 for none.
type metric struct {
	key, label, unit string
	target           float64
}

var metrics = []metric{
	{"installed", "start → flows installed (all ports ovn-installed, flow count stable)", "s", 0.5},
	{"ports", "start → all local ports ovn-installed", "s", 0},
	{"cpu", "controller CPU time, start → flows installed", "s", 0},
	{"flows", "OpenFlow flows on br-int", "flows", 1.0},
	{"rss", "controller VmRSS when installed", "MiB", 0.5},
	{"rssEnd", "controller VmRSS at the end", "MiB", 0},
	{"hwm", "controller VmHWM at the end", "MiB", 0.5},
	{"add", "lsp-add --wait=hv", "ms", 0},
	{"ping", "lsp-add --wait=hv + plug → first ping", "ms", 0.5},
	// The controller's own share of the above: after --wait=hv the
	// central (ovn-northd) has done its part; binding the VIF, claiming
	// the port and installing its flows are the controller's.
	{"plug", "plug (VIF bound after --wait=hv) → first ping", "ms", 0},
	{"addCPU", "controller CPU per added port (lsp-add, plug, ping)", "ms", 0},
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medians takes each figure's median over the rounds separately; missing
// figures stay missing.
func medians(rounds []figures) figures {
	out := figures{}
	for _, m := range metrics {
		var v []float64
		for _, r := range rounds {
			if x, ok := r[m.key]; ok {
				v = append(v, x)
			}
		}
		if len(v) > 0 {
			out[m.key] = medianOf(v)
		}
	}
	return out
}

// cells renders one metric for both sides: values, ratio, target, met.
func cells(m metric, ovn, ovnd figures) []string {
	num := func(f figures) string {
		v, ok := f[m.key]
		if !ok {
			return "—"
		}
		return format(v)
	}
	c := []string{m.label, m.unit, num(ovn), num(ovnd), "—", "—", "—"}
	a, okA := ovn[m.key]
	b, okB := ovnd[m.key]
	if m.target > 0 {
		c[5] = fmt.Sprintf("≤ %.2fx", m.target)
	}
	if okA && okB && a > 0 {
		ratio := b / a
		c[4] = fmt.Sprintf("%.2fx", ratio)
		if m.target > 0 {
			c[6] = map[bool]string{true: "yes", false: "no"}[ratio <= m.target+1e-9]
		}
	}
	return c
}

// format prints a figure with three significant digits, thousands apart.
func format(v float64) string {
	switch {
	case v >= 1000:
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		return b.String()
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

var header = []string{"figure", "unit", sideOVN, sideOvnd, "ovnd/ovn-controller", "target", "met"}

func writeReport(w io.Writer, ovn, ovnd figures, markdown bool) {
	if markdown {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, m := range metrics {
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells(m, ovn, ovnd), " | "))
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, m := range metrics {
		fmt.Fprintln(tw, strings.Join(cells(m, ovn, ovnd), "\t"))
	}
	tw.Flush()
}

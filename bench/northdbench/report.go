package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// percentile is the nearest-rank p-th percentile of d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// median takes each figure's median over rounds separately; nil for no
// rounds.
func median(rs []result) *result {
	if len(rs) == 0 {
		return nil
	}
	mid := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	dur := func(f func(result) time.Duration) time.Duration {
		return time.Duration(mid(func(r result) float64 { return float64(f(r)) }))
	}
	return &result{
		flows:    int(mid(func(r result) float64 { return float64(r.flows) })),
		bindings: int(mid(func(r result) float64 { return float64(r.bindings) })),
		load:     dur(func(r result) time.Duration { return r.load }),
		converge: dur(func(r result) time.Duration { return r.converge }),
		addP50:   dur(func(r result) time.Duration { return r.addP50 }),
		addP90:   dur(func(r result) time.Duration { return r.addP90 }),
		floorP50: dur(func(r result) time.Duration { return r.floorP50 }),
		rpcP50:   dur(func(r result) time.Duration { return r.rpcP50 }),
		rpcP90:   dur(func(r result) time.Duration { return r.rpcP90 }),
		plainP50: dur(func(r result) time.Duration { return r.plainP50 }),
		plainP90: dur(func(r result) time.Duration { return r.plainP90 }),
		rss:      int64(mid(func(r result) float64 { return float64(r.rss) })),
		hwm:      int64(mid(func(r result) float64 { return float64(r.hwm) })),
	}
}

// row is one figure on both sides. target is judged on ovnd's value:
// absolute when abs is set, else on the ratio ovnd / ovn-northd.
type row struct {
	label, unit string
	ovn, ovnd   float64
	have        [2]bool
	target      float64
	abs         bool
}

func rows(ovn, ovnd *result) []row {
	type fig struct {
		label, unit string
		get         func(*result) float64
		target      float64
		abs         bool
	}
	ms := func(f func(*result) time.Duration) func(*result) float64 {
		return func(r *result) float64 { return float64(f(r)) / 1e6 }
	}
	mb := func(f func(*result) int64) func(*result) float64 {
		return func(r *result) float64 { return float64(f(r)) / (1 << 20) }
	}
	figs := []fig{
		{"SB Logical_Flow rows", "rows", func(r *result) float64 { return float64(r.flows) }, 0, false},
		{"SB Port_Binding rows", "rows", func(r *result) float64 { return float64(r.bindings) }, 0, false},
		{"bulk load transaction", "ms", ms(func(r *result) time.Duration { return r.load }), 0, false},
		{"end of load → SB converged (sb_cfg)", "ms", ms(func(r *result) time.Duration { return r.converge }), 1000, true},
		{"lsp-add --wait=sb, nbctl daemon: p50", "ms", ms(func(r *result) time.Duration { return r.addP50 }), 10, true},
		{"lsp-add --wait=sb, nbctl daemon: p90", "ms", ms(func(r *result) time.Duration { return r.addP90 }), 0, false},
		{"lsp-add without --wait, nbctl daemon: p50 (floor)", "ms", ms(func(r *result) time.Duration { return r.floorP50 }), 0, false},
		{"port add + nb_cfg → sb_cfg over JSON-RPC: p50", "ms", ms(func(r *result) time.Duration { return r.rpcP50 }), 10, true},
		{"port add + nb_cfg → sb_cfg over JSON-RPC: p90", "ms", ms(func(r *result) time.Duration { return r.rpcP90 }), 0, false},
		{"lsp-add --wait=sb, plain ovn-nbctl: p50", "ms", ms(func(r *result) time.Duration { return r.plainP50 }), 0, false},
		{"lsp-add --wait=sb, plain ovn-nbctl: p90", "ms", ms(func(r *result) time.Duration { return r.plainP90 }), 0, false},
		{"northd VmRSS at the end", "MB", mb(func(r *result) int64 { return r.rss }), 0.5, false},
		{"northd VmHWM (peak RSS)", "MB", mb(func(r *result) int64 { return r.hwm }), 0.5, false},
	}
	var out []row
	for _, f := range figs {
		r := row{label: f.label, unit: f.unit, target: f.target, abs: f.abs}
		if ovn != nil {
			r.ovn, r.have[0] = f.get(ovn), true
		}
		if ovnd != nil {
			r.ovnd, r.have[1] = f.get(ovnd), true
		}
		// A latency of 0 was not measured (-plain-adds 0).
		if r.unit == "ms" && r.ovn == 0 && r.ovnd == 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

func num(v float64) string {
	switch {
	case v >= 100:
		return commas(int64(math.Round(v)))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r row) cells() []string {
	val := func(i int, v float64) string {
		if !r.have[i] {
			return "—"
		}
		return num(v)
	}
	ratio, target, met := "—", "—", "—"
	if r.have[0] && r.have[1] && r.ovn > 0 {
		ratio = fmt.Sprintf("%.2fx", r.ovnd/r.ovn)
	}
	if r.target > 0 {
		if r.abs {
			target = fmt.Sprintf("≤ %s %s", num(r.target), r.unit)
			if r.have[1] {
				met = yes(r.ovnd <= r.target)
			}
		} else {
			target = fmt.Sprintf("≤ %.2fx", r.target)
			if ratio != "—" {
				met = yes(r.ovnd/r.ovn <= r.target+1e-9)
			}
		}
	}
	return []string{r.label, r.unit, val(0, r.ovn), val(1, r.ovnd), ratio, target, met}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var header = []string{"measurement", "unit", sideOVN, sideOvnd, "ovnd/ovn-northd", "target (ovnd)", "met"}

func writeTable(w io.Writer, rs []row, markdown bool) {
	if markdown {
		fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
		fmt.Fprintln(w, strings.Repeat("|---", len(header))+"|")
		for _, r := range rs {
			fmt.Fprintln(w, "| "+strings.Join(r.cells(), " | ")+" |")
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rs {
		fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
	}
	tw.Flush()
}

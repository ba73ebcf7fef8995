package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	for _, tc := range []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 100, 100},
		{hundred, 0.1, 1},
		{[]time.Duration{1, 2, 3, 4, 5}, 50, 3},
		{[]time.Duration{1, 2, 3, 4, 5}, 99, 5},
		{[]time.Duration{7}, 50, 7},
		{nil, 50, 0},
	} {
		if got := percentile(tc.samples, tc.p); got != tc.want {
			t.Errorf("p%v of %d samples = %v, want %v", tc.p, len(tc.samples), got, tc.want)
		}
	}
}

func TestSummarizeMergesClients(t *testing.T) {
	l := summarize([]time.Duration{5, 1, 3}, []time.Duration{4, 2})
	if l.n != 5 || l.p50 != 3 || l.p99 != 5 || l.max != 5 {
		t.Fatalf("got %+v", l)
	}
}

func TestParseStatCPU(t *testing.T) {
	// The command name contains spaces and a ')' to check field counting.
	stat := "1234 (ovsdb (x) srv) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 1 0 100 20000000 2000 18446744073709551615\n"
	got, err := parseStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want { // (250+50) ticks at 100 Hz
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Fatal("no error for a short stat line")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tovsdb-server\nVmPeak:\t  20000 kB\nVmRSS:\t   10500 kB\nThreads:\t1\n"
	got, err := parseVmRSS([]byte(status))
	if err != nil || got != 10500*1024 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseVmRSS([]byte("Name:\tx\n")); err == nil {
		t.Fatal("no error without VmRSS")
	}
}

func TestRowCellsRatioAndTarget(t *testing.T) {
	base := []metric{
		{label: "tput", unit: "txn/s", value: 1000, higherBetter: true, target: 1.5},
		{label: "cpu", unit: "µs", value: 40, target: 0.5},
		{label: "p50", unit: "µs", value: 70},
	}
	ovnd := []metric{
		{label: "tput", unit: "txn/s", value: 1600, higherBetter: true, target: 1.5},
		{label: "cpu", unit: "µs", value: 25, target: 0.5},
	}
	rows := buildRows(base, ovnd)
	want := [][]string{
		{"tput", "txn/s", "1,000", "1,600", "1.60x", "≥ 1.50x", "yes"},
		{"cpu", "µs", "40.0", "25.0", "0.63x", "≤ 0.50x", "no"},
		{"p50", "µs", "70.0", "—", "—", "—", "—"},
	}
	for i, r := range rows {
		got, _ := json.Marshal(r.cells())
		exp, _ := json.Marshal(want[i])
		if string(got) != string(exp) {
			t.Errorf("row %d: %s, want %s", i, got, exp)
		}
	}
}

func TestDatasetSizes(t *testing.T) {
	d := dataset{switches: 500, ports: 20, opsPerTxn: 500}
	dps := make([]string, d.switches+1)
	for i := range dps {
		dps[i] = "00000000-0000-4000-8000-000000000000"
	}
	count := func(ops []op, table string) (n int) {
		for _, o := range ops {
			if o["table"] == table {
				n++
			}
		}
		return n
	}
	var nb []op
	for s := range d.switches {
		nb = append(nb, d.switchOps(s)...)
	}
	nb = append(nb, d.routerOps()...)
	for table, want := range map[string]int{"Logical_Switch": 500, "Logical_Switch_Port": 10000, "Logical_Router_Port": 500} {
		if got := count(nb, table); got != want {
			t.Errorf("NB %s: %d rows, want %d", table, got, want)
		}
	}
	if got := len(d.datapathOps()); got != 501 {
		t.Errorf("datapaths: %d", got)
	}
	if got := len(d.portBindingOps(dps)); got != 10500 {
		t.Errorf("port bindings: %d", got)
	}
	if got := len(d.flowOps(dps)); got < 55000 || got > 65000 {
		t.Errorf("logical flows: %d, want about 60,000", got)
	}
	txns, err := batches("OVN_Southbound", d.portBindingOps(dps), d.opsPerTxn)
	if err != nil || len(txns) != 21 {
		t.Fatalf("port binding batches: %d, %v", len(txns), err)
	}
}

func TestMediansPerFigure(t *testing.T) {
	round := func(a, b float64) []metric {
		return []metric{{label: "a", value: a}, {label: "b", value: b}}
	}
	got := medians([][]metric{round(3, 10), round(1, 30), round(2, 20), round(9, 40)})
	if got[0].value != 2 || got[1].value != 20 {
		t.Fatalf("got %+v, want a=2 b=20", got)
	}
	if medians(nil) != nil {
		t.Fatal("medians of no rounds")
	}
}

package lflowc

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/controller/flowtable"
)

// BenchmarkAddressSetChange is what the loop does when a member joins
// the large address sets of a capture (-large-sb; every set of more
// than 100 members): it recompiles each lflow that names one and sets
// its flows in a desired table that holds the capture's flows. It
// reports the CPU of the compile and of the flowtable's Set per change.
func BenchmarkAddressSetChange(b *testing.B) {
	s := loadSnapshotFile(b, *largeSB)
	cc := NewCompiler()
	d := flowtable.NewDesired(slog.New(slog.DiscardHandler))
	var named []int
	for i, lf := range s.Lflows {
		flows, _, err := cc.Compile(lf, s.DPs[i], s)
		if err != nil {
			b.Fatalf("%s %q: %v", lf.UUID, lf.Match, err)
		}
		d.Set(lf.UUID, flows)
		if strings.Contains(lf.Match, "$") {
			named = append(named, i)
		}
	}
	orig := map[string][]string{}
	for n, m := range s.Sets {
		if len(m) > 100 {
			orig[n] = m
		}
	}
	if len(orig) == 0 {
		b.Skip("no address set of more than 100 members in " + *largeSB)
	}
	var compileCPU, setCPU time.Duration
	nflows := 0
	b.ResetTimer()
	for round := range b.N {
		for n, m := range orig {
			s.Sets[n] = append(slices.Clip(m), fmt.Sprintf("10.254.%d.%d", round>>8&0xff, round&0xff))
		}
		nflows = 0
		for _, i := range named {
			c0 := cpuTime()
			flows, _, err := cc.Compile(s.Lflows[i], s.DPs[i], s)
			if err != nil {
				b.Fatal(err)
			}
			c1 := cpuTime()
			d.Set(s.Lflows[i].UUID, flows)
			compileCPU, setCPU = compileCPU+c1-c0, setCPU+cpuTime()-c1
			nflows += len(flows)
		}
	}
	b.ReportMetric(float64(compileCPU.Nanoseconds())/float64(b.N), "compile-cpu-ns/change")
	b.ReportMetric(float64(setCPU.Nanoseconds())/float64(b.N), "set-cpu-ns/change")
	b.ReportMetric(float64(nflows), "flows")
	b.Logf("%d lflows name a set; sets changed: %d", len(named), len(orig))
}

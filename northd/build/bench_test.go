package build

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
)

// bigNB is n switches with m VIF ports each, every port in one port group
// that carries a stateful ACL.
func bigNB(n, m int) *NB {
	nb := &NB{
		Switches: map[string]nbdb.LogicalSwitch{}, Ports: map[string]nbdb.LogicalSwitchPort{},
		PortGroups: map[string]nbdb.PortGroup{}, ACLs: map[string]nbdb.ACL{
			"a": {UUID: "a", Direction: nbdb.ACLDirectionToLport, Priority: 1, Match: "outport == @pg && ip4.src == $pg_ip4", Action: nbdb.ACLActionAllowRelated},
		},
	}
	pg := nbdb.PortGroup{UUID: "pg", Name: "pg", ACLs: []string{"a"}}
	for i := range n {
		sw := nbdb.LogicalSwitch{UUID: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("sw%d", i)}
		for j := range m {
			u := fmt.Sprintf("p%d_%d", i, j)
			nb.Ports[u] = nbdb.LogicalSwitchPort{UUID: u, Name: u,
				Addresses: []string{fmt.Sprintf("00:00:00:00:%02x:%02x 10.%d.%d.1", i%256, j%256, i%256, j%256)}}
			sw.Ports = append(sw.Ports, u)
			pg.Ports = append(pg.Ports, u)
		}
		nb.Switches[sw.UUID] = sw
	}
	nb.PortGroups[pg.UUID] = pg
	return nb
}

func BenchmarkBuild100x20(b *testing.B) {
	nb := bigNB(100, 20)
	for b.Loop() {
		Build(nb, &SB{})
	}
}

// BenchmarkEngineAddPort is one lsp-add on the benchmark's 500×20
// topology: the port row, the switch listing it, and nb_cfg.
func BenchmarkEngineAddPort(b *testing.B) {
	nb := bigNB(500, 20)
	e := NewEngine(nb, &SB{})
	i := 0
	for b.Loop() {
		i++
		u := fmt.Sprintf("new%d", i)
		sw := fmt.Sprintf("s%d", i%500)
		nb.Ports[u] = nbdb.LogicalSwitchPort{UUID: u, Name: u, Addresses: []string{fmt.Sprintf("00:00:00:01:%02x:%02x 10.200.%d.%d", i/256%256, i%256, i/256%256, i%256)}}
		ls := nb.Switches[sw]
		ls.Ports = append(ls.Ports, u)
		nb.Switches[sw] = ls
		nb.Global.NbCfg++
		d := e.Update(Changes{Global: true, Switches: map[string]bool{sw: true}, Ports: map[string]bool{u: true}})
		if len(d.Ports) != 1 {
			b.Fatalf("delta has %d ports, want 1", len(d.Ports))
		}
	}
}

func BenchmarkNewEngine500x20(b *testing.B) {
	nb := bigNB(500, 20)
	for b.Loop() {
		NewEngine(nb, &SB{})
	}
}

// BenchmarkNewEngine500x20Two is BenchmarkNewEngine500x20 with the
// switches computed by two goroutines.
func BenchmarkNewEngine500x20Two(b *testing.B) {
	nb := bigNB(500, 20)
	two := func(n int, work func(i int)) {
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := w; i < n; i += 2 {
					work(i)
				}
			})
		}
		wg.Wait()
	}
	for b.Loop() {
		NewEngineFanout(nb, &SB{}, two)
	}
}

// BenchmarkEngineHeld500x20 reports the heap an engine of the
// benchmark's topology holds (held-MB), with its NB.
func BenchmarkEngineHeld500x20(b *testing.B) {
	var held float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		nb := bigNB(500, 20)
		e := NewEngine(nb, &SB{})
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(e)
	}
	b.ReportMetric(held, "held-MB")
}

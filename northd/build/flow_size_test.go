package build

import "testing"

// TestFlowSetSizing: newFlowSetFor's estimate covers the benchmark's
// switches (so their flow sets are never grown) without being more than
// twice what they hold.
func TestFlowSetSizing(t *testing.T) {
	nb := bigNB(4, 20)
	e := NewEngine(nb, &SB{})
	for _, o := range e.sws {
		n := len(o.flows)
		est := cap(newFlowSetFor(len(o.sw.ports)).order)
		if est < n || est > 2*n {
			t.Errorf("switch with %d ports: %d flows, estimate %d", len(o.sw.ports), n, est)
		}
	}
}

package northd

import (
	"sync/atomic"
	"testing"
)

// TestFanout: every call runs exactly once, whatever the count, and
// fanout returns only after the last one.
func TestFanout(t *testing.T) {
	for _, n := range []int{0, 1, fanoutMin - 1, fanoutMin, 500, 10001} {
		calls := make([]atomic.Int32, n)
		var done atomic.Int32
		fanout(n, func(i int) {
			calls[i].Add(1)
			done.Add(1)
		})
		if got := int(done.Load()); got != n {
			t.Fatalf("n=%d: %d calls had returned when fanout did", n, got)
		}
		for i := range calls {
			if c := calls[i].Load(); c != 1 {
				t.Fatalf("n=%d: call %d ran %d times", n, i, c)
			}
		}
	}
}

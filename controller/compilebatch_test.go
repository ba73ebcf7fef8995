package controller

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestParallelCompileEqualsSerial: a loop that compiles on several
// goroutines (every batch, however small) builds the same desired table
// as one that compiles on its own, from a full load and after every step
// of random changes. Run with -race, it also checks that the workers
// only read what the loop's goroutine leaves alone.
func TestParallelCompileEqualsSerial(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		w := newWorld()
		w.local("dp1", 1)
		w.local("dp2", 2)
		next := 0
		for ; next < 200; next++ {
			w.addFlow(r, next)
		}
		serial, parallel := testLoop(), testLoop()
		parallel.parallelMin = 1
		check := func(what string) {
			t.Helper()
			a, b := table(serial.desired), table(parallel.desired)
			if !slices.Equal(a, b) {
				t.Fatalf("seed %d, %s: parallel compile differs from serial:\nserial:\n%s\nparallel:\n%s",
					seed, what, strings.Join(a, "\n"), strings.Join(b, "\n"))
			}
			if len(a) == 0 {
				t.Fatalf("seed %d, %s: no flows", seed, what)
			}
		}
		for _, l := range []*loop{serial, parallel} {
			if err := l.step(w, changeSet{Full: true}); err != nil {
				t.Fatal(err)
			}
		}
		check("full load")
		for step := range 20 {
			what := w.mutate(r, &next)
			cs := w.sb.take()
			for _, l := range []*loop{serial, parallel} {
				var c changeSet
				c.merge(cs)
				if err := l.step(w, c); err != nil {
					t.Fatal(err)
				}
			}
			check("step " + string(rune('0'+step%10)) + ": " + what)
		}
	}
}

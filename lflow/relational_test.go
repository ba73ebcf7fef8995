package lflow

import (
	"fmt"
	"testing"
)

// TestRelationalExhaustive checks every operator against every 6-bit
// constant by evaluating the resulting flows on every 6-bit value.
func TestRelationalExhaustive(t *testing.T) {
	ops := map[string]func(x, c uint64) bool{
		"==": func(x, c uint64) bool { return x == c },
		"!=": func(x, c uint64) bool { return x != c },
		"<":  func(x, c uint64) bool { return x < c },
		"<=": func(x, c uint64) bool { return x <= c },
		">":  func(x, c uint64) bool { return x > c },
		">=": func(x, c uint64) bool { return x >= c },
	}
	for op, want := range ops {
		for c := uint64(0); c < 64; c++ {
			s := fmt.Sprintf("reg0[2..7] %s %d", op, c)
			flows := mustFlows(t, s)
			for x := uint64(0); x < 64; x++ {
				// reg0 is xxreg0[96..127].
				if got := anyMatches(flows, U128{Lo: x << 2}.Lsh(96)); got != want(x, c) {
					t.Fatalf("%s with reg0[2..7] = %d: got %v", s, x, got)
				}
			}
		}
	}
}

func mustFlows(t *testing.T, s string) []Conj {
	t.Helper()
	e, err := ParseExpr(s, Symbols, nil)
	if err != nil {
		t.Fatal(err)
	}
	terms, err := Normalize(e, Symbols)
	if err != nil {
		t.Fatal(err)
	}
	flows, err := Flows(terms, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return flows
}

func anyMatches(flows []Conj, xxreg0 U128) bool {
	for _, f := range flows {
		ok := true
		for _, m := range f {
			ok = ok && xxreg0.Xor(m.Value).And(m.Mask).IsZero()
		}
		if ok {
			return true
		}
	}
	return false
}

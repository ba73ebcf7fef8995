package lflow

import "fmt"

// roundTrip checks that formatting e and parsing it again formats the same.
func roundTrip(e Expr) error {
	s := FormatExpr(e)
	e2, err := ParseExpr(s, Symbols, corpusSets)
	if err != nil {
		return fmt.Errorf("reparse %q: %v", s, err)
	}
	if s2 := FormatExpr(e2); s2 != s {
		return fmt.Errorf("format not stable: %q then %q", s, s2)
	}
	return nil
}

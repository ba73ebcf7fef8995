package lflow

import "sort"

// Compile parses and normalises a match: what northd needs to validate a
// match and the controller to start turning it into flows.
func Compile(match string, syms Symtab, sets Sets) ([]Term, error) {
	e, err := ParseExpr(match, syms, sets)
	if err != nil {
		return nil, err
	}
	return Normalize(e, syms)
}

// ActionPrereqs returns the prerequisites of the fields that acts write
// or read at the top level (not inside nested bodies, which act on a new
// packet), as match expressions the flow's match must be ANDed with:
// "ip4.dst = 10.0.0.1;" needs "ip4".
func ActionPrereqs(acts []Action, syms Symtab) []string {
	seen := map[string]bool{}
	add := func(r Ref) {
		for s := r.Sym; s != nil; s = syms[s.Parent] {
			if s.Prereq != "" {
				seen[s.Prereq] = true
			}
		}
	}
	for _, a := range acts {
		switch a := a.(type) {
		case Assign:
			add(a.Dst)
			if a.Src.Kind == RefValue {
				add(a.Src.Ref)
			}
		case Exchange:
			add(a.A)
			add(a.B)
		case Decrement:
			add(a.Field)
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

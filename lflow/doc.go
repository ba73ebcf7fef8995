// Package lflow owns OVN's logical-flow language: the lexer, the symbol
// table of logical fields (with their OpenFlow homes), the match
// expression parser and normaliser, and the actions parser, all as
// described in ovn-sb(5) "Logical_Flow TABLE" and as OVN 23.03 behaves.
//
// northd uses it to validate match and action strings it builds or takes
// from the northbound database; the controller uses it to compile
// southbound logical flows to OpenFlow. Everything here is pure: no I/O,
// no goroutines, no clock.
//
// The flow of data is
//
//	text --Lex--> []Token --ParseExpr--> Expr --Normalize--> []Term --Flows--> []Conj
//	text --Lex--> []Token --ParseActions--> []Action
//
// Compile is ParseExpr and Normalize in one call. FormatExpr and
// FormatActions render parsed input back to canonical text; Term, Conj
// and Match render themselves with String.
//
// Symbols is the symbol table. Named sets ($as, @pg) are resolved while
// parsing, through the caller's Sets. Normalize expands predicates, adds
// prerequisites, pushes negations down and turns every comparison into
// masked matches on Fields (the 32-bit registers become bit ranges of
// xxreg0, xxreg1 and xreg4, so overlapping register tests meet). Its
// result is a disjunction of Terms, each a conjunction plus "dimensions"
// (sets ANDed with the rest) that the controller may emit as OpenFlow
// conjunctive matches; Flows multiplies them out, bounded.
//
// Where this package knowingly differs from OVN 23.03: a negated
// predicate whose prerequisite OVN loses (!ip.is_frag, !ip4.mcast) keeps
// the prerequisite here, where OVN ends up with a catch-all flow.
package lflow

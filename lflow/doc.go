// Package lflow owns OVN's logical-flow language: the lexer, the symbol
// table of logical fields (with their OpenFlow homes), the match
// expression parser and normaliser, and the actions parser, all as
// described in ovn-sb(5) "Logical_Flow TABLE".
//
// northd uses it to validate match and action strings it builds or takes
// from the northbound database; the controller uses it to compile
// southbound logical flows to OpenFlow. Everything here is pure: no I/O,
// no goroutines, no clock.
//
// The flow of data is
//
//	text --Lex--> tokens --ParseExpr--> Expr --Normalize--> []Term --Flows--> []Conj
//	text --Lex--> tokens --ParseActions--> []Action
//
// and Format renders any of them back to canonical text.
package lflow

package lflow

import (
	"fmt"
	"strconv"
	"strings"
)

// testSets are the named sets the scripts may refer to.
var testSets = MapSets{
	AddressSets: map[string][]string{
		"as1":   {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
		"as6":   {"fd00::1", "fd00::/64"},
		"macs":  {"00:00:00:00:00:01", "00:00:00:00:00:02"},
		"empty": {},
	},
	PortGroups: map[string][]string{
		"pg1":   {"p1", "p2"},
		"empty": {},
	},
}

func runCase(c scriptCase) string {
	fields := strings.Fields(c.cmd)
	if c.input == "<empty>" {
		c.input = ""
	}
	switch fields[0] {
	case "lex":
		return cmdLex(c.input)
	case "parse":
		e, err := ParseExpr(c.input, Symbols, testSets)
		if err != nil {
			return "error: " + err.Error()
		}
		return FormatExpr(e)
	case "normalize":
		return cmdNormalize(c.input)
	case "flows":
		return cmdFlows(c)
	case "actions":
		return cmdActions(c.input)
	case "prereqs":
		acts, err := ParseActions(c.input, Symbols)
		if err != nil {
			return "error: " + err.Error()
		}
		return strings.Join(ActionPrereqs(acts, Symbols), "\n")
	}
	return "unknown command " + fields[0]
}

func cmdLex(s string) string {
	toks, err := Lex(s)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, t := range toks[:len(toks)-1] {
		fmt.Fprintf(&b, "%d %s %s\n", t.Pos, kindName[t.Kind], t)
	}
	return b.String()
}

var kindName = map[Kind]string{Ident: "ident", Int: "int", String: "string", AddrSet: "addrset", PortGroup: "portgroup"}

func init() {
	for k := Eq; k <= Minus; k++ {
		kindName[k] = "punct"
	}
}

func cmdNormalize(s string) string {
	e, err := ParseExpr(s, Symbols, testSets)
	if err != nil {
		return "error: " + err.Error()
	}
	terms, err := Normalize(e, Symbols)
	if err != nil {
		return "error: " + err.Error()
	}
	if len(terms) == 0 {
		return "0"
	}
	var b strings.Builder
	for _, t := range terms {
		b.WriteString(t.String() + "\n")
	}
	return b.String()
}

func cmdFlows(c scriptCase) string {
	max := 1000
	if v, ok := c.args["max"]; ok {
		max, _ = strconv.Atoi(v)
	}
	e, err := ParseExpr(c.input, Symbols, testSets)
	if err != nil {
		return "error: " + err.Error()
	}
	terms, err := Normalize(e, Symbols)
	if err != nil {
		return "error: " + err.Error()
	}
	flows, err := Flows(terms, max)
	if err != nil {
		return "error: " + err.Error()
	}
	if len(flows) == 0 {
		return "0"
	}
	var b strings.Builder
	for _, f := range flows {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func cmdActions(s string) string {
	acts, err := ParseActions(s, Symbols)
	if err != nil {
		return "error: " + err.Error()
	}
	if len(acts) == 0 {
		return "(no actions: drop)"
	}
	return FormatActions(acts)
}

package sbreplica

import (
	"encoding/json"
	"fmt"
	"slices"
)

// A fresh load of a big database costs the server seconds to build one
// reply before its first byte is sent, and the client more to decode
// what it then receives, one after the other. Loaded in parts, the
// server builds each part while the client decodes (and its user
// compiles) the one before: the first comes as the monitor's reply
// (the tables' rows that the first part selects), the others as the
// update of one monitor_cond_change each. The replica asks for a part
// once the one before is in and its user has taken it (TakeChanges),
// so that the server builds a part while the user works on the one
// before; a user busy elsewhere (registering its chassis, over another
// connection to the same single-threaded server) leaves the server to
// the other requests. Every part widens the monitor's condition; the
// last is the whole table, so a reconnect that resumes
// (monitor_cond_since) asks for everything with its last transaction id
// as before. Connected is true from the first part on, Synced once
// every part is in.

// Clause is one clause of a monitor condition: [column, function,
// value], as in ovsdb-server(7). A row matches a condition when it
// matches any of its clauses.
type Clause struct {
	Column   string
	Function string // "<", "<=", "==", "!=", ">=", ">", "includes" or "excludes"
	Value    any    // an OVSDB atom in its JSON form: a number, a string, a bool
}

// MarshalJSON renders the clause as OVSDB's [column, function, value].
func (c Clause) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{c.Column, c.Function, c.Value})
}

// Part is one step of a load in parts: per table, the clauses that
// select the rows the step adds to those of the steps before.
type Part map[string][]Clause

var clauseFunctions = []string{"<", "<=", "==", "!=", ">=", ">", "includes", "excludes"}

// LoadInParts makes every load that does not resume a monitor (the
// first connection, a reconnect the server cannot resume) come in
// len(parts)+1 steps: the rows each part selects, in order, then all
// the rest. Tables no part names come whole with the first step. Each
// step after the first is asked for once the user has called
// TakeChanges since the step before came in. It
// needs a server with monitor_cond (a server with only monitor loads
// in one step; one that refuses monitor_cond_change makes the replica
// reconnect and load in one step from then on). Call it before Run.
func (r *Replica) LoadInParts(parts ...Part) error {
	for i, p := range parts {
		for table, clauses := range p {
			t := r.tables[table]
			if t == nil {
				return fmt.Errorf("part %d: table %s is not replicated", i+1, table)
			}
			for _, c := range clauses {
				if !r.schemaColumns[table][c.Column] {
					return fmt.Errorf("part %d: table %s has no column %q", i+1, table, c.Column)
				}
				if !slices.Contains(clauseFunctions, c.Function) {
					return fmt.Errorf("part %d: table %s: unknown function %q", i+1, table, c.Function)
				}
				if _, err := json.Marshal(c.Value); err != nil {
					return fmt.Errorf("part %d: table %s: value of %s: %w", i+1, table, c.Column, err)
				}
			}
		}
	}
	r.parts = slices.Clone(parts)
	return nil
}

// steps returns the condition of every step of a load in parts, per
// table the parts name ("where" of monitor_cond and monitor_cond_change:
// the clauses of this step and all before it), the last step being the
// whole table; nil when the parts name no table the server has (has:
// the server's columns by table), or a clause's column is missing there.
func (r *Replica) steps(has map[string]map[string]bool) []map[string][]any {
	named := map[string]bool{}
	for _, p := range r.parts {
		for table, clauses := range p {
			if has[table] == nil {
				continue
			}
			for _, c := range clauses {
				if !has[table][c.Column] {
					r.log.Warn("server lacks a column the load in parts selects by; loading in one step",
						"table", table, "column", c.Column)
					return nil
				}
			}
			named[table] = true
		}
	}
	if len(named) == 0 {
		return nil
	}
	var out []map[string][]any
	so := map[string][]any{}
	for _, p := range r.parts {
		step := map[string][]any{}
		for table := range named {
			for _, c := range p[table] {
				so[table] = append(so[table], c)
			}
			if len(so[table]) == 0 {
				step[table] = []any{false} // an empty "where" would be all rows
			} else {
				step[table] = slices.Clone(so[table])
			}
		}
		out = append(out, step)
	}
	last := map[string][]any{}
	for table := range named {
		last[table] = []any{true}
	}
	return append(out, last)
}

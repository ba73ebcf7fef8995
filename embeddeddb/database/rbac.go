package database

import (
	"fmt"
	"strings"
)

// RBAC is what role-based access control needs to know about a session:
// the role its remote grants (Connection.role) and the client's identity
// (the common name of its TLS certificate).
type RBAC struct {
	Role string
	ID   string
}

// rbacSession is a Session that may be subject to RBAC.
type rbacSession interface {
	RBAC() RBAC
}

type permission struct {
	authorization []string // column names, or column:key for maps
	insertDelete  bool
	update        map[string]bool
}

// checkRBAC enforces the RBAC_Role and RBAC_Permission rows on the rows a
// client changed, as ovsdb-server does for OVN_Southbound: a table the role
// does not name may not be written; inserts and deletes need
// insert_delete; updates may touch only the "update" columns; and every
// written row must carry the client's identity in an authorization column.
func (tx *txn) checkRBAC() *Error {
	rs, ok := tx.sess.(rbacSession)
	if tx.internal || !ok {
		return nil
	}
	r := rs.RBAC()
	if r.Role == "" {
		return nil
	}
	for i, tt := range tx.tables {
		if tt == nil {
			continue
		}
		t := tx.db.schema.Tables[i]
		perm := tx.db.permission(r.Role, t.Name)
		for _, rc := range tt.order {
			if err := perm.check(t, rc, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func rbacErr(r RBAC, what string) *Error {
	return &Error{Tag: "permission error",
		Details: fmt.Sprintf("RBAC rules for client \"%s\" role \"%s\" prohibit %s.", r.ID, r.Role, what)}
}

func (p *permission) check(t *Table, rc *RowChange, r RBAC) *Error {
	switch {
	case rc.Old == nil && rc.New == nil:
		return nil
	case rc.Old == nil:
		if p == nil || !p.insertDelete || !p.authorized(t, rc.New, r.ID) {
			return rbacErr(r, fmt.Sprintf("row insertion into table \"%s\"", t.Name))
		}
	case rc.New == nil:
		if p == nil || !p.insertDelete || !p.authorized(t, rc.Old, r.ID) {
			return rbacErr(r, fmt.Sprintf("row deletion from table \"%s\"", t.Name))
		}
	default:
		what := fmt.Sprintf("modification of table \"%s\"", t.Name)
		if rc.mutated {
			what = fmt.Sprintf("mutate operation on table \"%s\"", t.Name)
		}
		if p == nil || !p.authorized(t, rc.Old, r.ID) {
			return rbacErr(r, what)
		}
		for i, c := range t.Columns {
			if !p.update[c.Name] && !c.Equal(rc.Old.Cols[i], rc.New.Cols[i]) {
				return rbacErr(r, what)
			}
		}
	}
	return nil
}

// authorized reports whether one of the authorization columns (or map
// entries, written column:key) holds the client's identity. An empty
// authorization list allows any row.
func (p *permission) authorized(t *Table, row *Row, id string) bool {
	if len(p.authorization) == 0 {
		return true
	}
	for _, a := range p.authorization {
		name, key, isMap := strings.Cut(a, ":")
		c := t.Column(name)
		if c == nil {
			continue
		}
		d := row.Cols[c.Index]
		if isMap && c.Value != nil {
			if j := d.find(c.Key.Type, Atom{S: key}); j >= 0 && d.Values[j].S == id {
				return true
			}
			continue
		}
		for _, k := range d.Keys {
			if k.S == id {
				return true
			}
		}
	}
	return false
}

// permission finds the RBAC_Permission for a role and table, or nil.
func (db *Database) permission(role, table string) *permission {
	rt, pt := db.schema.Table("RBAC_Role"), db.schema.Table("RBAC_Permission")
	if rt == nil || pt == nil {
		return nil
	}
	nameCol, permsCol := rt.Column("name"), rt.Column("permissions")
	for _, r := range db.Rows(rt) {
		if r.Cols[nameCol.Index].Keys[0].S != role {
			continue
		}
		perms := r.Cols[permsCol.Index]
		j := perms.find(TypeString, Atom{S: table})
		if j < 0 {
			return nil
		}
		row := db.Row(pt, perms.Values[j].S)
		if row == nil {
			return nil
		}
		p := &permission{update: map[string]bool{},
			insertDelete: row.Cols[pt.Column("insert_delete").Index].Keys[0].Bool()}
		for _, a := range row.Cols[pt.Column("authorization").Index].Keys {
			p.authorization = append(p.authorization, a.S)
		}
		for _, u := range row.Cols[pt.Column("update").Index].Keys {
			p.update[u.S] = true
		}
		return p
	}
	return nil
}

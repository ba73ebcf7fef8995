package northd

import (
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// rbacRole is the SB role ovn-controllers get on a remote whose
// Connection row says role=ovn-controller.
const rbacRole = "ovn-controller"

// rbacPermissions is what that role may do, as ovn-northd 23.03 writes
// it: per table, the column that must name the client's chassis ("" for
// none), whether it may insert and delete rows, and the columns it may
// update. Without these rows such ovn-controllers can write nothing.
var rbacPermissions = []sbdb.RBACPermission{
	{Table: "Chassis", Authorization: []string{"name"}, InsertDelete: true,
		Update: []string{"nb_cfg", "external_ids", "encaps", "vtep_logical_switches", "other_config", "transport_zones"}},
	{Table: "Chassis_Private", Authorization: []string{"name"}, InsertDelete: true,
		Update: []string{"nb_cfg", "nb_cfg_timestamp", "chassis", "external_ids"}},
	{Table: "Encap", Authorization: []string{"chassis_name"}, InsertDelete: true, Update: []string{"type", "options", "ip"}},
	{Table: "Port_Binding", Authorization: []string{""}, InsertDelete: false,
		Update: []string{"chassis", "additional_chassis", "encap", "additional_encap", "up", "virtual_parent", "options"}},
	{Table: "MAC_Binding", Authorization: []string{""}, InsertDelete: true,
		Update: []string{"logical_port", "ip", "mac", "datapath", "timestamp"}},
	{Table: "Service_Monitor", Authorization: []string{""}, InsertDelete: false, Update: []string{"status"}},
	{Table: "IGMP_Group", Authorization: []string{""}, InsertDelete: true, Update: []string{"address", "chassis", "datapath", "ports"}},
	{Table: "Controller_Event", Authorization: []string{""}, InsertDelete: true,
		Update: []string{"chassis", "event_info", "event_type", "seq_num"}},
	{Table: "FDB", Authorization: []string{""}, InsertDelete: true, Update: []string{"dp_key", "mac", "port_key"}},
	{Table: "BFD", Authorization: []string{""}, InsertDelete: false, Update: []string{"status"}},
}

// rbac makes the ovn-controller role and its permissions what
// rbacPermissions says. Left alone when they already are; otherwise the
// role gets a fresh set of permission rows and its old ones go (ovn-northd
// also rebuilds the lot on any difference).
func (p *sbPlan) rbac() {
	perms := map[string]sbdb.RBACPermission{}
	for _, r := range p.cur.rbacPerms {
		perms[r.UUID] = r
	}
	var role *sbdb.RBACRole
	for i, r := range p.cur.rbacRoles {
		switch {
		case r.Name != rbacRole:
		case role == nil:
			role = &p.cur.rbacRoles[i]
		default:
			p.delete(&sbdb.RBACRole{UUID: r.UUID})
		}
	}
	if role != nil && rolePermits(role.Permissions, perms) {
		return
	}
	want := map[string]string{}
	for _, w := range rbacPermissions {
		u := p.named()
		n := w
		n.UUID = u
		p.insert(&n)
		want[w.Table] = u
	}
	if role == nil {
		p.insert(&sbdb.RBACRole{UUID: p.named(), Name: rbacRole, Permissions: want})
		return
	}
	for _, u := range role.Permissions {
		if _, ok := perms[u]; ok {
			p.delete(&sbdb.RBACPermission{UUID: u})
		}
	}
	r := *role
	r.Permissions = want
	p.update(&r, &r.Permissions)
}

// rolePermits reports whether a role's permissions map holds exactly the
// catalogue.
func rolePermits(have map[string]string, perms map[string]sbdb.RBACPermission) bool {
	if len(have) != len(rbacPermissions) {
		return false
	}
	for _, w := range rbacPermissions {
		c, ok := perms[have[w.Table]]
		if !ok || c.Table != w.Table || c.InsertDelete != w.InsertDelete ||
			!sameSet(c.Authorization, w.Authorization) || !sameSet(c.Update, w.Update) {
			return false
		}
	}
	return true
}

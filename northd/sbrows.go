package northd

import (
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// The SB rows a bulk round inserts by the ten thousand (logical flows,
// their datapath groups, port bindings, multicast groups, datapaths) are
// turned into operations here rather than by libovsdb's API, whose
// mapper reflects over every column of every row: for 42,000 rows that
// was half a second of CPU and 50 MB of garbage. Each function writes
// the columns northd sets on that table, and leaves out those at their
// default value, as the mapper does; sbrows_test.go checks the result
// against the mapper's.

// row collects the non-default columns of a row.
type row ovsdb.Row

func (r row) str(col, v string) {
	if v != "" {
		r[col] = v
	}
}

func (r row) integer(col string, v int) {
	if v != 0 {
		r[col] = v
	}
}

func (r row) optInt(col string, v *int) {
	if v != nil {
		r[col] = ovsdb.OvsSet{GoSet: []any{*v}}
	}
}

func (r row) optBool(col string, v *bool) {
	if v != nil {
		r[col] = ovsdb.OvsSet{GoSet: []any{*v}}
	}
}

func (r row) optStr(col string, v *string) {
	if v != nil {
		r[col] = ovsdb.OvsSet{GoSet: []any{*v}}
	}
}

// ref is a column holding exactly one UUID.
func (r row) ref(col, v string) {
	if v != "" {
		r[col] = ovsdb.UUID{GoUUID: v}
	}
}

// optRef is a column holding at most one UUID.
func (r row) optRef(col string, v *string) {
	if v != nil {
		r[col] = ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: *v}}}
	}
}

func (r row) refs(col string, v []string) {
	if len(v) > 0 {
		s := make([]any, len(v))
		for i, u := range v {
			s[i] = ovsdb.UUID{GoUUID: u}
		}
		r[col] = ovsdb.OvsSet{GoSet: s}
	}
}

func (r row) strs(col string, v []string) {
	if len(v) > 0 {
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = e
		}
		r[col] = ovsdb.OvsSet{GoSet: s}
	}
}

func (r row) strMap(col string, v map[string]string) {
	if len(v) > 0 {
		m := make(map[any]any, len(v))
		for k, e := range v {
			m[k] = e
		}
		r[col] = ovsdb.OvsMap{GoMap: m}
	}
}

// insertOp inserts r into table; uuid is the row's name in the
// transaction, or a real UUID to create the row with.
func insertOp(table, uuid string, r row) ovsdb.Operation {
	op := ovsdb.Operation{Op: ovsdb.OperationInsert, Table: table, Row: ovsdb.Row(r)}
	switch {
	case isUUID(uuid):
		op.UUID = uuid
	case uuid != "":
		op.UUIDName = uuid
	}
	return op
}

// deleteOp deletes the row with UUID u from table.
func deleteOp(table, u string) ovsdb.Operation {
	return ovsdb.Operation{Op: ovsdb.OperationDelete, Table: table,
		Where: []ovsdb.Condition{{Column: "_uuid", Function: ovsdb.ConditionEqual, Value: ovsdb.UUID{GoUUID: u}}}}
}

func insertFlow(f *sbdb.LogicalFlow) ovsdb.Operation {
	r := make(row, 8)
	r.str("pipeline", string(f.Pipeline))
	r.integer("table_id", f.TableID)
	r.integer("priority", f.Priority)
	r.str("match", f.Match)
	r.str("actions", f.Actions)
	r.optRef("logical_datapath", f.LogicalDatapath)
	r.optRef("logical_dp_group", f.LogicalDpGroup)
	r.optStr("controller_meter", f.ControllerMeter)
	r.strMap("external_ids", f.ExternalIDs)
	r.strMap("tags", f.Tags)
	return insertOp(sbdb.LogicalFlowTable, f.UUID, r)
}

func insertDPGroup(g *sbdb.LogicalDPGroup) ovsdb.Operation {
	r := make(row, 1)
	r.refs("datapaths", g.Datapaths)
	return insertOp(sbdb.LogicalDPGroupTable, g.UUID, r)
}

func insertDatapath(d *sbdb.DatapathBinding) ovsdb.Operation {
	r := make(row, 2)
	r.integer("tunnel_key", d.TunnelKey)
	r.strMap("external_ids", d.ExternalIDs)
	return insertOp(sbdb.DatapathBindingTable, d.UUID, r)
}

// insertPort writes the Port_Binding columns northd owns; the others
// (chassis, encap, up after the first report...) belong to
// ovn-controller and a new binding leaves them at their defaults.
func insertPort(p *sbdb.PortBinding) ovsdb.Operation {
	r := make(row, 11)
	r.str("logical_port", p.LogicalPort)
	r.ref("datapath", p.Datapath)
	r.integer("tunnel_key", p.TunnelKey)
	r.str("type", p.Type)
	r.strMap("options", p.Options)
	r.strs("mac", p.MAC)
	r.strs("port_security", p.PortSecurity)
	r.strMap("external_ids", p.ExternalIDs)
	r.optStr("parent_port", p.ParentPort)
	r.optInt("tag", p.Tag)
	r.optBool("up", p.Up)
	return insertOp(sbdb.PortBindingTable, p.UUID, r)
}

func insertMCGroup(m *sbdb.MulticastGroup) ovsdb.Operation {
	r := make(row, 4)
	r.ref("datapath", m.Datapath)
	r.str("name", m.Name)
	r.integer("tunnel_key", m.TunnelKey)
	r.refs("ports", m.Ports)
	return insertOp(sbdb.MulticastGroupTable, m.UUID, r)
}

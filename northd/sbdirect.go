package northd

import (
	"slices"
	"strconv"

	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// The two tables a bulk round inserts by the ten thousand, Logical_Flow
// and Port_Binding, are encoded straight from their models: the same
// bytes appendOp writes for insertFlow's and insertPort's operations
// (sbdirect_test.go checks this byte for byte), without the row map,
// the sets and maps of any, and the sorting of columns in between.

// rowJSON writes a row's columns, which callers give in sorted order,
// leaving out those at their default value as the row helpers do.
type rowJSON struct {
	b []byte
	n int // columns written
}

func (w *rowJSON) col(name string) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = ovsjson.AppendString(w.b, name)
	w.b = append(w.b, ':')
}

func (w *rowJSON) str(name, v string) {
	if v != "" {
		w.col(name)
		w.b = ovsjson.AppendString(w.b, v)
	}
}

func (w *rowJSON) integer(name string, v int) {
	if v != 0 {
		w.col(name)
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	}
}

func (w *rowJSON) optStr(name string, v *string) {
	if v != nil {
		w.str1(name, *v)
	}
}

// str1 is a set of one string, written as the bare string.
func (w *rowJSON) str1(name, v string) {
	w.col(name)
	w.b = ovsjson.AppendString(w.b, v)
}

func (w *rowJSON) optInt(name string, v *int) {
	if v != nil {
		w.col(name)
		w.b = strconv.AppendInt(w.b, int64(*v), 10)
	}
}

func (w *rowJSON) optBool(name string, v *bool) {
	if v != nil {
		w.col(name)
		w.b = strconv.AppendBool(w.b, *v)
	}
}

func (w *rowJSON) ref(name, v string) {
	if v != "" {
		w.col(name)
		w.b = appendRef(w.b, v)
	}
}

func (w *rowJSON) optRef(name string, v *string) {
	if v != nil {
		w.col(name)
		w.b = appendRef(w.b, *v)
	}
}

func (w *rowJSON) strs(name string, v []string) {
	switch {
	case len(v) == 1:
		w.str1(name, v[0])
	case len(v) > 1:
		w.col(name)
		w.b = append(w.b, `["set",[`...)
		for i, e := range v {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = ovsjson.AppendString(w.b, e)
		}
		w.b = append(w.b, "]]"...)
	}
}

func (w *rowJSON) strMap(name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	w.col(name)
	w.b = append(w.b, `["map",[`...)
	if len(m) == 1 {
		for k, v := range m {
			w.b = appendPair(w.b, k, v)
		}
	} else {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendPair(w.b, k, m[k])
		}
	}
	w.b = append(w.b, "]]"...)
}

func appendPair(b []byte, k, v string) []byte {
	b = append(b, '[')
	b = ovsjson.AppendString(b, k)
	b = append(b, ',')
	b = ovsjson.AppendString(b, v)
	return append(b, ']')
}

// appendRef writes a UUID, or a named UUID of this transaction.
func appendRef(b []byte, u string) []byte {
	if ovsjson.IsLowerUUID(u) {
		b = append(b, `["uuid",`...)
	} else {
		b = append(b, `["named-uuid",`...)
	}
	b = ovsjson.AppendString(b, u)
	return append(b, ']')
}

// appendInsert writes an insert into table of the row that row writes,
// uuid as insertOp takes it.
func appendInsert(b []byte, table, uuid string, row func(w *rowJSON)) []byte {
	b = append(b, `{"op":"insert","table":`...)
	b = ovsjson.AppendString(b, table)
	switch {
	case ovsjson.IsLowerUUID(uuid):
		b = append(b, `,"uuid":`...)
		b = ovsjson.AppendString(b, uuid)
	case uuid != "":
		b = append(b, `,"uuid-name":`...)
		b = ovsjson.AppendString(b, uuid)
	}
	mark := len(b)
	b = append(b, `,"row":{`...)
	w := rowJSON{b: b}
	row(&w)
	if w.n == 0 {
		return append(w.b[:mark], '}')
	}
	return append(w.b, "}}"...)
}

// appendFlowInsert is appendOp(b, insertFlow(f)).
func appendFlowInsert(b []byte, f *sbdb.LogicalFlow) []byte {
	return appendInsert(b, sbdb.LogicalFlowTable, f.UUID, func(w *rowJSON) {
		w.str("actions", f.Actions)
		w.optStr("controller_meter", f.ControllerMeter)
		w.strMap("external_ids", f.ExternalIDs)
		w.optRef("logical_datapath", f.LogicalDatapath)
		w.optRef("logical_dp_group", f.LogicalDpGroup)
		w.str("match", f.Match)
		w.str("pipeline", string(f.Pipeline))
		w.integer("priority", f.Priority)
		w.integer("table_id", f.TableID)
		w.strMap("tags", f.Tags)
	})
}

// appendPortInsert is appendOp(b, insertPort(p)).
func appendPortInsert(b []byte, p *sbdb.PortBinding) []byte {
	return appendInsert(b, sbdb.PortBindingTable, p.UUID, func(w *rowJSON) {
		w.ref("datapath", p.Datapath)
		w.strMap("external_ids", p.ExternalIDs)
		w.str("logical_port", p.LogicalPort)
		w.strs("mac", p.MAC)
		w.strMap("options", p.Options)
		w.optStr("parent_port", p.ParentPort)
		w.strs("port_security", p.PortSecurity)
		w.optInt("tag", p.Tag)
		w.integer("tunnel_key", p.TunnelKey)
		w.str("type", p.Type)
		w.optBool("up", p.Up)
	})
}

// encodedFlow and encodedPort append the insert of f and p, encoded.
func (t *sbTxn) encodedFlow(f *sbdb.LogicalFlow) {
	start := t.room()
	t.arena = appendFlowInsert(t.arena, f)
	t.done(start, insertHead(sbdb.LogicalFlowTable, f.UUID))
}

func (t *sbTxn) encodedPort(p *sbdb.PortBinding) {
	start := t.room()
	t.arena = appendPortInsert(t.arena, p)
	t.done(start, insertHead(sbdb.PortBindingTable, p.UUID))
}

// insertHead is the head of insertOp(table, uuid, …).
func insertHead(table, uuid string) opHead {
	h := opHead{op: "insert", table: table}
	switch {
	case ovsjson.IsLowerUUID(uuid):
		h.uuid = uuid
	case uuid != "":
		h.uuidName = uuid
	}
	return h
}

package northd

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/ovsjson"
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
	case ovsjson.IsLowerUUID(uuid):
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

// sbTxn is an SB transaction being planned. Every operation has a head
// (op, table, uuid, uuid-name: what resolving its result needs); its
// body is raw[i], its JSON, or else plain[i]. The bulk tables' rows are
// encoded as they are planned (encoded): a 40,000-row transaction then
// takes about a fifth of the memory libovsdb's row maps took, at the
// moment northd's memory peaks, and a head is a quarter of an
// ovsdb.Operation.
type sbTxn struct {
	heads []opHead
	raw   [][]byte
	plain map[int]ovsdb.Operation
	arena []byte // raw's backing store, in chunks
	err   error  // the first planning error
	sent  bool   // dropEncoded ran: the transaction cannot be sent again
	// times is when the lock session wrote the request, read the
	// reply and decoded it (for the bulk round's debug timings).
	times txnTimes
	// stream, when set, takes the operations as they are planned
	// (streamTo); they go out in batches of streamBatch.
	stream *txnStream
}

// streamBatch is how many planned operations the stream of a
// transaction writes at a time.
const streamBatch = 1024

// streamTo has the operations planned from now on written to s as they
// accumulate; transact writes the rest and ends the request, abandon
// ends it with an abort.
func (t *sbTxn) streamTo(s *txnStream) {
	t.stream = s
}

// abandon ends a streamed request that will not be sent whole (a
// planning error): nothing of it commits.
func (t *sbTxn) abandon() {
	if t.stream != nil {
		t.stream.end(true)
		t.stream = nil
	}
	t.sent = true
}

// flow writes the planned operations out when a batch is ready.
func (t *sbTxn) flow() {
	if t.stream != nil && len(t.heads)-t.stream.n >= streamBatch {
		t.stream.ops(t)
	}
}

// written drops the body of operation i once it has been sent.
func (t *sbTxn) written(i int) {
	t.raw[i] = nil
	if t.plain != nil {
		delete(t.plain, i)
	}
}

// txnTimes is when a transaction sent on the lock session was written
// out, when its reply was in, and when that reply was decoded.
type txnTimes struct{ sent, replied, decoded time.Time }

// opHead is what resolving an operation's result needs of it.
type opHead struct{ op, table, uuid, uuidName string }

func headOf(op ovsdb.Operation) opHead { return opHead{op.Op, op.Table, op.UUID, op.UUIDName} }

// len is the number of operations.
func (t *sbTxn) len() int { return len(t.heads) }

// grow makes room for n more operations: a bulk transaction's slices
// are then allocated once rather than doubled a dozen times.
func (t *sbTxn) grow(n int) {
	t.heads = slices.Grow(t.heads, n)
	t.raw = slices.Grow(t.raw, n)
}

// add appends ops from a libovsdb API call, keeping the first error.
func (t *sbTxn) add(ops []ovsdb.Operation, err error) {
	if err != nil && t.err == nil {
		t.err = err
	}
	if t.plain == nil && len(ops) > 0 {
		t.plain = map[int]ovsdb.Operation{}
	}
	for _, op := range ops {
		t.plain[len(t.heads)] = op
		t.heads = append(t.heads, headOf(op))
		t.raw = append(t.raw, nil)
	}
	t.flow()
}

// encoded appends op in its encoded form.
func (t *sbTxn) encoded(op ovsdb.Operation) {
	start := t.room()
	var err error
	if t.arena, err = appendOp(t.arena, op); err != nil && t.err == nil {
		t.err = err
	}
	t.done(start, headOf(op))
}

// room makes sure the arena has room for an operation's JSON and
// returns where it will start; done records the operation written
// there since.
func (t *sbTxn) room() int {
	if cap(t.arena)-len(t.arena) < 4<<10 {
		t.arena = make([]byte, 0, 1<<20)
	}
	return len(t.arena)
}

func (t *sbTxn) done(start int, h opHead) {
	t.raw = append(t.raw, t.arena[start:len(t.arena):len(t.arena)])
	t.heads = append(t.heads, h)
	t.flow()
}

// dropEncoded releases the operations' bodies once the transaction has
// been sent; heads keep what resolving its results needs.
func (t *sbTxn) dropEncoded() {
	t.raw, t.plain, t.arena, t.sent = nil, nil, nil, true
}

// appendTo appends operation i's JSON to b.
func (t *sbTxn) appendTo(b []byte, i int) ([]byte, error) {
	if t.raw[i] != nil {
		return append(b, t.raw[i]...), nil
	}
	return appendOp(b, t.plain[i])
}

// operations returns the whole transaction as libovsdb operations,
// decoding the encoded ones (for a transaction sent through libovsdb).
func (t *sbTxn) operations() ([]ovsdb.Operation, error) {
	out := make([]ovsdb.Operation, len(t.heads))
	for i := range t.heads {
		if t.raw[i] == nil {
			out[i] = t.plain[i]
			continue
		}
		if err := json.Unmarshal(t.raw[i], &out[i]); err != nil {
			return nil, fmt.Errorf("decode operation %d: %w", i, err)
		}
	}
	return out, nil
}

// check reports the operations res says failed, as
// ovsdb.CheckOperationResults does for libovsdb's operations: res has
// a result per operation, and one more (an error) when the commit
// failed.
func (t *sbTxn) check(res []ovsdb.OperationResult) error {
	if len(res) < len(t.heads) {
		return fmt.Errorf("ovsdb transaction error. %d operations submitted but only %d results received", len(t.heads), len(res))
	}
	var first string
	failed := 0
	for i, r := range res {
		if r.Error == "" {
			continue
		}
		if failed++; failed > 1 {
			continue
		}
		if i >= len(t.heads) {
			first = fmt.Sprintf("commit: %s: %s", r.Error, r.Details)
		} else {
			h := t.heads[i]
			first = fmt.Sprintf("operation %d (%s %s): %s: %s", i, h.op, h.table, r.Error, r.Details)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d ovsdb operations failed, the first: %s", failed, first)
	}
	return nil
}

package embeddeddb

import (
	"fmt"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
)

// convert handles the "convert" method (ovsdb-client convert): the
// database is converted online to a new schema and its file rewritten.
// Monitors on it end: clients that set_db_change_aware get
// monitor_canceled, the others are disconnected, as ovsdb-server does.
func (c *conn) convert(req *request) {
	d, ok := c.dbParam(req)
	if !ok {
		return
	}
	if len(req.params) != 2 || d.file == nil {
		c.replyError(req.id, database.TagSyntax, "convert expects a database name and a schema")
		return
	}
	raw := req.params[1].MarshalTo(nil)
	schema, err := database.ParseSchema(raw)
	if err != nil {
		c.replyError(req.id, database.TagSyntax, err.Error())
		return
	}
	if schema.Name != d.name {
		c.replyError(req.id, database.TagSyntax, fmt.Sprintf("new schema name (%s) does not match database name (%s)", schema.Name, d.name))
		return
	}
	if err := c.srv.convertDB(d, schema, raw); err != nil {
		c.replyError(req.id, database.TagConstraint, err.Error())
		return
	}
	c.replyDirect(req.id, []byte("{}"))
}

func (s *Server) convertDB(d *dbState, schema *database.Schema, raw []byte) error {
	d.mu.Lock()
	d.settleRecordLocked() // the snapshot replaces every record before it
	converted, err := database.Convert(d.db, schema)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	snap := converted.AppendSnapshot(nil, time.Now().UnixMilli())
	if err := d.file.Convert(raw, snap, d.file.LastSeq()); err != nil {
		d.mu.Unlock()
		return fmt.Errorf("rewrite database file: %w", err)
	}
	d.db = converted
	d.schemaJSON = schema.CanonicalJSON()
	d.history, d.historyRows = nil, 0
	d.lastTxnID = d.db.NewUUID()
	for _, m := range d.monitors.takeAll() {
		if m.c.dbChangeAware {
			b := append([]byte(`{"id":null,"method":"monitor_canceled","params":[`), m.id...)
			m.c.send(append(b, "]}"...))
		} else {
			m.c.close()
		}
	}
	d.mu.Unlock()
	s.log.Info("converted database online", "db", d.name, "version", schema.Version)
	ops := []byte(`[{"op":"update","table":"Database","where":[["name","==",`)
	ops = ovsjson.AppendString(ops, d.name)
	ops = append(ops, `]],"row":{"schema":`...)
	ops = ovsjson.AppendString(ops, string(d.schemaJSON))
	ops = append(ops, "}}]"...)
	return s.transactInternal(s.dbs["_Server"], ops)
}

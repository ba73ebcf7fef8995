package embeddeddb

import (
	"fmt"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// historyLimit bounds the row changes kept for monitor_cond_since.
const historyLimit = 20000

// publishLocked records a commit in the history and sends it to every
// monitor. Monitors with the same shape share one encoding. d.mu is held.
func (d *dbState) publishLocked(commit *database.Commit) {
	d.history = append(d.history, commit)
	for _, tc := range commit.Tables {
		d.historyRows += len(tc.Rows)
	}
	for len(d.history) > 1 && d.historyRows > historyLimit {
		for _, tc := range d.history[0].Tables {
			d.historyRows -= len(tc.Rows)
		}
		d.history[0] = nil
		d.history = d.history[1:]
	}
	d.lastTxnID = commit.ID
	var txnPart []byte // update3's transaction id, encoded once
	for _, sh := range d.monitors.shapes {
		body := sh.members[0].appendChanges(nil, commit.Tables, false)
		if len(body) == 0 {
			continue // nothing in the commit concerns this shape
		}
		if sh.members[0].version == 3 && txnPart == nil {
			txnPart = append(ovsjson.AppendString(nil, commit.ID), ',')
		}
		// The encoded body is shared by every client: joined with the
		// monitor's head in d.sendBuf for one send(2), and queued as it
		// is, never copied, when the socket is full.
		for _, m := range sh.members {
			if m.version == 3 {
				m.c.sendJoined(&d.sendBuf, m.head, txnPart, body, notificationEnd)
			} else {
				m.c.sendJoined(&d.sendBuf, m.head, body, notificationEnd)
			}
		}
	}
}

// notificationEnd closes every update notification.
var notificationEnd = []byte("]}")

// notificationHead encodes the start of this monitor's notifications, up
// to and including the comma after the monitor id.
func (m *monitor) notificationHead() []byte {
	b := make([]byte, 0, len(m.id)+48)
	switch m.version {
	case 1:
		b = append(b, `{"id":null,"method":"update","params":[`...)
	case 2:
		b = append(b, `{"id":null,"method":"update2","params":[`...)
	default:
		b = append(b, `{"id":null,"method":"update3","params":[`...)
	}
	b = append(b, m.id...)
	return append(b, ',')
}

func (m *monitor) notification(body []byte, txnID string) []byte {
	b := make([]byte, 0, len(body)+len(m.head)+48)
	b = append(b, m.head...)
	if m.version == 3 {
		b = ovsjson.AppendString(b, txnID)
		b = append(b, ',')
	}
	b = append(b, body...)
	return append(b, notificationEnd...)
}

// appendChanges encodes the table-updates for changes, or returns nil when
// nothing in them concerns this monitor.
func (m *monitor) appendChanges(b []byte, changes []*database.TableChanges, force bool) []byte {
	start := len(b)
	b = append(b, '{')
	any := false
	for _, tc := range changes {
		tm := m.byTable[tc.Table]
		if tm == nil {
			continue
		}
		mark := len(b)
		if any {
			b = append(b, ',')
		}
		b = ovsjson.AppendString(b, tc.Table.Name)
		b = append(b, ":{"...)
		n := 0
		for _, rc := range tc.Rows {
			b, n = tm.appendRowUpdate(b, rc, m.version, n, force)
		}
		if n == 0 {
			b = b[:mark]
			continue
		}
		b = append(b, '}')
		any = true
	}
	if !any {
		return b[:start]
	}
	return append(b, '}')
}

// appendRowUpdate encodes one row's change. With force, the change is a
// condition change: rows enter (Old nil) or leave (New nil) the view.
func (tm *tableMonitor) appendRowUpdate(b []byte, rc *database.RowChange, version, n int, force bool) ([]byte, int) {
	oldIn, newIn := tm.matches(rc.Old), tm.matches(rc.New)
	if force {
		oldIn, newIn = rc.Old != nil, rc.New != nil
	}
	var kind byte
	switch {
	case !oldIn && newIn:
		kind = 'i'
	case oldIn && !newIn:
		kind = 'd'
	case oldIn && newIn:
		kind = 'm'
	default:
		return b, n
	}
	if !force && (kind == 'i' && !tm.insert || kind == 'd' && !tm.delete || kind == 'm' && !tm.modify) {
		return b, n
	}
	if kind == 'm' && !tm.changed(rc.Old, rc.New) {
		return b, n
	}
	if n > 0 {
		b = append(b, ',')
	}
	b = ovsjson.AppendString(b, rc.UUID)
	b = append(b, ':')
	if version == 1 {
		b = tm.appendV1(b, kind, rc)
	} else {
		b = tm.appendV2(b, kind, rc)
	}
	return b, n + 1
}

func (tm *tableMonitor) changed(old, new *database.Row) bool {
	for _, c := range tm.cols {
		if !c.Equal(old.Cols[c.Index], new.Cols[c.Index]) {
			return true
		}
	}
	return false
}

func (tm *tableMonitor) appendV1(b []byte, kind byte, rc *database.RowChange) []byte {
	switch kind {
	case 'i':
		b = append(b, `{"new":`...)
		b = database.AppendRow(b, rc.New, tm.cols)
	case 'd':
		b = append(b, `{"old":`...)
		b = database.AppendRow(b, rc.Old, tm.cols)
	default:
		b = append(b, `{"old":{`...)
		n := 0
		for _, c := range tm.cols {
			if c.Equal(rc.Old.Cols[c.Index], rc.New.Cols[c.Index]) {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = ovsjson.AppendString(b, c.Name)
			b = append(b, ':')
			b = c.AppendDatum(b, rc.Old.Cols[c.Index])
		}
		b = append(b, `},"new":`...)
		b = database.AppendRow(b, rc.New, tm.cols)
	}
	return append(b, '}')
}

func (tm *tableMonitor) appendV2(b []byte, kind byte, rc *database.RowChange) []byte {
	switch kind {
	case 'i':
		b = append(b, `{"insert":`...)
		b = appendNonDefault(b, rc.New, tm.cols)
	case 'd':
		return append(b, `{"delete":null}`...)
	default:
		b = append(b, `{"modify":{`...)
		n := 0
		for _, c := range tm.cols {
			o, nw := rc.Old.Cols[c.Index], rc.New.Cols[c.Index]
			if c.Equal(o, nw) {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = ovsjson.AppendString(b, c.Name)
			b = append(b, ':')
			b = c.AppendDatum(b, c.Diff(o, nw))
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// changesSince merges the history after the commit lastID into one change
// set. found is false when lastID is not in the history.
func (d *dbState) changesSince(lastID string) ([]*database.TableChanges, bool) {
	if lastID == "" || lastID == database.ZeroUUID {
		return nil, false
	}
	if lastID == d.lastTxnID {
		return nil, true
	}
	start := -1
	for i, c := range d.history {
		if c.ID == lastID {
			start = i + 1
		}
	}
	if start < 0 {
		return nil, false
	}
	merged := map[*database.Table]map[string]*database.RowChange{}
	var order []*database.TableChanges
	for _, c := range d.history[start:] {
		for _, tc := range c.Tables {
			rows := merged[tc.Table]
			if rows == nil {
				rows = map[string]*database.RowChange{}
				merged[tc.Table] = rows
				order = append(order, &database.TableChanges{Table: tc.Table})
			}
			for _, rc := range tc.Rows {
				if prev, ok := rows[rc.UUID]; ok {
					prev.New = rc.New
					continue
				}
				nrc := &database.RowChange{UUID: rc.UUID, Old: rc.Old, New: rc.New}
				rows[rc.UUID] = nrc
			}
		}
	}
	for _, tc := range order {
		for _, rc := range merged[tc.Table] {
			tc.Rows = append(tc.Rows, rc)
		}
	}
	return order, true
}

func (c *conn) monitorCondChange(req *request) {
	if len(req.params) != 3 {
		c.replyError(req.id, database.TagSyntax, "monitor_cond_change expects 3 parameters")
		return
	}
	oldID := req.params[0].MarshalTo(nil)
	newID := req.params[1].MarshalTo(nil)
	m := c.monitors[string(oldID)]
	if m == nil {
		c.send(errorReply(req.id, &database.Error{Tag: database.TagSyntax, Details: "unknown monitor session", Syntax: string(oldID)}))
		return
	}
	if string(newID) != string(oldID) {
		if _, dup := c.monitors[string(newID)]; dup {
			c.replyError(req.id, database.TagSyntax, "duplicate monitor ID")
			return
		}
	}
	d := m.d
	d.mu.Lock()
	defer d.mu.Unlock()
	changes, err := m.changeConditions(req.params[2])
	if err != nil {
		c.send(errorReply(req.id, err))
		return
	}
	delete(c.monitors, string(oldID))
	m.id = newID
	c.monitors[string(newID)] = m
	// Its shape changes: it moves to its new group (unless an online
	// conversion canceled it).
	listed := m.shape != nil
	d.monitors.remove(m)
	m.computeSig()
	if listed {
		d.monitors.add(m)
	}
	// ovsdb-server sends the rows entering and leaving the view first.
	if body := m.appendChanges(nil, changes, true); len(body) > 0 {
		c.send(m.notification(body, d.lastTxnID))
	}
	c.reply(req.id, []byte("{}"))
}

// changeConditions installs new conditions and returns the pseudo-changes
// that move rows into or out of the monitor's view.
func (m *monitor) changeConditions(v *fastjson.Value) ([]*database.TableChanges, *database.Error) {
	obj, err := v.Object()
	if err != nil {
		return nil, &database.Error{Tag: database.TagSyntax, Details: "condition changes must be an object"}
	}
	type pending struct {
		tm   *tableMonitor
		cond *database.Condition
		txt  string
	}
	var ps []pending
	var perr *database.Error
	obj.Visit(func(k []byte, rv *fastjson.Value) {
		if perr != nil {
			return
		}
		t := m.d.db.Schema().Table(string(k))
		tm := m.byTable[t]
		if tm == nil {
			perr = &database.Error{Tag: database.TagSyntax, Details: fmt.Sprintf("table %s is not monitored", k)}
			return
		}
		reqs := []*fastjson.Value{rv}
		if rv.Type() == fastjson.TypeArray {
			reqs = rv.GetArray()
		}
		var conds []*database.Condition
		txt := ""
		for _, r := range reqs {
			cond, err := database.ParseMonitorCondition(t, r.Get("where"))
			if err != nil {
				perr = err
				return
			}
			conds = append(conds, cond)
			if w := r.Get("where"); w != nil {
				txt += w.String()
			}
		}
		if len(conds) > 0 {
			ps = append(ps, pending{tm, mergeConds(conds), txt})
		}
	})
	if perr != nil {
		return nil, perr
	}
	var changes []*database.TableChanges
	for _, p := range ps {
		tc := &database.TableChanges{Table: p.tm.t}
		for _, r := range m.d.db.Rows(p.tm.t) {
			was, is := p.tm.matches(r), p.cond == nil || p.cond.Match(r)
			switch {
			case was && !is:
				tc.Rows = append(tc.Rows, &database.RowChange{UUID: r.UUID, Old: r})
			case !was && is:
				tc.Rows = append(tc.Rows, &database.RowChange{UUID: r.UUID, New: r})
			}
		}
		p.tm.cond, p.tm.condTxt = p.cond, p.txt
		if len(tc.Rows) > 0 {
			changes = append(changes, tc)
		}
	}
	return changes, nil
}

func (c *conn) monitorCancel(req *request) {
	if len(req.params) != 1 {
		c.replyError(req.id, database.TagSyntax, "monitor_cancel expects 1 parameter")
		return
	}
	id := req.params[0].MarshalTo(nil)
	m := c.monitors[string(id)]
	if m == nil {
		// ovsdb-server answers with a bare string as the error here.
		c.send(append(append([]byte(`{"id":`), req.id...), `,"error":"unknown monitor"}`...))
		return
	}
	m.d.mu.Lock()
	m.d.monitors.remove(m)
	delete(c.monitors, string(id))
	c.reply(req.id, []byte("{}"))
	m.d.mu.Unlock()
}

package embeddeddb

import (
	"fmt"
	"strings"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/valyala/fastjson"
)

// tableMonitor is what one monitor watches in one table.
type tableMonitor struct {
	t       *database.Table
	cols    []*database.Column
	watched []bool // by column index: is the column monitored
	cond    *database.Condition
	condTxt string
	initial bool
	insert  bool
	delete  bool
	modify  bool
}

// monitor is one client monitor (monitor, monitor_cond or monitor_cond_since).
type monitor struct {
	c       *conn
	d       *dbState
	id      []byte
	version int // 1: update, 2: update2, 3: update3
	tables  []*tableMonitor
	byTable map[*database.Table]*tableMonitor
	sig     string // identical signatures share encoded updates
	// shape is the group of d.monitors holding the monitor, nil when
	// it is in none; slot is its index there.
	shape *monitorShape
	slot  int
	// head starts every notification (method and monitor id). It is
	// replaced, never modified, since queued messages share it.
	head []byte
}

func (m *monitor) computeSig() {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d", m.version)
	for _, tm := range m.tables {
		fmt.Fprintf(&sb, "|%s:%v%v%v%v:", tm.t.Name, tm.initial, tm.insert, tm.delete, tm.modify)
		for _, c := range tm.cols {
			sb.WriteString(c.Name)
			sb.WriteByte(',')
		}
		sb.WriteString(tm.condTxt)
	}
	m.sig = sb.String()
	m.head = m.notificationHead()
}

func monitorVersion(method string) int {
	switch method {
	case "monitor":
		return 1
	case "monitor_cond":
		return 2
	}
	return 3
}

func (c *conn) monitor(req *request) {
	d, ok := c.dbParam(req)
	if !ok {
		return
	}
	version := monitorVersion(req.method)
	want := 3
	if version == 3 {
		want = 4
	}
	if len(req.params) != want {
		c.replyError(req.id, database.TagSyntax, fmt.Sprintf("%s expects %d parameters", req.method, want))
		return
	}
	monID := req.params[1].MarshalTo(nil)
	if _, dup := c.monitors[string(monID)]; dup {
		c.send(errorReply(req.id, &database.Error{Tag: database.TagSyntax, Details: "duplicate monitor ID", Syntax: string(monID)}))
		return
	}
	m := &monitor{c: c, d: d, id: monID, version: version, byTable: map[*database.Table]*tableMonitor{}}
	if err := m.parseRequests(req.params[2]); err != nil {
		c.send(errorReply(req.id, err))
		return
	}
	m.computeSig()
	lastID := ""
	if version == 3 {
		lastID = string(req.params[3].GetStringBytes())
	}
	d.mu.Lock()
	result := m.initialReply(lastID)
	d.monitors.add(m)
	c.monitors[string(monID)] = m
	c.replyParts(req.id, result)
	d.mu.Unlock()
}

func (m *monitor) parseRequests(v *fastjson.Value) *database.Error {
	obj, err := v.Object()
	if err != nil {
		return &database.Error{Tag: database.TagSyntax, Details: "monitor requests must be an object", Syntax: v.String()}
	}
	var perr *database.Error
	obj.Visit(func(k []byte, rv *fastjson.Value) {
		if perr != nil {
			return
		}
		t := m.d.db.Schema().Table(string(k))
		if t == nil {
			perr = &database.Error{Tag: database.TagSyntax, Details: fmt.Sprintf("no table named %s", k)}
			return
		}
		reqs := []*fastjson.Value{rv}
		if rv.Type() == fastjson.TypeArray {
			reqs = rv.GetArray()
		}
		tm, err := m.parseTable(t, reqs)
		if err != nil {
			perr = err
			return
		}
		m.tables = append(m.tables, tm)
		m.byTable[t] = tm
	})
	return perr
}

// parseTable merges one table's monitor requests (usually just one).
func (m *monitor) parseTable(t *database.Table, reqs []*fastjson.Value) (*tableMonitor, *database.Error) {
	tm := &tableMonitor{t: t, watched: make([]bool, len(t.Columns))}
	var conds []*database.Condition
	for _, r := range reqs {
		if r.Type() != fastjson.TypeObject {
			return nil, &database.Error{Tag: database.TagSyntax, Details: "monitor request must be an object", Syntax: r.String()}
		}
		if err := tm.parseColumns(r.Get("columns")); err != nil {
			return nil, err
		}
		if err := tm.parseSelect(r.Get("select")); err != nil {
			return nil, err
		}
		if m.version == 1 {
			continue
		}
		cond, err := database.ParseMonitorCondition(t, r.Get("where"))
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
		if w := r.Get("where"); w != nil {
			tm.condTxt += w.String()
		}
	}
	if len(conds) > 0 {
		tm.cond = mergeConds(conds)
	}
	for _, c := range t.Columns {
		if tm.watched[c.Index] {
			tm.cols = append(tm.cols, c)
		}
	}
	return tm, nil
}

func mergeConds(conds []*database.Condition) *database.Condition {
	if len(conds) == 1 {
		return conds[0]
	}
	out := &database.Condition{Any: true}
	for _, c := range conds {
		out.Clauses = append(out.Clauses, c.Clauses...)
	}
	return out
}

func (tm *tableMonitor) parseColumns(v *fastjson.Value) *database.Error {
	if v == nil {
		for i := range tm.watched {
			tm.watched[i] = true
		}
		return nil
	}
	arr, err := v.Array()
	if err != nil {
		return &database.Error{Tag: database.TagSyntax, Details: "columns must be an array", Syntax: v.String()}
	}
	for _, cv := range arr {
		c := tm.t.Column(string(cv.GetStringBytes()))
		if c == nil {
			return &database.Error{Tag: database.TagSyntax, Details: fmt.Sprintf("%s is not a valid column name", cv.String()), Syntax: cv.String()}
		}
		if tm.watched[c.Index] {
			return &database.Error{Tag: database.TagSyntax, Details: "column name mentioned more than once", Syntax: cv.String()}
		}
		tm.watched[c.Index] = true
	}
	return nil
}

func (tm *tableMonitor) parseSelect(v *fastjson.Value) *database.Error {
	flag := func(name string, cur bool) bool {
		if v == nil || v.Get(name) == nil {
			return true // every kind of change is selected by default
		}
		return cur || v.Get(name).Type() == fastjson.TypeTrue
	}
	tm.initial = flag("initial", tm.initial)
	tm.insert = flag("insert", tm.insert)
	tm.delete = flag("delete", tm.delete)
	tm.modify = flag("modify", tm.modify)
	return nil
}

func (tm *tableMonitor) matches(r *database.Row) bool {
	return r != nil && (tm.cond == nil || tm.cond.Match(r))
}

// initialReply builds the monitor's reply: the initial rows, or for
// monitor_cond_since the changes after lastID when the history has them.
// A large reply comes in parts (see partBuf).
func (m *monitor) initialReply(lastID string) [][]byte {
	var p partBuf
	if m.version != 3 {
		m.appendInitial(&p)
		return p.list()
	}
	d := m.d
	p.b = append(p.b, '[')
	if changes, found := d.changesSince(lastID); found {
		p.b = append(p.b, "true,"...)
		p.b = ovsjson.AppendString(p.b, d.lastTxnID)
		p.b = append(p.b, ',')
		body := m.appendChanges(nil, changes, false)
		if len(body) == 0 {
			body = []byte("{}")
		}
		p.b = append(p.b, body...)
		p.b = append(p.b, ']')
		return p.list()
	}
	p.b = append(p.b, "false,"...)
	p.b = ovsjson.AppendString(p.b, d.lastTxnID)
	p.b = append(p.b, ',')
	m.appendInitial(&p)
	p.b = append(p.b, ']')
	return p.list()
}

func (m *monitor) appendInitial(p *partBuf) {
	p.b = append(p.b, '{')
	first := true
	for _, tm := range m.tables {
		if !tm.initial {
			continue
		}
		n := 0
		for _, r := range m.d.db.Rows(tm.t) {
			if !tm.matches(r) {
				continue
			}
			b := p.b
			if n == 0 {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = ovsjson.AppendString(b, tm.t.Name)
				b = append(b, ":{"...)
			} else {
				b = append(b, ',')
			}
			n++
			b = ovsjson.AppendString(b, r.UUID)
			if m.version == 1 {
				b = append(b, `:{"new":`...)
				b = database.AppendRow(b, r, tm.cols)
			} else {
				b = append(b, `:{"initial":`...)
				b = appendNonDefault(b, r, tm.cols)
			}
			p.b = append(b, '}')
			p.cut()
		}
		if n > 0 {
			p.b = append(p.b, '}')
		}
	}
	p.b = append(p.b, '}')
}

// partBuf builds a large message as a list of buffers of about partSize
// bytes each. One buffer grown to the size of the whole message (the
// initial rows of a large database: megabytes) would leave behind about
// four times that in garbage, since append grows large slices by a
// quarter at a time, and then be copied once more into the reply; the
// parts are written as they are (sendParts) and freed once written.
type partBuf struct {
	done [][]byte
	b    []byte // the part being filled
}

const partSize = 64 << 10

// cut starts a new part once the current one is full.
func (p *partBuf) cut() {
	if len(p.b) >= partSize {
		p.done = append(p.done, p.b)
		p.b = make([]byte, 0, partSize+partSize/4)
	}
}

// list returns the parts, in order.
func (p *partBuf) list() [][]byte {
	if len(p.b) > 0 {
		p.done = append(p.done, p.b)
		p.b = nil
	}
	return p.done
}

func appendNonDefault(b []byte, r *database.Row, cols []*database.Column) []byte {
	b = append(b, '{')
	n := 0
	for _, c := range cols {
		d := r.Cols[c.Index]
		if c.IsDefault(d) {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = ovsjson.AppendString(b, c.Name)
		b = append(b, ':')
		b = c.AppendDatum(b, d)
	}
	return append(b, '}')
}

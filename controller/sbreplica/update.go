package sbreplica

import (
	"errors"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/valyala/fastjson"
)

// Monitor protocol versions: the shape of <table-updates> they carry.
const (
	updateV1 = 1 // monitor: {"old": row, "new": row}
	updateV2 = 2 // monitor_cond, monitor_cond_since: initial/insert/modify/delete
)

// errInconsistent marks an update that does not fit the replica (a
// modify of a row it does not have): only a full resync can repair it.
var errInconsistent = errors.New("update does not match the replica")

// decodeUpdates decodes a <table-updates> (version 1) or
// <table-updates2> object into a batch. full starts from empty tables
// (an initial reply that is not a resumption).
func (r *Replica) decodeUpdates(raw []byte, version int, full bool) (*batch, error) {
	b, end, err := r.decodeUpdatesAt(raw, skipSpace(raw, 0), version, full)
	if err == nil {
		err = atEnd(raw, end)
	}
	if err != nil {
		return nil, fmt.Errorf("table updates: %w", err)
	}
	return b, nil
}

// decodeUpdatesAt decodes the <table-updates> that starts at raw[i] and
// returns the index after it. It walks the table and row maps in place,
// and parses only each row with fastjson.
func (r *Replica) decodeUpdatesAt(raw []byte, i int, version int, full bool) (*batch, int, error) {
	b := &batch{full: full, rows: map[string]map[string]model.Model{}}
	end, err := walkObject(raw, i, func(key []byte, i int) (int, error) {
		t := r.tables[string(key)]
		if t == nil {
			return 0, fmt.Errorf("update for table %q, which is not monitored", key)
		}
		end, err := r.decodeTable(b, t, raw, i, version)
		if err != nil {
			return 0, fmt.Errorf("table %s: %w", t.codec.name, err)
		}
		return end, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return b, end, nil
}

// rowParserMax: a row update larger than this gets a parser of its own,
// so that one huge row does not leave a huge parser behind.
const rowParserMax = 1 << 20

// decodeTable decodes the <table-update> at raw[i].
func (r *Replica) decodeTable(b *batch, t *table, raw []byte, i int, version int) (int, error) {
	rows := b.rows[t.codec.name]
	if rows == nil {
		rows = map[string]model.Model{}
		b.rows[t.codec.name] = rows
	}
	return walkObject(raw, i, func(key []byte, i int) (int, error) {
		if len(key) != 36 {
			return 0, fmt.Errorf("row update for %q, which is not a UUID", key)
		}
		end, err := skipValue(raw, i)
		if err != nil {
			return 0, fmt.Errorf("row %s: %w", key, err)
		}
		rv := raw[i:end]
		uuid := string(key)
		p := &r.rowParser
		if len(rv) > rowParserMax {
			p = &fastjson.Parser{}
		}
		v, err := p.ParseBytes(rv)
		if err != nil {
			return 0, fmt.Errorf("row %s: %w", uuid, err)
		}
		var m model.Model
		if version == updateV1 {
			m, err = r.decodeRowV1(b, t, uuid, v)
		} else {
			m, err = r.decodeRowV2(b, t, uuid, v)
		}
		if err != nil {
			return 0, fmt.Errorf("row %s: %w", uuid, err)
		}
		rows[uuid] = m
		return end, nil
	})
}

// decodeRowV2 decodes a <row-update2>: the new row, or nil for a delete.
func (r *Replica) decodeRowV2(b *batch, t *table, uuid string, v *fastjson.Value) (model.Model, error) {
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return nil, errors.New("row update is not an object with one member")
	}
	var (
		op  string
		row *fastjson.Value
	)
	o.Visit(func(key []byte, v *fastjson.Value) { op, row = string(key), v })
	switch op {
	case "initial", "insert":
		ro, err := row.Object()
		if err != nil {
			return nil, fmt.Errorf("%s: row is not an object", op)
		}
		return r.dec.row(t.codec, uuid, ro, nil, false)
	case "modify":
		ro, err := row.Object()
		if err != nil {
			return nil, errors.New("modify: row is not an object")
		}
		old, ok := r.lookup(b, t, uuid)
		if !ok {
			return nil, fmt.Errorf("modify of a row the replica does not have: %w", errInconsistent)
		}
		return r.dec.row(t.codec, uuid, ro, old, true)
	case "delete":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown row update %q", op)
}

// decodeRowV1 decodes a <row-update> of the original monitor: "new" is
// the whole row (nil for a delete).
func (r *Replica) decodeRowV1(b *batch, t *table, uuid string, v *fastjson.Value) (model.Model, error) {
	o, err := v.Object()
	if err != nil {
		return nil, errors.New("row update is not an object")
	}
	nv := o.Get("new")
	if nv == nil {
		if o.Get("old") == nil {
			return nil, errors.New(`row update has neither "old" nor "new"`)
		}
		return nil, nil
	}
	ro, err := nv.Object()
	if err != nil {
		return nil, errors.New(`"new" is not an object`)
	}
	// "new" carries every monitored column; starting from the old row
	// keeps any the server left out.
	old, _ := r.lookup(b, t, uuid)
	return r.dec.row(t.codec, uuid, ro, old, false)
}

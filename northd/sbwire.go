package northd

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/ovnd/ovnd/internal/ovsjson"
)

// appendOp appends op to b as RFC 7047 JSON, meaning what libovsdb's
// json.Marshal(op) means. The values northd's plans hold (strings,
// integers, booleans, UUIDs, sets and maps of those) are written
// directly; an operation with anything else is handed to encoding/json
// whole. A bulk round writes some 40,000 operations: through
// encoding/json (reflection, every operation marshalled twice) that was
// about as much CPU as computing them.
func appendOp(b []byte, op ovsdb.Operation) ([]byte, error) {
	if !plainOp(op) {
		j, err := json.Marshal(op)
		return append(b, j...), err
	}
	b = append(b, `{"op":`...)
	b = ovsjson.AppendString(b, op.Op)
	if op.Table != "" {
		b = append(b, `,"table":`...)
		b = ovsjson.AppendString(b, op.Table)
	}
	if op.UUID != "" {
		b = append(b, `,"uuid":`...)
		b = ovsjson.AppendString(b, op.UUID)
	}
	if op.UUIDName != "" {
		b = append(b, `,"uuid-name":`...)
		b = ovsjson.AppendString(b, op.UUIDName)
	}
	if len(op.Row) > 0 {
		b = append(b, `,"row":`...)
		b = appendRow(b, op.Row)
	}
	if len(op.Where) > 0 || op.Op == ovsdb.OperationSelect {
		b = append(b, `,"where":[`...)
		for i, c := range op.Where {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = ovsjson.AppendString(b, c.Column)
			b = append(b, ',')
			b = ovsjson.AppendString(b, string(c.Function))
			b = append(b, ',')
			b = appendValue(b, c.Value)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// plainOp reports whether appendOp writes op itself: it uses no field
// beyond op, table, uuid, uuid-name, row and where, and its values are
// of the kinds appendValue writes.
func plainOp(op ovsdb.Operation) bool {
	if op.Rows != nil || op.Columns != nil || op.Mutations != nil || op.Timeout != nil || op.Until != "" ||
		op.Durable != nil || op.Comment != nil || op.Lock != nil {
		return false
	}
	for _, v := range op.Row {
		if !plainValue(v) {
			return false
		}
	}
	for _, c := range op.Where {
		if !plainValue(c.Value) {
			return false
		}
	}
	return true
}

func plainValue(v any) bool {
	switch v := v.(type) {
	case ovsdb.OvsSet:
		for _, e := range v.GoSet {
			if !plainAtom(e) {
				return false
			}
		}
		return true
	case ovsdb.OvsMap:
		for k, e := range v.GoMap {
			if !plainAtom(k) || !plainAtom(e) {
				return false
			}
		}
		return true
	}
	return plainAtom(v)
}

func plainAtom(v any) bool {
	switch v := v.(type) {
	case string, int, bool, ovsdb.UUID:
		return true
	case float64:
		return v == float64(int64(v))
	}
	return false
}

// appendRow writes the columns in sorted order, as encoding/json does.
func appendRow(b []byte, r ovsdb.Row) []byte {
	cols := make([]string, 0, len(r))
	for c := range r {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	b = append(b, '{')
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = ovsjson.AppendString(b, c)
		b = append(b, ':')
		b = appendValue(b, r[c])
	}
	return append(b, '}')
}

// appendValue writes a value plainValue accepts.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case ovsdb.OvsSet:
		if len(v.GoSet) == 1 {
			return appendAtom(b, v.GoSet[0])
		}
		b = append(b, `["set",[`...)
		for i, e := range v.GoSet {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAtom(b, e)
		}
		return append(b, "]]"...)
	case ovsdb.OvsMap:
		keys := make([]any, 0, len(v.GoMap))
		for k := range v.GoMap {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y any) int { return compareAtoms(x, y) })
		b = append(b, `["map",[`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendAtom(b, k)
			b = append(b, ',')
			b = appendAtom(b, v.GoMap[k])
			b = append(b, ']')
		}
		return append(b, "]]"...)
	}
	return appendAtom(b, v)
}

func appendAtom(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return ovsjson.AppendString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return strconv.AppendInt(b, int64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	case ovsdb.UUID:
		if ovsjson.IsLowerUUID(v.GoUUID) {
			b = append(b, `["uuid",`...)
		} else {
			b = append(b, `["named-uuid",`...)
		}
		b = ovsjson.AppendString(b, v.GoUUID)
		return append(b, ']')
	}
	j, _ := json.Marshal(v) // not reached: plainOp vets every value
	return append(b, j...)
}

// compareAtoms orders map keys: strings and integers by value, UUIDs by
// text. Keys of one map are all of one kind.
func compareAtoms(x, y any) int {
	switch x := x.(type) {
	case string:
		if y, ok := y.(string); ok {
			return cmpOrdered(x, y)
		}
	case int:
		if y, ok := y.(int); ok {
			return cmpOrdered(x, y)
		}
	case ovsdb.UUID:
		if y, ok := y.(ovsdb.UUID); ok {
			return cmpOrdered(x.GoUUID, y.GoUUID)
		}
	}
	return 0
}

func cmpOrdered[T int | string](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

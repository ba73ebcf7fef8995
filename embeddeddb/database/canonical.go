package database

import (
	"encoding/json"
	"math"
)

// CanonicalJSON renders the schema the way ovsdb-server does for
// get_schema and in _Server's Database.schema column: defaults omitted
// (min and max of 1, strong references, unconstrained bounds), simple
// types as bare strings, enums sorted, object keys sorted.
func (s *Schema) CanonicalJSON() []byte {
	tables := map[string]any{}
	for _, t := range s.Tables {
		tables[t.Name] = t.canonical()
	}
	out := map[string]any{"name": s.Name, "version": s.Version, "tables": tables}
	if s.Cksum != "" {
		out["cksum"] = s.Cksum
	}
	b, _ := json.Marshal(out)
	return b
}

func (t *Table) canonical() map[string]any {
	cols := map[string]any{}
	for _, c := range t.Columns {
		cols[c.Name] = c.canonical()
	}
	out := map[string]any{"columns": cols}
	if t.MaxRows != math.MaxInt {
		out["maxRows"] = t.MaxRows
	}
	if t.IsRoot && !t.allRoot {
		out["isRoot"] = true
	}
	if len(t.Indexes) > 0 {
		var idx [][]string
		for _, ix := range t.Indexes {
			var names []string
			for _, ci := range ix {
				names = append(names, t.Columns[ci].Name)
			}
			idx = append(idx, names)
		}
		out["indexes"] = idx
	}
	return out
}

func (c *Column) canonical() map[string]any {
	out := map[string]any{"type": c.canonicalType()}
	if c.Ephemeral {
		out["ephemeral"] = true
	}
	if !c.Mutable {
		out["mutable"] = false
	}
	return out
}

func (c *Column) canonicalType() any {
	key := c.Key.canonical()
	if c.Min == 1 && c.Max == 1 && c.Value == nil {
		if _, simple := key.(string); simple {
			return key
		}
	}
	out := map[string]any{"key": key}
	if c.Value != nil {
		out["value"] = c.Value.canonical()
	}
	if c.Min != 1 {
		out["min"] = c.Min
	}
	switch {
	case c.Max == math.MaxInt:
		out["max"] = "unlimited"
	case c.Max != 1:
		out["max"] = c.Max
	}
	return out
}

func (bt *BaseType) canonical() any {
	out := map[string]any{"type": bt.Type.String()}
	if bt.Enum != nil {
		if len(bt.Enum.Keys) == 1 {
			out["enum"] = json.RawMessage(AppendAtom(nil, bt.Type, bt.Enum.Keys[0]))
		} else {
			col := &Column{Key: BaseType{Type: bt.Type}, Min: 0, Max: math.MaxInt}
			out["enum"] = json.RawMessage(col.AppendDatum(nil, *bt.Enum))
		}
	}
	switch bt.Type {
	case TypeInteger:
		if bt.MinInt != math.MinInt64 {
			out["minInteger"] = bt.MinInt
		}
		if bt.MaxInt != math.MaxInt64 {
			out["maxInteger"] = bt.MaxInt
		}
	case TypeReal:
		if bt.MinReal != -math.MaxFloat64 {
			out["minReal"] = bt.MinReal
		}
		if bt.MaxReal != math.MaxFloat64 {
			out["maxReal"] = bt.MaxReal
		}
	case TypeString:
		if bt.MinLen != 0 {
			out["minLength"] = bt.MinLen
		}
		if bt.MaxLen != math.MaxInt {
			out["maxLength"] = bt.MaxLen
		}
	case TypeUUID:
		if bt.RefTableName != "" {
			out["refTable"] = bt.RefTableName
			if bt.Weak {
				out["refType"] = "weak"
			}
		}
	}
	if len(out) == 1 {
		return bt.Type.String()
	}
	return out
}

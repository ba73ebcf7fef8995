package interop

import (
	"fmt"
	"sort"
)

// canonicalSchema rewrites a parsed OVSDB schema (RFC 7047 section 3.2)
// with every default spelled out and every enum sorted, so that two
// schemas that mean the same compare equal.
func canonicalSchema(v any) any {
	schema, _ := v.(map[string]any)
	tables, _ := schema["tables"].(map[string]any)
	for _, tv := range tables {
		table, _ := tv.(map[string]any)
		setDefault(table, "isRoot", false)
		setDefault(table, "indexes", []any{})
		columns, _ := table["columns"].(map[string]any)
		for _, cv := range columns {
			col, _ := cv.(map[string]any)
			setDefault(col, "ephemeral", false)
			setDefault(col, "mutable", true)
			col["type"] = canonicalType(col["type"])
		}
	}
	return schema
}

func setDefault(m map[string]any, key string, def any) {
	if _, ok := m[key]; !ok {
		m[key] = def
	}
}

// canonicalType expands an <atomic-type> or <type> to the full <type>
// object with min and max, and base types to objects.
func canonicalType(v any) any {
	typ, ok := v.(map[string]any)
	if !ok {
		typ = map[string]any{"key": v}
	}
	setDefault(typ, "min", float64(1))
	setDefault(typ, "max", float64(1))
	typ["key"] = canonicalBase(typ["key"])
	if val, ok := typ["value"]; ok {
		typ["value"] = canonicalBase(val)
	}
	return typ
}

func canonicalBase(v any) any {
	base, ok := v.(map[string]any)
	if !ok {
		return map[string]any{"type": v}
	}
	if _, ok := base["refTable"]; ok {
		setDefault(base, "refType", "strong")
	}
	switch enum := base["enum"].(type) {
	case nil:
	case []any:
		if items, ok := enum[1].([]any); len(enum) == 2 && ok {
			sort.Slice(items, func(i, j int) bool { return fmt.Sprint(items[i]) < fmt.Sprint(items[j]) })
		}
	default:
		// A one-value enum may be written as the bare atom.
		base["enum"] = []any{"set", []any{enum}}
	}
	return base
}

// Package database owns ovnd's in-memory OVSDB databases: compiled schemas,
// rows and their values, and the RFC 7047 transaction engine with the full
// schema semantics (constraints, strong and weak references, garbage
// collection, unique indexes, immutable columns, named UUIDs). It does no
// I/O, starts no goroutines and reads no clock: the server serialises calls
// and supplies time and storage around it.
package database

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/valyala/fastjson"
)

// AtomicType is one of RFC 7047's five atomic types.
type AtomicType uint8

// The atomic types.
const (
	TypeInteger AtomicType = iota
	TypeReal
	TypeBoolean
	TypeString
	TypeUUID
)

var atomicTypeNames = [...]string{"integer", "real", "boolean", "string", "uuid"}

func (t AtomicType) String() string { return atomicTypeNames[t] }

func parseAtomicType(s string) (AtomicType, error) {
	for i, n := range atomicTypeNames {
		if n == s {
			return AtomicType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown atomic type %q", s)
}

// BaseType is a column's key or value type with its constraints.
type BaseType struct {
	Type    AtomicType
	Enum    *Datum // sorted set of allowed values, nil when unconstrained
	MinInt  int64
	MaxInt  int64
	MinReal float64
	MaxReal float64
	MinLen  int
	MaxLen  int // math.MaxInt when unconstrained
	// RefTableName names the referenced table for uuid types ("" if none);
	// RefTable is the compiled table, and Weak is the reference type.
	RefTableName string
	RefTable     *Table
	Weak         bool
}

// Column is a compiled column schema.
type Column struct {
	Name      string
	Index     int
	Key       BaseType
	Value     *BaseType // non-nil for maps
	Min, Max  int       // Max is math.MaxInt for "unlimited"
	Mutable   bool
	Ephemeral bool
	table     *Table
}

// IsMap reports whether the column holds a map.
func (c *Column) IsMap() bool { return c.Value != nil }

// IsScalar reports whether the column holds exactly one value.
func (c *Column) IsScalar() bool { return c.Min == 1 && c.Max == 1 && c.Value == nil }

// IsOptional reports whether the column holds zero or one value.
func (c *Column) IsOptional() bool { return c.Min == 0 && c.Max == 1 }

// Table is a compiled table schema.
type Table struct {
	Name    string
	Index   int
	Columns []*Column // sorted by name
	byName  map[string]*Column
	MaxRows int // math.MaxInt when unlimited
	IsRoot  bool
	allRoot bool // IsRoot only because no table in the schema says isRoot
	// Indexes lists the unique indexes, each as column indexes.
	Indexes [][]int
	// refsIn lists the columns of any table that reference this table.
	refsIn []*Column
	// defaults holds each column's default value, shared by new rows
	// (datums are never modified in place).
	defaults []Datum
	// refColumns lists this table's columns that hold references.
	refColumns []*Column
	// hasWeak reports whether any column holds weak references.
	hasWeak bool
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column { return t.byName[name] }

// Schema is a compiled database schema.
type Schema struct {
	Name    string
	Version string
	Cksum   string
	// Raw is the schema JSON exactly as loaded, for get_schema and the
	// database file's first record.
	Raw    json.RawMessage
	Tables []*Table // sorted by name
	byName map[string]*Table
}

// Table returns the named table, or nil.
func (s *Schema) Table(name string) *Table { return s.byName[name] }

// The schema is parsed here rather than with libovsdb's ovsdb.DatabaseSchema:
// that parser loses maxRows and reads minLength from maxLength (v0.8.1), and
// a server must enforce both.

type rawSchema struct {
	Name    string              `json:"name"`
	Version string              `json:"version"`
	Cksum   string              `json:"cksum"`
	Tables  map[string]rawTable `json:"tables"`
}

type rawTable struct {
	Columns map[string]rawColumn `json:"columns"`
	MaxRows *int                 `json:"maxRows"`
	IsRoot  bool                 `json:"isRoot"`
	Indexes [][]string           `json:"indexes"`
}

type rawColumn struct {
	Type      rawType `json:"type"`
	Ephemeral bool    `json:"ephemeral"`
	Mutable   *bool   `json:"mutable"`
}

type rawType struct {
	Key   rawBase
	Value *rawBase
	Min   int
	Max   int // -1: unlimited
}

func (t *rawType) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*t = rawType{Key: rawBase{Type: s}, Min: 1, Max: 1}
		return nil
	}
	var obj struct {
		Key   rawBase         `json:"key"`
		Value *rawBase        `json:"value"`
		Min   *int            `json:"min"`
		Max   json.RawMessage `json:"max"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*t = rawType{Key: obj.Key, Value: obj.Value, Min: 1, Max: 1}
	if obj.Min != nil {
		t.Min = *obj.Min
	}
	if len(obj.Max) > 0 {
		if string(obj.Max) == `"unlimited"` {
			t.Max = -1
		} else if err := json.Unmarshal(obj.Max, &t.Max); err != nil {
			return fmt.Errorf("bad max %s", obj.Max)
		}
	}
	return nil
}

type rawBase struct {
	Type       string          `json:"type"`
	Enum       json.RawMessage `json:"enum"`
	MinInteger *int64          `json:"minInteger"`
	MaxInteger *int64          `json:"maxInteger"`
	MinReal    *float64        `json:"minReal"`
	MaxReal    *float64        `json:"maxReal"`
	MinLength  *int            `json:"minLength"`
	MaxLength  *int            `json:"maxLength"`
	RefTable   string          `json:"refTable"`
	RefType    string          `json:"refType"`
}

func (r *rawBase) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = rawBase{Type: s}
		return nil
	}
	type plain rawBase
	return json.Unmarshal(b, (*plain)(r))
}

// ParseSchema compiles a schema in .ovsschema JSON form.
func ParseSchema(raw []byte) (*Schema, error) {
	var rs rawSchema
	if err := json.Unmarshal(raw, &rs); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	if rs.Name == "" {
		return nil, fmt.Errorf("parse schema: missing name")
	}
	s := &Schema{Name: rs.Name, Version: rs.Version, Cksum: rs.Cksum,
		Raw: append(json.RawMessage(nil), raw...), byName: map[string]*Table{}}
	anyRoot := false
	for name, rt := range rs.Tables {
		t, err := compileTable(name, rt)
		if err != nil {
			return nil, fmt.Errorf("parse schema: table %s: %w", name, err)
		}
		anyRoot = anyRoot || t.IsRoot
		s.Tables = append(s.Tables, t)
		s.byName[name] = t
	}
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	for i, t := range s.Tables {
		t.Index = i
		if !anyRoot {
			t.IsRoot = true // RFC 7047: no isRoot anywhere means all are roots
			t.allRoot = true
		}
	}
	if err := s.linkReferences(); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	return s, nil
}

func (s *Schema) linkReferences() error {
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			refs := false
			for _, bt := range []*BaseType{&c.Key, c.Value} {
				if bt == nil || bt.RefTableName == "" {
					continue
				}
				bt.RefTable = s.byName[bt.RefTableName]
				if bt.RefTable == nil {
					return fmt.Errorf("column %s.%s refers to unknown table %s", t.Name, c.Name, bt.RefTableName)
				}
				bt.RefTable.refsIn = append(bt.RefTable.refsIn, c)
				refs = true
			}
			if refs {
				t.refColumns = append(t.refColumns, c)
				t.hasWeak = t.hasWeak || c.Key.Weak || c.Value != nil && c.Value.Weak
			}
		}
	}
	return nil
}

func compileTable(name string, rt rawTable) (*Table, error) {
	t := &Table{Name: name, IsRoot: rt.IsRoot, MaxRows: math.MaxInt, byName: map[string]*Column{}}
	if rt.MaxRows != nil {
		t.MaxRows = *rt.MaxRows
	}
	for cname, rc := range rt.Columns {
		c, err := compileColumn(cname, rc)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", cname, err)
		}
		t.Columns = append(t.Columns, c)
	}
	sort.Slice(t.Columns, func(i, j int) bool { return t.Columns[i].Name < t.Columns[j].Name })
	for i, c := range t.Columns {
		c.Index = i
		c.table = t
		t.byName[c.Name] = c
		t.defaults = append(t.defaults, defaultDatum(c))
	}
	for _, idx := range rt.Indexes {
		var cols []int
		for _, cn := range idx {
			c := t.byName[cn]
			if c == nil {
				return nil, fmt.Errorf("index names unknown column %s", cn)
			}
			cols = append(cols, c.Index)
		}
		t.Indexes = append(t.Indexes, cols)
	}
	return t, nil
}

func compileColumn(name string, rc rawColumn) (*Column, error) {
	c := &Column{Name: name, Min: rc.Type.Min, Max: rc.Type.Max, Mutable: true, Ephemeral: rc.Ephemeral}
	if rc.Mutable != nil {
		c.Mutable = *rc.Mutable
	}
	if c.Max == -1 {
		c.Max = math.MaxInt
	}
	if c.Min < 0 || c.Min > 1 || c.Max < 1 || c.Min > c.Max {
		return nil, fmt.Errorf("bad min %d / max %d", c.Min, c.Max)
	}
	key, err := compileBaseType(rc.Type.Key)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	c.Key = key
	if rc.Type.Value != nil {
		v, err := compileBaseType(*rc.Type.Value)
		if err != nil {
			return nil, fmt.Errorf("value: %w", err)
		}
		c.Value = &v
	}
	return c, nil
}

func compileBaseType(b rawBase) (BaseType, error) {
	at, err := parseAtomicType(b.Type)
	if err != nil {
		return BaseType{}, err
	}
	bt := BaseType{Type: at, MinInt: math.MinInt64, MaxInt: math.MaxInt64,
		MinReal: -math.MaxFloat64, MaxReal: math.MaxFloat64, MaxLen: math.MaxInt}
	if b.MinInteger != nil {
		bt.MinInt = *b.MinInteger
	}
	if b.MaxInteger != nil {
		bt.MaxInt = *b.MaxInteger
	}
	if b.MinReal != nil {
		bt.MinReal = *b.MinReal
	}
	if b.MaxReal != nil {
		bt.MaxReal = *b.MaxReal
	}
	if b.MinLength != nil {
		bt.MinLen = *b.MinLength
	}
	if b.MaxLength != nil {
		bt.MaxLen = *b.MaxLength
	}
	if at == TypeUUID && b.RefTable != "" {
		bt.RefTableName = b.RefTable
		bt.Weak = b.RefType == "weak"
	}
	if len(b.Enum) > 0 {
		enum, err := compileEnum(at, b.Enum)
		if err != nil {
			return BaseType{}, err
		}
		bt.Enum = enum
	}
	return bt, nil
}

func compileEnum(at AtomicType, raw json.RawMessage) (*Datum, error) {
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("enum: %w", err)
	}
	bt := &BaseType{Type: at, MinInt: math.MinInt64, MaxInt: math.MaxInt64,
		MinReal: -math.MaxFloat64, MaxReal: math.MaxFloat64, MaxLen: math.MaxInt}
	col := &Column{Key: *bt, Min: 0, Max: math.MaxInt}
	d, perr := parseDatum(col, v, nil)
	if perr != nil {
		return nil, fmt.Errorf("enum: %w", perr)
	}
	return &d, nil
}

package sbreplica

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
	"github.com/valyala/fastjson"
)

// tableCodec decodes the rows of one table straight into the model's
// struct, resolved once from the struct's `ovsdb:"col"` tags and the
// schema.
type tableCodec struct {
	name    string
	typ     reflect.Type // the struct type (not the pointer)
	uuidOff uintptr      // offset of the string field tagged _uuid
	cols    map[string]*column
	names   []string // the columns to request, in schema order
}

// column is one column's field and the functions that fill it.
type column struct {
	name string
	off  uintptr
	// decode stores the full value v in the field at p.
	decode func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error
	// diff applies an update2 "modify" difference v to the field at p,
	// which holds a copy of the old row's value; it never mutates what
	// that value points to.
	diff func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error
}

// newTableCodec resolves the model type of one table against its schema.
func newTableCodec(name string, typ reflect.Type, ts *ovsdb.TableSchema, want []string) (*tableCodec, error) {
	if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("table %s: model type %v is not a pointer to a struct", name, typ)
	}
	st := typ.Elem()
	tc := &tableCodec{name: name, typ: st, uuidOff: ^uintptr(0), cols: map[string]*column{}}
	fields := map[string]reflect.StructField{}
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if tag := f.Tag.Get("ovsdb"); tag != "" {
			fields[tag] = f
		}
	}
	uf, ok := fields["_uuid"]
	if !ok || uf.Type.Kind() != reflect.String {
		return nil, fmt.Errorf("table %s: model has no string field tagged _uuid", name)
	}
	tc.uuidOff = uf.Offset
	if want == nil {
		for col := range ts.Columns {
			if _, ok := fields[col]; ok {
				want = append(want, col)
			}
		}
	}
	for _, col := range want {
		cs := ts.Column(col)
		if cs == nil || col == "_uuid" || col == "_version" {
			return nil, fmt.Errorf("table %s: no column %q in the schema", name, col)
		}
		f, ok := fields[col]
		if !ok {
			return nil, fmt.Errorf("table %s: model has no field for column %q", name, col)
		}
		c, err := newColumn(col, f, cs)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		tc.cols[col] = c
		tc.names = append(tc.names, col)
	}
	slices.Sort(tc.names)
	return tc, nil
}

// newColumn picks the decoders for a column from its schema type and
// checks that the field's Go type is the one libovsdb's model uses.
func newColumn(name string, f reflect.StructField, cs *ovsdb.ColumnSchema) (*column, error) {
	t := cs.TypeObj
	if t == nil || t.Key == nil {
		return nil, fmt.Errorf("column %s: schema has no type", name)
	}
	c := &column{name: name, off: f.Offset}
	var ok bool
	switch {
	case t.Value != nil:
		ok = mapColumn(c, f.Type, t.Key.Type, t.Value.Type)
	case t.Min() == 1 && t.Max() == 1:
		ok = scalarColumn(c, f.Type, t.Key.Type)
	case t.Min() == 0 && t.Max() == 1:
		ok = optionalColumn(c, f.Type, t.Key.Type)
	default:
		ok = setColumn(c, f.Type, t.Key.Type)
	}
	if !ok {
		return nil, fmt.Errorf("column %s: field %s has Go type %v, which does not fit the schema type", name, f.Name, f.Type)
	}
	if t.Max() == 1 {
		// Only composite columns (more than one value) carry a
		// difference in a modify; the others carry the new value.
		c.diff = c.decode
	}
	return c, nil
}

// The Go types libovsdb's models use for each atomic type.
var atomKinds = map[string]reflect.Kind{
	ovsdb.TypeString:  reflect.String,
	ovsdb.TypeUUID:    reflect.String,
	ovsdb.TypeInteger: reflect.Int,
	ovsdb.TypeReal:    reflect.Float64,
	ovsdb.TypeBoolean: reflect.Bool,
}

func scalarColumn(c *column, ft reflect.Type, atom string) bool {
	if atomKinds[atom] != ft.Kind() {
		return false
	}
	switch atom {
	case ovsdb.TypeString:
		c.decode = scalarDecode(stringAtom)
	case ovsdb.TypeUUID:
		c.decode = scalarDecode(uuidAtom)
	case ovsdb.TypeInteger:
		c.decode = scalarDecode(intAtom)
	case ovsdb.TypeReal:
		c.decode = scalarDecode(realAtom)
	case ovsdb.TypeBoolean:
		c.decode = scalarDecode(boolAtom)
	default:
		return false
	}
	c.diff = c.decode // the difference of a single value is the new value
	return true
}

func optionalColumn(c *column, ft reflect.Type, atom string) bool {
	if ft.Kind() != reflect.Pointer || atomKinds[atom] != ft.Elem().Kind() || ft.Elem().Name() != ft.Elem().Kind().String() {
		return false
	}
	switch atom {
	case ovsdb.TypeString:
		c.decode, c.diff = optionalFuncs(stringAtom)
	case ovsdb.TypeUUID:
		c.decode, c.diff = optionalFuncs(uuidAtom)
	case ovsdb.TypeInteger:
		c.decode, c.diff = optionalFuncs(intAtom)
	case ovsdb.TypeReal:
		c.decode, c.diff = optionalFuncs(realAtom)
	case ovsdb.TypeBoolean:
		c.decode, c.diff = optionalFuncs(boolAtom)
	default:
		return false
	}
	return true
}

func setColumn(c *column, ft reflect.Type, atom string) bool {
	if ft.Kind() != reflect.Slice || atomKinds[atom] != ft.Elem().Kind() || ft.Elem().Name() != ft.Elem().Kind().String() {
		return false
	}
	switch atom {
	case ovsdb.TypeString:
		c.decode, c.diff = setFuncs(elemAtom)
	case ovsdb.TypeUUID:
		c.decode, c.diff = setFuncs(uuidAtom)
	case ovsdb.TypeInteger:
		c.decode, c.diff = setFuncs(intAtom)
	case ovsdb.TypeReal:
		c.decode, c.diff = setFuncs(realAtom)
	case ovsdb.TypeBoolean:
		c.decode, c.diff = setFuncs(boolAtom)
	default:
		return false
	}
	return true
}

func mapColumn(c *column, ft reflect.Type, key, val string) bool {
	if ft.Kind() != reflect.Map {
		return false
	}
	// Only the unnamed map types libovsdb generates, so that the field
	// can be set through a pointer of the exact type.
	switch {
	case ft == reflect.TypeFor[map[string]string]() && (key == ovsdb.TypeString || key == ovsdb.TypeUUID) &&
		(val == ovsdb.TypeString || val == ovsdb.TypeUUID):
		c.decode, c.diff = mapFuncs(atomFor(key), atomFor(val))
	case ft == reflect.TypeFor[map[string]int]() && (key == ovsdb.TypeString || key == ovsdb.TypeUUID) && val == ovsdb.TypeInteger:
		c.decode, c.diff = mapFuncs(atomFor(key), intAtom)
	case ft == reflect.TypeFor[map[int]string]() && key == ovsdb.TypeInteger && (val == ovsdb.TypeString || val == ovsdb.TypeUUID):
		c.decode, c.diff = mapFuncs(intAtom, atomFor(val))
	case ft == reflect.TypeFor[map[int]int]() && key == ovsdb.TypeInteger && val == ovsdb.TypeInteger:
		c.decode, c.diff = mapFuncs(intAtom, intAtom)
	case ft == reflect.TypeFor[map[string]float64]() && (key == ovsdb.TypeString || key == ovsdb.TypeUUID) && val == ovsdb.TypeReal:
		c.decode, c.diff = mapFuncs(atomFor(key), realAtom)
	case ft == reflect.TypeFor[map[string]bool]() && (key == ovsdb.TypeString || key == ovsdb.TypeUUID) && val == ovsdb.TypeBoolean:
		c.decode, c.diff = mapFuncs(atomFor(key), boolAtom)
	default:
		return false
	}
	return true
}

// atomFor returns the string decoder for a string or uuid atom type.
func atomFor(atom string) atomFunc[string] {
	if atom == ovsdb.TypeUUID {
		return uuidAtom
	}
	return elemAtom
}

// atomFunc decodes one atom.
type atomFunc[T any] func(d *decoder, v *fastjson.Value) (T, error)

var (
	errNotString = errors.New("expected a string")
	errNotUUID   = errors.New(`expected ["uuid", <uuid>]`)
	errNotInt    = errors.New("expected an integer")
	errNotReal   = errors.New("expected a real")
	errNotBool   = errors.New("expected a boolean")
	errNotSet    = errors.New(`expected an atom or ["set", [...]]`)
	errNotMap    = errors.New(`expected ["map", [[key, value]...]]`)
	errTooMany   = errors.New("more than one value in an optional column")
)

// stringAtom decodes a string column's value: long ones (matches,
// actions) are mostly unique and not interned.
func stringAtom(d *decoder, v *fastjson.Value) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", errNotString
	}
	return d.str(b, internScalar), nil
}

// elemAtom decodes a string in a set or map: port names, addresses,
// external_ids keys and values.
func elemAtom(d *decoder, v *fastjson.Value) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", errNotString
	}
	return d.str(b, internElem), nil
}

func uuidAtom(d *decoder, v *fastjson.Value) (string, error) {
	a, err := v.Array()
	if err != nil || len(a) != 2 || string(a[0].GetStringBytes()) != "uuid" {
		return "", errNotUUID
	}
	b, err := a[1].StringBytes()
	if err != nil || len(b) != 36 {
		return "", errNotUUID
	}
	return d.str(b, len(b)), nil
}

func intAtom(_ *decoder, v *fastjson.Value) (int, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, errNotInt
	}
	n, err := v.Int64()
	if err != nil {
		return 0, errNotInt
	}
	return int(n), nil
}

func realAtom(_ *decoder, v *fastjson.Value) (float64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, errNotReal
	}
	f, err := v.Float64()
	if err != nil {
		return 0, errNotReal
	}
	return f, nil
}

func boolAtom(_ *decoder, v *fastjson.Value) (bool, error) {
	b, err := v.Bool()
	if err != nil {
		return false, errNotBool
	}
	return b, nil
}

func scalarDecode[T any](atom atomFunc[T]) func(*decoder, unsafe.Pointer, *fastjson.Value) error {
	return func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		x, err := atom(d, v)
		if err != nil {
			return err
		}
		*(*T)(p) = x
		return nil
	}
}

// setElements returns the atoms of a set value: a bare atom is a set of one.
func setElements(v *fastjson.Value) ([]*fastjson.Value, bool) {
	if v.Type() != fastjson.TypeArray {
		return nil, false
	}
	a := v.GetArray()
	if len(a) == 2 && a[0].Type() == fastjson.TypeString && string(a[0].GetStringBytes()) == "set" {
		if a[1].Type() != fastjson.TypeArray {
			return nil, false
		}
		return a[1].GetArray(), true
	}
	return nil, false
}

// setAtoms decodes a set value (a bare atom or ["set", [...]]).
func setAtoms[T any](d *decoder, atom atomFunc[T], v *fastjson.Value, dst []T) ([]T, error) {
	el, ok := setElements(v)
	if !ok {
		x, err := atom(d, v)
		if err != nil {
			return nil, errNotSet
		}
		return append(dst, x), nil
	}
	for _, e := range el {
		x, err := atom(d, e)
		if err != nil {
			return nil, err
		}
		dst = append(dst, x)
	}
	return dst, nil
}

// optionalFuncs decode an optional column (a set of at most one): for
// ovsdb-server such a column is not composite, so a modify carries its
// new value, not a difference.
func optionalFuncs[T comparable](atom atomFunc[T]) (dec, diff func(*decoder, unsafe.Pointer, *fastjson.Value) error) {
	dec = func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		var buf [1]T
		xs, err := setAtoms(d, atom, v, buf[:0])
		if err != nil {
			return err
		}
		switch len(xs) {
		case 0:
			*(**T)(p) = nil
		case 1:
			x := xs[0]
			*(**T)(p) = &x
		default:
			return errTooMany
		}
		return nil
	}
	return dec, dec
}

// toggle returns the symmetric difference of set and diff in a new slice.
func toggle[T comparable](set, diff []T) []T {
	out := make([]T, 0, len(set)+len(diff))
	if len(diff) <= 8 {
		out = append(out, set...)
		for _, x := range diff {
			found := false
			for i, y := range out {
				if x == y {
					out = append(out[:i], out[i+1:]...)
					found = true
					break
				}
			}
			if !found {
				out = append(out, x)
			}
		}
		return out
	}
	in := make(map[T]bool, len(diff))
	for _, x := range diff {
		in[x] = !in[x]
	}
	for _, x := range set {
		if in[x] {
			in[x] = false // present in both: removed
			continue
		}
		out = append(out, x)
	}
	for _, x := range diff {
		if in[x] {
			out = append(out, x)
			in[x] = false
		}
	}
	return out
}

func setFuncs[T comparable](atom atomFunc[T]) (dec, diff func(*decoder, unsafe.Pointer, *fastjson.Value) error) {
	dec = func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		var dst []T
		if el, ok := setElements(v); ok {
			if len(el) == 0 {
				*(*[]T)(p) = nil
				return nil
			}
			dst = make([]T, 0, len(el))
		}
		xs, err := setAtoms(d, atom, v, dst)
		if err != nil {
			return err
		}
		*(*[]T)(p) = xs
		return nil
	}
	diff = func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		xs, err := setAtoms(d, atom, v, nil)
		if err != nil {
			return err
		}
		out := toggle(*(*[]T)(p), xs)
		if len(out) == 0 {
			out = nil
		}
		*(*[]T)(p) = out
		return nil
	}
	return dec, diff
}

// pairs returns the [key, value] pairs of a map value.
func pairs(v *fastjson.Value) ([]*fastjson.Value, bool) {
	if v.Type() != fastjson.TypeArray {
		return nil, false
	}
	a := v.GetArray()
	if len(a) != 2 || string(a[0].GetStringBytes()) != "map" || a[1].Type() != fastjson.TypeArray {
		return nil, false
	}
	return a[1].GetArray(), true
}

func mapPair[K, V any](d *decoder, kf atomFunc[K], vf atomFunc[V], e *fastjson.Value) (K, V, error) {
	var k K
	var x V
	kv, err := e.Array()
	if err != nil || len(kv) != 2 {
		return k, x, errNotMap
	}
	if k, err = kf(d, kv[0]); err != nil {
		return k, x, err
	}
	x, err = vf(d, kv[1])
	return k, x, err
}

func mapFuncs[K, V comparable](kf atomFunc[K], vf atomFunc[V]) (dec, diff func(*decoder, unsafe.Pointer, *fastjson.Value) error) {
	dec = func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		ps, ok := pairs(v)
		if !ok {
			return errNotMap
		}
		if len(ps) == 0 {
			*(*map[K]V)(p) = nil
			return nil
		}
		m := make(map[K]V, len(ps))
		for _, e := range ps {
			k, x, err := mapPair(d, kf, vf, e)
			if err != nil {
				return err
			}
			m[k] = x
		}
		*(*map[K]V)(p) = m
		return nil
	}
	diff = func(d *decoder, p unsafe.Pointer, v *fastjson.Value) error {
		ps, ok := pairs(v)
		if !ok {
			return errNotMap
		}
		old := *(*map[K]V)(p)
		m := make(map[K]V, len(old)+len(ps))
		for k, x := range old {
			m[k] = x
		}
		for _, e := range ps {
			k, x, err := mapPair(d, kf, vf, e)
			if err != nil {
				return err
			}
			if y, ok := old[k]; ok && y == x {
				delete(m, k)
			} else {
				m[k] = x
			}
		}
		if len(m) == 0 {
			m = nil
		}
		*(*map[K]V)(p) = m
		return nil
	}
	return dec, diff
}

// decoder holds the state of decoding one message: the string intern
// table and the row being filled.
type decoder struct {
	intern map[string]string
	// The row Visit is filling, and the first error it met.
	tc    *tableCodec
	p     unsafe.Pointer
	isMod bool
	err   error
	visit func(key []byte, v *fastjson.Value)
}

// Interning: UUIDs (of datapaths, groups, ports) always; strings in
// sets and maps up to internElem bytes (external_ids keys and values,
// port names); scalar strings up to internScalar (pipeline, type, names).
// The table starts over at internMaxSize entries, and at each full load.
const (
	internScalar  = 24
	internElem    = 64
	internMaxSize = 1 << 20
)

func newDecoder() *decoder {
	d := &decoder{intern: make(map[string]string)}
	d.visit = d.column
	return d
}

// str returns b as a string, interned if it is at most max bytes long.
func (d *decoder) str(b []byte, max int) string {
	if len(b) > max {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	if len(d.intern) >= internMaxSize {
		d.intern = make(map[string]string)
	}
	s := string(b)
	d.intern[s] = s
	return s
}

// row decodes row (an object of columns) into a new struct: a copy of
// old with the columns applied as differences (modify) when old is not
// nil, else a fresh row.
func (d *decoder) row(tc *tableCodec, uuid string, o *fastjson.Object, old model.Model, modify bool) (model.Model, error) {
	nv := reflect.New(tc.typ)
	if old != nil {
		nv.Elem().Set(reflect.ValueOf(old).Elem())
	}
	p := nv.UnsafePointer()
	*(*string)(unsafe.Add(p, tc.uuidOff)) = uuid
	d.tc, d.p, d.isMod, d.err = tc, p, modify, nil
	o.Visit(d.visit)
	d.tc, d.p = nil, nil
	if d.err != nil {
		return nil, d.err
	}
	m, ok := nv.Interface().(model.Model)
	if !ok {
		return nil, fmt.Errorf("table %s: %v is not a model", tc.name, nv.Type())
	}
	return m, nil
}

func (d *decoder) column(key []byte, v *fastjson.Value) {
	if d.err != nil {
		return
	}
	c := d.tc.cols[string(key)]
	if c == nil {
		d.err = fmt.Errorf("unknown column %q", key)
		return
	}
	f := c.decode
	if d.isMod {
		f = c.diff
	}
	if err := f(d, unsafe.Add(d.p, c.off), v); err != nil {
		d.err = fmt.Errorf("column %s: %w", c.name, err)
	}
}

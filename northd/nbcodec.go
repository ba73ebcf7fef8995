package northd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// rowCodec decodes the rows of one table, in RFC 7047's JSON notation,
// straight into the table's model struct: which field holds which
// column, and how its value is read, is worked out once per table.
// libovsdb decodes a monitor update through encoding/json into generic
// rows and then fills each model by reflection, column by column; for
// a bulk NB transaction (11,500 rows) that was a third of a second
// between the database sending the rows and northd starting its round.
// The models come out as libovsdb's would (TestRowCodecMatchesLibovsdb).
type rowCodec struct {
	table string
	typ   reflect.Type // the struct type
	uuid  int          // index of the field tagged _uuid
	cols  map[string]colCodec
}

// colCodec stores one column's value in its field.
type colCodec struct {
	field int
	set   func(f reflect.Value, raw []byte) error
}

// newRowCodec works out the codec of table from its model type (a
// pointer to a struct whose fields carry `ovsdb:"column"` tags).
func newRowCodec(table string, typ reflect.Type) (*rowCodec, error) {
	if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("table %s: model %v is not a pointer to a struct", table, typ)
	}
	st := typ.Elem()
	rc := &rowCodec{table: table, typ: st, uuid: -1, cols: map[string]colCodec{}}
	for i := range st.NumField() {
		f := st.Field(i)
		col := f.Tag.Get("ovsdb")
		switch {
		case col == "":
		case col == "_uuid":
			if f.Type.Kind() != reflect.String {
				return nil, fmt.Errorf("table %s: _uuid field %s is not a string", table, f.Name)
			}
			rc.uuid = i
		default:
			set, err := columnSetter(f.Type)
			if err != nil {
				return nil, fmt.Errorf("table %s column %s: %w", table, col, err)
			}
			rc.cols[col] = colCodec{field: i, set: set}
		}
	}
	if rc.uuid < 0 {
		return nil, fmt.Errorf("table %s: model has no _uuid field", table)
	}
	return rc, nil
}

// decode returns the row uuid holds after the update row raw (an RFC
// 7047 <row>: the columns it names, others left as they are). base is
// the row before (nil: a new row); it is copied, never changed. Columns
// the model has no field for are skipped.
func (rc *rowCodec) decode(uuid string, base model.Model, raw []byte, members []ovsjson.Member) (model.Model, []ovsjson.Member, error) {
	p := reflect.New(rc.typ)
	v := p.Elem()
	if base != nil {
		b := reflect.ValueOf(base)
		if b.Type() != p.Type() {
			return nil, members, fmt.Errorf("%s row %s: base row is a %v", rc.table, uuid, b.Type())
		}
		v.Set(b.Elem())
	}
	v.Field(rc.uuid).SetString(uuid)
	members, err := ovsjson.Members(raw, members[:0])
	if err != nil {
		return nil, members, fmt.Errorf("%s row %s: %w", rc.table, uuid, err)
	}
	changed := base == nil
	for _, m := range members {
		c, ok := rc.cols[string(m.Key)]
		if !ok {
			continue
		}
		f := v.Field(c.field)
		if err := c.set(f, m.Value); err != nil {
			return nil, members, fmt.Errorf("%s row %s column %s: %w", rc.table, uuid, m.Key, err)
		}
		if !changed {
			changed = !sameValue(f, reflect.ValueOf(base).Elem().Field(c.field))
		}
	}
	if !changed {
		// As libovsdb's cache: an update that changes nothing leaves
		// the row as it was (an empty set stays nil).
		return base, members, nil
	}
	return p.Interface().(model.Model), members, nil
}

// sameValue reports whether two values of a field mean the same OVSDB
// value: equal, or both empty (nil and empty sets and maps alike).
func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

var (
	stringSliceType = reflect.TypeFor[[]string]()
	stringMapType   = reflect.TypeFor[map[string]string]()
)

// columnSetter returns how a column's value is stored in a field of
// type t, following libovsdb's mapping of OVSDB types to Go: a scalar
// as itself, an optional scalar (a set of at most one) as a pointer, a
// set as a slice, a map as a map. Values of sets and maps always come
// out non-nil, as libovsdb's do.
func columnSetter(t reflect.Type) (func(reflect.Value, []byte) error, error) {
	switch {
	case t == stringSliceType:
		return setStrings, nil
	case t == stringMapType:
		return setStringMap, nil
	case scalarKind(t.Kind()):
		return setAtom, nil
	case t.Kind() == reflect.Pointer && scalarKind(t.Elem().Kind()):
		return setOptional, nil
	case t.Kind() == reflect.Slice && scalarKind(t.Elem().Kind()):
		return setSlice, nil
	case t.Kind() == reflect.Map && scalarKind(t.Key().Kind()) && scalarKind(t.Elem().Kind()):
		return setMap, nil
	}
	return nil, fmt.Errorf("field type %v not supported", t)
}

func scalarKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Int, reflect.Bool, reflect.Float64:
		return true
	}
	return false
}

// setAtom stores one atom: a string, a number, a boolean or a UUID
// (["uuid","…"], stored as its string).
func setAtom(f reflect.Value, raw []byte) error {
	switch f.Kind() {
	case reflect.String:
		s, err := atomString(raw)
		if err != nil {
			return err
		}
		f.SetString(s)
	case reflect.Int:
		i, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			// RFC 7047 integers are JSON numbers: 1e3 is one too.
			var x float64
			if json.Unmarshal(raw, &x) != nil || x != float64(int64(x)) {
				return fmt.Errorf("%s is not an integer", raw)
			}
			i = int64(x)
		}
		f.SetInt(i)
	case reflect.Bool:
		switch string(raw) {
		case "true":
			f.SetBool(true)
		case "false":
			f.SetBool(false)
		default:
			return fmt.Errorf("%s is not a boolean", raw)
		}
	case reflect.Float64:
		x, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return fmt.Errorf("%s is not a number", raw)
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("no atom fits a %v", f.Type())
	}
	return nil
}

// atomString reads a string atom or a UUID atom's text.
func atomString(raw []byte) (string, error) {
	if len(raw) > 0 && raw[0] == '[' {
		var parts [2][]byte
		elems, err := ovsjson.Elements(raw, parts[:0])
		if err != nil {
			return "", err
		}
		if len(elems) != 2 || (string(elems[0]) != `"uuid"` && string(elems[0]) != `"named-uuid"`) {
			return "", fmt.Errorf("%.40s is not a string or a UUID", raw)
		}
		raw = elems[1]
	}
	return unquote(raw)
}

// unquote reads a JSON string.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", fmt.Errorf("%.40s is not a string", raw)
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s, nil
}

// setElems returns the atoms of a set value: ["set",[…]], or a single
// atom standing for a set of one.
func setElems(raw []byte, out [][]byte) ([][]byte, error) {
	if len(raw) == 0 || raw[0] != '[' {
		return append(out, raw), nil
	}
	var parts [2][]byte
	elems, err := ovsjson.Elements(raw, parts[:0])
	if err != nil {
		return out, err
	}
	if len(elems) == 2 && string(elems[0]) == `"set"` {
		return ovsjson.Elements(elems[1], out)
	}
	if len(elems) == 2 && (string(elems[0]) == `"uuid"` || string(elems[0]) == `"named-uuid"`) {
		return append(out, raw), nil
	}
	return out, fmt.Errorf("%.40s is not a set", raw)
}

func setOptional(f reflect.Value, raw []byte) error {
	var buf [1][]byte
	elems, err := setElems(raw, buf[:0])
	if err != nil {
		return err
	}
	switch len(elems) {
	case 0:
		f.SetZero()
	case 1:
		p := reflect.New(f.Type().Elem())
		if err := setAtom(p.Elem(), elems[0]); err != nil {
			return err
		}
		f.Set(p)
	default:
		return fmt.Errorf("%d values for an optional column", len(elems))
	}
	return nil
}

func setSlice(f reflect.Value, raw []byte) error {
	elems, err := setElems(raw, nil)
	if err != nil {
		return err
	}
	s := reflect.MakeSlice(f.Type(), len(elems), len(elems))
	for i, e := range elems {
		if err := setAtom(s.Index(i), e); err != nil {
			return err
		}
	}
	f.Set(s)
	return nil
}

func setStrings(f reflect.Value, raw []byte) error {
	elems, err := setElems(raw, nil)
	if err != nil {
		return err
	}
	s := make([]string, len(elems))
	for i, e := range elems {
		if s[i], err = atomString(e); err != nil {
			return err
		}
	}
	f.Set(reflect.ValueOf(s))
	return nil
}

// mapPairs returns the [key, value] pairs of ["map",[…]].
func mapPairs(raw []byte) ([][]byte, error) {
	var parts [2][]byte
	elems, err := ovsjson.Elements(raw, parts[:0])
	if err != nil {
		return nil, err
	}
	if len(elems) != 2 || string(elems[0]) != `"map"` {
		return nil, fmt.Errorf("%.40s is not a map", raw)
	}
	return ovsjson.Elements(elems[1], nil)
}

// pair splits one [key, value] pair.
func pair(raw []byte) (k, v []byte, err error) {
	var parts [2][]byte
	kv, err := ovsjson.Elements(raw, parts[:0])
	if err != nil {
		return nil, nil, err
	}
	if len(kv) != 2 {
		return nil, nil, fmt.Errorf("%.40s is not a map pair", raw)
	}
	return kv[0], kv[1], nil
}

func setStringMap(f reflect.Value, raw []byte) error {
	pairs, err := mapPairs(raw)
	if err != nil {
		return err
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		kr, vr, err := pair(p)
		if err != nil {
			return err
		}
		k, err := atomString(kr)
		if err != nil {
			return err
		}
		if m[k], err = atomString(vr); err != nil {
			return err
		}
	}
	f.Set(reflect.ValueOf(m))
	return nil
}

func setMap(f reflect.Value, raw []byte) error {
	pairs, err := mapPairs(raw)
	if err != nil {
		return err
	}
	t := f.Type()
	m := reflect.MakeMapWithSize(t, len(pairs))
	for _, p := range pairs {
		kr, vr, err := pair(p)
		if err != nil {
			return err
		}
		k, v := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		if err := setAtom(k, kr); err != nil {
			return err
		}
		if err := setAtom(v, vr); err != nil {
			return err
		}
		m.SetMapIndex(k, v)
	}
	f.Set(m)
	return nil
}

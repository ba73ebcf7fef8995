package controller

import (
	"iter"
	"maps"
	"slices"
)

// refSets is the reverse index of the compiled lflows: for each
// reference a unit used ("p:name", "as:name", "pg:name",
// "mc:key/name"), the units that used it. A full compile of the
// benchmark's 10,000 ports records some 200,000 references of 65,000
// units to a few tens of thousands of names, most of them used by a
// handful of units: each name's string is kept once, by its entry, and
// shared with the reference lists of the units that name it (add
// returns it), and a name's units are a short list until many units
// share it, where a set of its own per name cost some 200 bytes.
type refSets map[string]*refUnits

// refUnits is the units that used one reference.
type refUnits struct {
	key  string              // the reference, as the index's key holds it
	list []string            // the units, while there are at most refListMax
	set  map[string]struct{} // the units, once there were more
}

// refListMax is the number of units from which a reference keeps them
// in a set: removing one from a list is a scan.
const refListMax = 16

// add records that unit used ref, and returns ref as the index keeps
// it, for the unit's own list.
func (r refSets) add(ref, unit string) string {
	e := r[ref]
	if e == nil {
		e = &refUnits{key: ref}
		r[ref] = e
	}
	switch {
	case e.set != nil:
		e.set[unit] = struct{}{}
	case slices.Contains(e.list, unit):
	case len(e.list) < refListMax:
		e.list = append(e.list, unit)
	default:
		e.set = make(map[string]struct{}, 2*refListMax)
		for _, u := range e.list {
			e.set[u] = struct{}{}
		}
		e.set[unit] = struct{}{}
		e.list = nil
	}
	return e.key
}

// remove forgets that unit used ref.
func (r refSets) remove(ref, unit string) {
	e := r[ref]
	if e == nil {
		return
	}
	if e.set != nil {
		delete(e.set, unit)
	} else if i := slices.Index(e.list, unit); i >= 0 {
		last := len(e.list) - 1
		e.list[i], e.list[last] = e.list[last], ""
		e.list = e.list[:last]
	}
	if len(e.list) == 0 && len(e.set) == 0 {
		delete(r, ref)
	}
}

// units are the units that used ref.
func (r refSets) units(ref string) iter.Seq[string] {
	e := r[ref]
	switch {
	case e == nil:
		return func(func(string) bool) {}
	case e.set != nil:
		return maps.Keys(e.set)
	}
	return slices.Values(e.list)
}

package embeddeddb

// monitorSet is one database's monitors, grouped by shape (monitor.sig):
// the monitors of a shape get the same encoding of every commit, made
// once, and publishing walks slices instead of a map keyed by monitor
// with a string lookup per monitor. Guarded by dbState.mu.
type monitorSet struct {
	shapes []*monitorShape
	bySig  map[string]*monitorShape
	n      int
}

// monitorShape is the monitors sharing one signature.
type monitorShape struct {
	sig     string
	members []*monitor
}

// add files m under its signature. m must not be in a set.
func (s *monitorSet) add(m *monitor) {
	if s.bySig == nil {
		s.bySig = map[string]*monitorShape{}
	}
	sh := s.bySig[m.sig]
	if sh == nil {
		sh = &monitorShape{sig: m.sig}
		s.bySig[m.sig] = sh
		s.shapes = append(s.shapes, sh)
	}
	m.shape, m.slot = sh, len(sh.members)
	sh.members = append(sh.members, m)
	s.n++
}

// remove takes m out of the set; a monitor not in it is left alone.
func (s *monitorSet) remove(m *monitor) {
	sh := m.shape
	if sh == nil || s.bySig[sh.sig] != sh {
		return
	}
	last := len(sh.members) - 1
	moved := sh.members[last]
	sh.members[m.slot], moved.slot = moved, m.slot
	sh.members[last] = nil
	sh.members = sh.members[:last]
	m.shape = nil
	s.n--
	if len(sh.members) > 0 {
		return
	}
	delete(s.bySig, sh.sig)
	for i, o := range s.shapes {
		if o == sh {
			s.shapes = append(s.shapes[:i], s.shapes[i+1:]...)
			break
		}
	}
}

// len is how many monitors the set holds.
func (s *monitorSet) len() int { return s.n }

// takeAll empties the set and returns what it held.
func (s *monitorSet) takeAll() []*monitor {
	var all []*monitor
	for _, sh := range s.shapes {
		for _, m := range sh.members {
			m.shape = nil
			all = append(all, m)
		}
	}
	*s = monitorSet{}
	return all
}

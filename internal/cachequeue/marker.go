package cachequeue

// Marker follows one marker row (NB_Global, SB_Global: the row whose
// nb_cfg a transaction bumps along with the change it stands for)
// through a handler's events, and tells when the whole update that
// carried the latest marker event has been handed over. The handler
// calls Event for every event it records, under the same lock as the
// record, so that whoever checks Whole or Value under that lock has
// every event they cover. It is not safe for concurrent use.
type Marker struct {
	delivered, at int   // events seen; the count at which the latest marker's update is whole
	pend, whole   int64 // the latest marker value, until whole; the latest whole one
}

// NewMarker returns a Marker that has seen nothing: Whole, Value -1.
func NewMarker() Marker { return Marker{pend: -1, whole: -1} }

// Event records one event. For a marker event, value is its value and
// rest what Rest returned for it (read before taking the lock).
func (m *Marker) Event(marker bool, value int64, rest int) {
	m.delivered++
	if marker {
		// A later marker comes after every event of the earlier one's
		// update.
		if m.pend >= 0 {
			m.whole = m.pend
		}
		m.pend, m.at = value, m.delivered+rest
	}
	if m.pend >= 0 && m.delivered >= m.at {
		m.whole, m.pend = m.pend, -1
	}
}

// Whole reports whether every event of the latest marker's update has
// been recorded.
func (m *Marker) Whole() bool { return m.delivered >= m.at }

// Value is the latest marker value whose update has been recorded
// whole, -1 before any.
func (m *Marker) Value() int64 { return m.whole }

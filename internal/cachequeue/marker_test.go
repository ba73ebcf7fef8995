package cachequeue

import "testing"

// TestMarker: a marker's value counts only once the events queued behind
// it are recorded, and a later marker makes the earlier one whole.
func TestMarker(t *testing.T) {
	m := NewMarker()
	if m.Value() != -1 || !m.Whole() {
		t.Fatalf("fresh marker: value %d whole %v", m.Value(), m.Whole())
	}
	m.Event(false, 0, 0) // a row before any marker
	m.Event(true, 5, 2)  // nb_cfg 5 with two rows of its update still queued
	if m.Whole() || m.Value() != -1 {
		t.Fatalf("marker with rows to come: whole %v value %d", m.Whole(), m.Value())
	}
	m.Event(false, 0, 0)
	if m.Whole() || m.Value() != -1 {
		t.Fatalf("one row of two in: whole %v value %d", m.Whole(), m.Value())
	}
	m.Event(false, 0, 0)
	if !m.Whole() || m.Value() != 5 {
		t.Fatalf("update in: whole %v value %d, want true 5", m.Whole(), m.Value())
	}
	m.Event(true, 6, 3)
	m.Event(true, 7, 0) // a later update's marker: 6's update was whole before it
	if m.Value() != 7 || !m.Whole() {
		t.Fatalf("after marker 7 alone: value %d whole %v, want 7 true", m.Value(), m.Whole())
	}
}

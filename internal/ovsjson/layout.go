package ovsjson

import "sort"

// LastMembers splits msg, the message Scan or Next returned last, into
// its members as Members does, from the structure the Splitter noted
// while it checked msg: the message is not scanned again. It reports
// false when msg is not that message (or the Splitter has shrunk since)
// or not an object.
func (s *Splitter) LastMembers(msg []byte, out []Member) ([]Member, bool) {
	if len(msg) < 2 || len(s.last) != len(msg) || &s.last[0] != &msg[0] || msg[0] != '{' {
		return out, false
	}
	start, colon, depth := 1, -1, 1
	for _, off := range s.marks {
		switch c := msg[off]; {
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case depth > 1:
		case c == ':':
			colon = off
		case c == ',':
			m, ok := member(msg, start, colon, off)
			if !ok {
				return out, false
			}
			out = append(out, m)
			start, colon = off+1, -1
		}
	}
	end := len(msg) - 1
	if colon < 0 {
		// No member after the last comma: only "{}" may have none.
		return out, len(out) == 0 && skipSpace(msg[:end], start) == end
	}
	m, ok := member(msg, start, colon, end)
	if !ok {
		return out, false
	}
	return append(out, m), true
}

// member is the member of msg between start and end whose name ends
// before colon.
func member(msg []byte, start, colon, end int) (Member, bool) {
	if colon < start {
		return Member{}, false
	}
	key := trimSpace(msg[start:colon])
	if len(key) < 2 || key[0] != '"' || key[len(key)-1] != '"' {
		return Member{}, false
	}
	return Member{Key: key[1 : len(key)-1], Value: trimSpace(msg[colon+1 : end])}, true
}

// LastElements splits value into its elements as Elements does, when
// value is an array that is the value of a member of the message Scan
// or Next returned last (as LastMembers returns it); it reports false
// otherwise.
func (s *Splitter) LastElements(value []byte, out [][]byte) ([][]byte, bool) {
	msg := s.last
	if len(value) < 2 || len(msg) == 0 || value[0] != '[' {
		return out, false
	}
	off := cap(msg) - cap(value)
	if off <= 0 || off+len(value) > len(msg) || &msg[off] != &value[0] {
		return out, false
	}
	k := sort.SearchInts(s.marks, off)
	if k == len(s.marks) || s.marks[k] != off {
		return out, false // not a container directly inside the message
	}
	start := off + 1
	for _, m := range s.marks[k+1:] {
		switch msg[m] {
		case ',':
			out = append(out, trimSpace(msg[start:m]))
			start = m + 1
		case ']':
			if m != off+len(value)-1 {
				return out, false
			}
			last := trimSpace(msg[start:m])
			if len(last) == 0 {
				return out, len(out) == 0 // "[]"
			}
			return append(out, last), true
		default:
			return out, false
		}
	}
	return out, false
}

// trimSpace drops JSON whitespace around b.
func trimSpace(b []byte) []byte {
	i := skipSpace(b, 0)
	j := len(b)
	for j > i {
		switch b[j-1] {
		case ' ', '\t', '\r', '\n':
			j--
			continue
		}
		break
	}
	return b[i:j]
}

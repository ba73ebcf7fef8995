package ovsjson

import (
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds the nesting of a message, as fastjson's parser does;
// OVSDB messages nest about ten deep.
const MaxDepth = maxRawDepth

// Errors of Splitter.Next and Splitter.Scan besides the reader's. Those
// about the bytes (ErrTooDeep and any wrapping ErrSyntax) come as soon as
// the bytes read so far cannot start a valid message, without waiting
// for the rest, as ovsdb-server's incremental parser does.
var (
	// ErrTooLarge: a message is longer than the Splitter's limit.
	ErrTooLarge = errors.New("message too large")
	// ErrTooDeep: a message nests deeper than MaxDepth.
	ErrTooDeep = fmt.Errorf("JSON nested deeper than %d", MaxDepth)
)

// Splitter cuts a stream of JSON-RPC messages (RFC 7047 section 4: JSON
// objects, or arrays, one after another with optional whitespace
// between) into single messages, without parsing them: it follows
// strings and brackets to find where each ends, then checks the message
// against JSON's grammar. A stream that is not such a sequence fails at
// the first message that is not valid JSON or not an object or array,
// after the valid ones before it, as encoding/json's Decoder would.
type Splitter struct {
	r     io.Reader
	max   int
	buf   []byte
	start int // start of unconsumed data
	pos   int // scan position
	open  []byte
	inStr bool
	esc   bool
	hex   int // \u digits still to come
	began bool
}

// minRead is the least free space a read is given.
const minRead = 16 << 10

// NewSplitter returns a Splitter reading r that refuses messages longer
// than max bytes.
func NewSplitter(r io.Reader, max int) *Splitter {
	return &Splitter{r: r, max: max, buf: make([]byte, 0, 64<<10)}
}

// Next returns the next message, reading as needed. The slice is valid
// until the next call to Next, Scan, Fill or Shrink. A read error (a
// timeout, say) leaves the Splitter as it was, so Next may be called
// again; at the end of the stream Next returns io.EOF, or
// io.ErrUnexpectedEOF inside a message.
func (s *Splitter) Next() ([]byte, error) {
	for {
		if msg, ok, err := s.Scan(); ok || err != nil {
			return msg, err
		}
		if err := s.Fill(); err != nil {
			return nil, err
		}
	}
}

// Fill reads once from the reader into the buffer, first dropping the
// messages already returned.
func (s *Splitter) Fill() error {
	if s.start > 0 && s.start == len(s.buf) {
		s.buf, s.pos, s.start = s.buf[:0], 0, 0
	} else if s.start > len(s.buf)/2 {
		n := copy(s.buf, s.buf[s.start:])
		s.buf = s.buf[:n]
		s.pos -= s.start
		s.start = 0
	}
	if len(s.buf)-s.start > s.max {
		return ErrTooLarge
	}
	if cap(s.buf)-len(s.buf) < minRead {
		nb := make([]byte, len(s.buf), 2*cap(s.buf)+minRead)
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if n > 0 {
		return nil
	}
	if err == nil {
		return io.ErrNoProgress
	}
	if errors.Is(err, io.EOF) && s.began {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Shrink lets a buffer that a large message grew go, once everything
// read has been returned, so that one large message does not pin tens of
// MB for the life of the stream.
func (s *Splitter) Shrink() {
	if cap(s.buf) > 1<<20 && s.start == len(s.buf) {
		s.buf, s.start, s.pos = make([]byte, 0, 64<<10), 0, 0
	}
}

// Buffered returns how many bytes have been read but not yet returned
// in a message.
func (s *Splitter) Buffered() int { return len(s.buf) - s.start }

// Scan returns the next complete message among the bytes already read,
// and false when there is none yet.
func (s *Splitter) Scan() ([]byte, bool, error) {
	b, i := s.buf, s.pos
	for i < len(b) {
		if !s.began {
			if err := s.begin(b, i); err != nil {
				return nil, false, err
			}
			i++
			continue
		}
		if s.inStr {
			var err error
			if i, err = s.scanString(b, i); err != nil {
				return nil, false, err
			}
			continue
		}
		for i < len(b) && !structural[b[i]] {
			i++
		}
		if i == len(b) {
			break
		}
		c := b[i]
		i++
		switch c {
		case '"':
			s.inStr = true
		case '{', '[':
			if len(s.open) >= MaxDepth {
				return nil, false, ErrTooDeep
			}
			s.open = append(s.open, closer(c))
		default: // '}', ']'
			if c != s.open[len(s.open)-1] {
				return nil, false, fmt.Errorf("%w: mismatched %q", ErrSyntax, c)
			}
			s.open = s.open[:len(s.open)-1]
			if len(s.open) == 0 {
				s.pos = i
				return s.finish()
			}
		}
	}
	s.pos = i
	if s.began && s.pos-s.start > s.max {
		return nil, false, ErrTooLarge
	}
	return nil, false, nil
}

// structural marks the bytes that matter to Scan outside strings.
var structural = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true}

// plainInString marks the bytes that stand for themselves in a string.
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// begin takes b[i], the first byte after the last message: whitespace,
// or the start of the next message.
func (s *Splitter) begin(b []byte, i int) error {
	switch c := b[i]; c {
	case ' ', '\t', '\r', '\n':
		s.start = i + 1
		return nil
	case '{', '[':
		s.began = true
		s.open = append(s.open[:0], closer(c))
		return nil
	default:
		return fmt.Errorf("%w: unexpected %q between messages", ErrSyntax, c)
	}
}

// scanString advances through a string from b[i], checking its escapes
// and refusing control characters, and returns where it stopped: after
// the closing quote, or at the end of what has been read.
func (s *Splitter) scanString(b []byte, i int) (int, error) {
	for i < len(b) {
		if s.hex == 0 && !s.esc {
			for i < len(b) && plainInString[b[i]] {
				i++
			}
			if i == len(b) {
				break
			}
		}
		c := b[i]
		i++
		switch {
		case s.hex > 0:
			if !isHex(c) {
				return i, fmt.Errorf("%w: bad \\u escape", ErrSyntax)
			}
			s.hex--
		case s.esc:
			s.esc = false
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				s.hex = 4
			default:
				return i, fmt.Errorf("%w: bad escape \\%c", ErrSyntax, c)
			}
		case c == '"':
			s.inStr = false
			return i, nil
		case c == '\\':
			s.esc = true
		default:
			return i, fmt.Errorf("%w: control character %#x in string", ErrSyntax, c)
		}
	}
	return i, nil
}

// finish checks the message that ends at pos against JSON's grammar and
// returns it.
func (s *Splitter) finish() ([]byte, bool, error) {
	msg := s.buf[s.start:s.pos]
	s.start = s.pos
	s.began = false
	if end, err := skipValue(msg, 0, 0, true); err != nil {
		return nil, false, err
	} else if end != len(msg) {
		return nil, false, errAt(msg, end, "end of message")
	}
	return msg, true, nil
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

package ovsjson

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
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
// between) into single messages, without building them: it follows
// JSON's grammar (RFC 8259) byte by byte as they arrive, so it knows
// where each message ends and fails at the first byte that cannot
// belong to a valid one. It returns the same messages as encoding/json's
// Decoder would, and fails where the Decoder would, or where a value is
// not an object or array. It does not check UTF-8.
type Splitter struct {
	r     io.Reader
	max   int
	buf   []byte
	start int    // start of unconsumed data
	pos   int    // scan position
	open  []byte // the closing bracket of each open container
	began bool
	// The grammar state: what may come next outside a string, and
	// where a string, number or literal is in progress.
	expect expectation
	inStr  bool
	isKey  bool // the string is a member name
	esc    bool
	hex    int    // \u digits still to come
	num    numPos // numNone outside a number
	lit    string // the rest of a literal being read
	// marks are the offsets, from the message's start, of the
	// structural bytes of the message being scanned down to depth 2
	// (see Layout); last is the message Scan returned last.
	marks []int
	last  []byte
}

// expectation is what the grammar allows next outside strings.
type expectation uint8

const (
	expValue        expectation = iota // after ':', or ',' in an array
	expValueOrClose                    // after '['
	expKeyOrClose                      // after '{'
	expKey                             // after ',' in an object
	expColon                           // after a member name
	expCommaOrClose                    // after a value
)

// numPos is where a number is in RFC 8259's grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
type numPos uint8

const (
	numNone  numPos = iota
	numMinus        // after '-'
	numZero         // after a leading 0
	numInt          // in the integer digits
	numDot          // after '.'
	numFrac         // in the fraction digits
	numE            // after 'e'
	numESign        // after the exponent's sign
	numExp          // in the exponent digits
)

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
		s.last = nil
	}
	if cap(s.marks) > 4096 {
		s.marks, s.last = nil, nil
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
		var err error
		switch {
		case !s.began:
			err = s.begin(b, i)
			i++
		case s.inStr:
			i, err = s.scanString(b, i)
		case s.num != numNone:
			i, err = s.scanNumber(b, i)
		case s.lit != "":
			if b[i] != s.lit[0] {
				return nil, false, fmt.Errorf("%w: bad literal at %q", ErrSyntax, b[i])
			}
			s.lit = s.lit[1:]
			i++
		default:
			var done bool
			if i, done, err = s.step(b, i); done {
				s.pos = i
				return s.finish()
			}
		}
		if err != nil {
			return nil, false, err
		}
	}
	s.pos = i
	if s.began && s.pos-s.start > s.max {
		return nil, false, ErrTooLarge
	}
	return nil, false, nil
}

// step takes the bytes from b[i] on, outside strings, numbers and
// literals, up to the end of what has been read, the start of a number
// or literal, or the end of the message; strings it scans itself. It
// reports whether the message ended. One loop rather than a call per
// byte: the structure between an OVSDB request's short strings is most
// of its bytes.
func (s *Splitter) step(b []byte, i int) (int, bool, error) {
	for i < len(b) {
		c := b[i]
		switch c {
		case ' ', '\t', '\r', '\n':
		case '"':
			switch s.expect {
			case expValue, expValueOrClose:
				s.inStr, s.isKey = true, false
			case expKey, expKeyOrClose:
				s.inStr, s.isKey = true, true
			default:
				return i, false, unexpected(c)
			}
			var err error
			if i, err = s.scanString(b, i+1); err != nil || s.inStr {
				return i, false, err
			}
			continue
		case '{', '[':
			if s.expect != expValue && s.expect != expValueOrClose {
				return i, false, unexpected(c)
			}
			if len(s.open) >= MaxDepth {
				return i, false, ErrTooDeep
			}
			s.open = append(s.open, closer(c))
			s.expect = opened(c)
			if len(s.open) == 2 {
				s.mark(i)
			}
		case '}', ']':
			if c != s.open[len(s.open)-1] || !s.closable(c) {
				return i, false, unexpected(c)
			}
			if len(s.open) == 2 {
				s.mark(i)
			}
			s.open = s.open[:len(s.open)-1]
			s.expect = expCommaOrClose
			if len(s.open) == 0 {
				return i + 1, true, nil
			}
		case ',':
			if s.expect != expCommaOrClose {
				return i, false, unexpected(c)
			}
			s.expect = expValue
			if s.open[len(s.open)-1] == '}' {
				s.expect = expKey
			}
			if len(s.open) <= 2 {
				s.mark(i)
			}
		case ':':
			if s.expect != expColon {
				return i, false, unexpected(c)
			}
			s.expect = expValue
			if len(s.open) <= 2 {
				s.mark(i)
			}
		default:
			if s.expect != expValue && s.expect != expValueOrClose {
				return i, false, unexpected(c)
			}
			s.expect = expCommaOrClose
			switch c {
			case 't':
				s.lit = "rue"
			case 'f':
				s.lit = "alse"
			case 'n':
				s.lit = "ull"
			case '-':
				s.num = numMinus
			case '0':
				s.num = numZero
			default:
				if c < '1' || c > '9' {
					return i, false, unexpected(c)
				}
				s.num = numInt
			}
			return i + 1, false, nil
		}
		i++
	}
	return i, false, nil
}

// closable reports whether the grammar allows closer c here: after a
// value, or at once after its opening bracket.
func (s *Splitter) closable(c byte) bool {
	return s.expect == expCommaOrClose || c == '}' && s.expect == expKeyOrClose || c == ']' && s.expect == expValueOrClose
}

func opened(c byte) expectation {
	if c == '{' {
		return expKeyOrClose
	}
	return expValueOrClose
}

func unexpected(c byte) error { return fmt.Errorf("%w: unexpected %q", ErrSyntax, c) }

// scanNumber advances through a number from b[i]; the byte that ends it
// is left for step.
func (s *Splitter) scanNumber(b []byte, i int) (int, error) {
	for ; i < len(b); i++ {
		c := b[i]
		digit := c >= '0' && c <= '9'
		switch {
		case s.num == numMinus && c == '0':
			s.num = numZero
		case s.num == numMinus && digit:
			s.num = numInt
		case (s.num == numInt || s.num == numFrac || s.num == numExp) && digit:
		case (s.num == numZero || s.num == numInt) && c == '.':
			s.num = numDot
		case s.num == numDot && digit:
			s.num = numFrac
		case (s.num == numZero || s.num == numInt || s.num == numFrac) && (c == 'e' || c == 'E'):
			s.num = numE
		case s.num == numE && (c == '+' || c == '-'):
			s.num = numESign
		case (s.num == numE || s.num == numESign) && digit:
			s.num = numExp
		case s.num == numZero || s.num == numInt || s.num == numFrac || s.num == numExp:
			s.num = numNone // complete: c is the next token
			return i, nil
		default:
			return i, fmt.Errorf("%w: bad number at %q", ErrSyntax, c)
		}
	}
	return i, nil
}

// plainRun returns the index of the first byte from b[i] on that does
// not stand for itself in a string, or len(b): eight bytes at a time
// while none of them is a quote, a backslash or a control character.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q, bs := w^('"'*ones), w^('\\'*ones)
		// A byte under 0x20, or equal to '"' or '\\': the classic
		// has-less-than and has-zero-byte tests. A borrow only runs
		// upwards, so the lowest byte they flag is the first such byte.
		if m := ((w-0x20*ones)&^w | (q-ones)&^q | (bs-ones)&^bs) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && plainInString[b[i]] {
		i++
	}
	return i
}

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
		s.marks = s.marks[:0]
		s.open = append(s.open[:0], closer(c))
		s.expect = opened(c)
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
			if i = plainRun(b, i); i == len(b) {
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
			s.expect = expCommaOrClose
			if s.isKey {
				s.expect = expColon
			}
			return i, nil
		case c == '\\':
			s.esc = true
		default:
			return i, fmt.Errorf("%w: control character %#x in string", ErrSyntax, c)
		}
	}
	return i, nil
}

// finish returns the message that ends at pos.
func (s *Splitter) finish() ([]byte, bool, error) {
	msg := s.buf[s.start:s.pos]
	s.start = s.pos
	s.began = false
	s.last = msg
	return msg, true, nil
}

// mark notes the structural byte b[i] of the message being scanned.
func (s *Splitter) mark(i int) {
	s.marks = append(s.marks, i-s.start)
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

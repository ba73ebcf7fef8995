package embeddeddb

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxMessageSize is the largest JSON-RPC message ovnd accepts. A client
// that sends a larger one gets its connection closed and a log line.
const MaxMessageSize = 128 << 20

var errTooLarge = fmt.Errorf("message exceeds %d bytes", MaxMessageSize)

// maxDepth bounds JSON nesting; OVSDB messages nest about ten deep.
const maxDepth = 300

var errTooDeep = fmt.Errorf("JSON nested deeper than %d", maxDepth)

// errMismatched and errBadString end a connection whose bytes cannot be
// JSON, at once, as ovsdb-server's incremental parser does.
var (
	errMismatched = errors.New("mismatched bracket")
	errBadString  = errors.New("invalid character in string")
)

// splitter cuts a byte stream into complete top-level JSON values. It
// tracks only nesting and strings: fastjson validates each message.
type splitter struct {
	r     io.Reader
	buf   []byte
	start int // start of unconsumed data
	pos   int // scan position
	depth int
	open  []byte // the closing bracket expected at each depth
	inStr bool
	esc   bool
	began bool
}

func newSplitter(r io.Reader) *splitter {
	return &splitter{r: r, buf: make([]byte, 0, 64<<10)}
}

// next returns the next message. The slice is valid until the next call.
func (s *splitter) next() ([]byte, error) {
	for {
		if msg, ok, err := s.scan(); ok || err != nil {
			return msg, err
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
}

func (s *splitter) fill() error {
	if s.start > 0 && s.start == len(s.buf) {
		s.buf, s.pos, s.start = s.buf[:0], 0, 0
	} else if s.start > len(s.buf)/2 && s.start > 0 {
		n := copy(s.buf, s.buf[s.start:])
		s.buf = s.buf[:n]
		s.pos -= s.start
		s.start = 0
	}
	if len(s.buf)-s.start > MaxMessageSize {
		return errTooLarge
	}
	if cap(s.buf)-len(s.buf) < 16<<10 {
		nb := make([]byte, len(s.buf), 2*cap(s.buf)+64<<10)
		copy(nb, s.buf)
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	if errors.Is(err, io.EOF) && s.began {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (s *splitter) scan() ([]byte, bool, error) {
	for ; s.pos < len(s.buf); s.pos++ {
		c := s.buf[s.pos]
		if !s.began {
			switch c {
			case ' ', '\t', '\r', '\n':
				s.start = s.pos + 1
				continue
			case '{', '[':
				s.began = true
				s.depth = 1
				s.open = append(s.open[:0], closer(c))
				continue
			default:
				return nil, false, fmt.Errorf("unexpected %q between messages", c)
			}
		}
		if s.inStr {
			switch {
			case s.esc:
				s.esc = false
				if !strings.ContainsRune(`"\\/bfnrtu`, rune(c)) {
					return nil, false, fmt.Errorf("%w: escape \\%c", errBadString, c)
				}
			case c < 0x20:
				return nil, false, fmt.Errorf("%w: control character %#x", errBadString, c)
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			s.inStr = true
		case '{', '[':
			s.depth++
			if s.depth > maxDepth {
				return nil, false, errTooDeep
			}
			s.open = append(s.open, closer(c))
		case '}', ']':
			if c != s.open[len(s.open)-1] {
				return nil, false, fmt.Errorf("%w: %q", errMismatched, c)
			}
			s.open = s.open[:len(s.open)-1]
			s.depth--
			if s.depth == 0 {
				msg := s.buf[s.start : s.pos+1]
				s.pos++
				s.start = s.pos
				s.began = false
				return msg, true, nil
			}
		}
	}
	if s.began && s.pos-s.start > MaxMessageSize {
		return nil, false, errTooLarge
	}
	return nil, false, nil
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

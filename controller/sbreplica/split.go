package sbreplica

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxMessage bounds one JSON-RPC message from the server. An initial
// reply of a large SB is tens of MB.
const maxMessage = 1 << 30

// splitter reads a stream of JSON values (JSON-RPC messages) and returns
// them one at a time. It only finds where each value ends, by tracking
// strings and bracket depth; fastjson does the real parsing.
type splitter struct {
	r    io.Reader
	buf  []byte
	head int // first byte of the message being assembled
	scan int // bytes before it are scanned
	// Scanner state at scan.
	depth int
	inStr bool
}

const minRead = 32 << 10

func newSplitter(r io.Reader) *splitter {
	return &splitter{r: r, buf: make([]byte, 0, 64<<10)}
}

// next returns the next complete message; the slice is valid until the
// next call. A read error (a timeout included) leaves the state intact,
// so next can be called again.
func (s *splitter) next() ([]byte, error) {
	for {
		msg, err := s.find()
		if msg != nil || err != nil {
			return msg, err
		}
		if err := s.read(); err != nil {
			return nil, err
		}
	}
}

// find scans the buffered bytes for the end of the current message.
func (s *splitter) find() ([]byte, error) {
	for i := s.scan; i < len(s.buf); i++ {
		if s.inStr {
			k := bytes.IndexByte(s.buf[i:], '"')
			if k < 0 {
				break
			}
			i += k
			s.inStr = escaped(s.buf, s.head, i)
			continue
		}
		c := s.buf[i]
		switch c {
		case '"':
			if s.depth == 0 {
				return nil, errors.New("a bare string between messages")
			}
			s.inStr = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			if s.depth < 0 {
				return nil, fmt.Errorf("unbalanced %q", c)
			}
			if s.depth == 0 {
				msg := s.buf[s.head : i+1]
				s.head, s.scan = i+1, i+1
				return msg, nil
			}
		case ' ', '\t', '\r', '\n':
			if s.depth == 0 {
				s.head = i + 1
			}
		default:
			if s.depth == 0 {
				return nil, fmt.Errorf("unexpected %q between messages", c)
			}
		}
	}
	s.scan = len(s.buf)
	if s.scan-s.head > maxMessage {
		return nil, fmt.Errorf("message longer than %d bytes", maxMessage)
	}
	return nil, nil
}

// read appends more bytes from r, first dropping the consumed ones.
func (s *splitter) read() error {
	if s.head > 0 {
		n := copy(s.buf, s.buf[s.head:])
		s.buf = s.buf[:n]
		s.scan -= s.head
		s.head = 0
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
	if errors.Is(err, io.EOF) && len(s.buf) > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// shrink drops a buffer grown by a large message once it is consumed,
// so that one initial reply does not pin tens of MB.
func (s *splitter) shrink() {
	if cap(s.buf) > 1<<20 && s.head == len(s.buf) {
		s.buf, s.head, s.scan = make([]byte, 0, 64<<10), 0, 0
	}
}

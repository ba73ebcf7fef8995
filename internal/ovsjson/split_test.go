package ovsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// chunkReader returns at most n bytes per Read, then io.EOF.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.n, len(b), len(r.data))
	copy(b, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// split runs a Splitter over data, read n bytes at a time.
func split(data []byte, n int) ([][]byte, error) {
	sp := NewSplitter(&chunkReader{data: data, n: n}, 1<<20)
	var msgs [][]byte
	for {
		m, err := sp.Next()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, append([]byte(nil), m...))
	}
}

// decode runs encoding/json's Decoder over data as the Splitter's
// reference: the values up to the first that is not an object or array,
// and the error that ends the stream (io.EOF at a clean end; errScalar
// for a value that is not an object or array).
func decode(data []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var msgs [][]byte
	for {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return msgs, err
		}
		if v[0] != '{' && v[0] != '[' {
			return msgs, errScalar
		}
		msgs = append(msgs, v)
	}
}

var errScalar = errors.New("a value that is not an object or array")

var splitSeeds = []string{
	` {"a":"}\"]"}[1,[2,{"b":[]}]]` + "\n\t" + `{"c\\":"\\\\\u00e9"}`,
	`{"id":1,"method":"echo","params":["unterminated`,
	`{} 42 {}`, `[}`, `{"a" 1}`, `{"a":1,}`, `[1 2]`, `{"a":01}`, `["\q"]`, "[\"\x01\"]",
	`{"a":1} x`, `{"a":1}]`, `{}{}[]`, `   `, ``, `"s"`, `[tru]`, `[true,false,null,-1.5e+3]`,
	`{"a" 1`, strings.Repeat("[", 299) + strings.Repeat("]", 299),
}

// FuzzSplitter checks the Splitter against encoding/json's Decoder on
// arbitrary bytes read in chunks of a fuzzed size: the same messages,
// byte for byte, then the same end: clean, truncated, or a syntax error
// (which includes a value that is not an object or array).
func FuzzSplitter(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) >= MaxDepth {
			t.Skip("deeper than MaxDepth allows")
		}
		got, err := split(data, int(chunk%64)+1)
		want, werr := decode(data)
		if len(got) != len(want) {
			t.Fatalf("%q: %d messages (then %v), encoding/json %d (then %v)", data, len(got), err, len(want), werr)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%q: message %d is %q, encoding/json %q", data, i, got[i], want[i])
			}
		}
		switch {
		case werr == io.EOF:
			if err != io.EOF {
				t.Fatalf("%q: Splitter ends with %v, encoding/json cleanly", data, err)
			}
		case errors.Is(werr, io.ErrUnexpectedEOF):
			if opensScalar(data, got) {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("%q: Splitter ends with %v on a value that is not an object or array", data, err)
				}
			} else if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%q: Splitter ends with %v, encoding/json truncated", data, err)
			}
		default: // a syntax error or a scalar
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("%q: Splitter ends with %v, encoding/json with %v", data, err, werr)
			}
		}
	})
}

// opensScalar reports whether the input after msgs starts with something
// other than an object or array (a truncated string or literal, say).
func opensScalar(data []byte, msgs [][]byte) bool {
	rest := after(data, msgs)
	i := skipSpace(rest, 0)
	return i < len(rest) && rest[i] != '{' && rest[i] != '['
}

// after returns the input after msgs.
func after(data []byte, msgs [][]byte) []byte {
	for _, m := range msgs {
		data = data[bytes.Index(data, m)+len(m):]
	}
	return data
}

func TestSplitterLimits(t *testing.T) {
	sp := NewSplitter(strings.NewReader(`{"a":"`+strings.Repeat("x", 200<<10)+`"}`), 100<<10)
	if _, err := sp.Next(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("message over the limit: got %v, want ErrTooLarge", err)
	}
	deep := strings.Repeat("[", MaxDepth+1)
	if _, err := NewSplitter(strings.NewReader(deep), 1<<20).Next(); !errors.Is(err, ErrTooDeep) {
		t.Errorf("%d brackets: got %v, want ErrTooDeep", MaxDepth+1, err)
	}
	// Garbage is refused as soon as it is read, not at the message's end.
	if _, err := NewSplitter(strings.NewReader(`{"a":"`+"\x01"), 1<<20).Next(); !errors.Is(err, ErrSyntax) {
		t.Errorf("control character: got %v, want ErrSyntax", err)
	}
}

// timeoutReader fails every other Read with a timeout.
type timeoutReader struct {
	r    io.Reader
	fail bool
}

var errTimeout = errors.New("timeout")

func (r *timeoutReader) Read(b []byte) (int, error) {
	r.fail = !r.fail
	if r.fail {
		return 0, errTimeout
	}
	return r.r.Read(b)
}

// TestSplitterRetry: a read error leaves the Splitter able to go on,
// and Shrink lets a large message's buffer go.
func TestSplitterRetry(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 3<<20) + `"}`
	in := big + ` [1,"\u00e9"]`
	sp := NewSplitter(&timeoutReader{r: &chunkReader{data: []byte(in), n: 1000}}, 8<<20)
	var got []string
	for {
		m, err := sp.Next()
		if errors.Is(err, errTimeout) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m))
		sp.Shrink()
	}
	if len(got) != 2 || got[0] != big || got[1] != `[1,"\u00e9"]` {
		t.Errorf("got %d messages, want the 3 MB one and [1,\"\\u00e9\"]", len(got))
	}
	if cap(sp.buf) > 1<<20 {
		t.Errorf("buffer of %d bytes kept after Shrink", cap(sp.buf))
	}
}

// TestPlainRun: plainRun stops at the first quote, backslash or control
// character wherever it sits in an eight-byte word, and not before.
func TestPlainRun(t *testing.T) {
	for _, stop := range []byte{'"', '\\', 0x00, 0x1f} {
		for n := 0; n < 20; n++ {
			b := []byte(strings.Repeat("aé\x7f~ !#", 3)[:n] + string(stop) + `"\x01`)
			if got := plainRun(b, 0); got != n {
				t.Errorf("plainRun(%q) = %d, want %d", b, got, n)
			}
		}
	}
	if got := plainRun([]byte("abcdefghijk"), 2); got != 11 {
		t.Errorf("plainRun without a stop = %d, want 11", got)
	}
}

// FuzzPlainRun compares plainRun, which skips eight bytes at a time and
// finds the stopping byte within a word from its flags, with a byte by
// byte scan.
func FuzzPlainRun(f *testing.F) {
	f.Add([]byte(`abcdefgh"ijklmnop\q`+"\x01\x7f\x80\xff"), uint8(0))
	f.Add([]byte("\x1f\x20\x21\x22\x5b\x5c\x5d\xe9\xa0"+strings.Repeat("x", 17)+`"`), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, start uint8) {
		i := int(start) % (len(b) + 1)
		want := i
		for want < len(b) && plainInString[b[want]] {
			want++
		}
		if got := plainRun(b, i); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}

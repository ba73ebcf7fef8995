package ovsdbfile

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Record framing, as described in the package doc.
const (
	headerPrefix  = "OVSDB "
	magicJSON     = "JSON"
	magicCluster  = "CLUSTER"
	sha1HexLen    = 2 * sha1.Size
	maxHeaderLen  = 128     // far more than "OVSDB JSON <20 digits> <40 hex>"
	maxRecordBody = 1 << 40 // sanity bound on <length>
)

// ErrClustered is returned by Open when the file is a clustered database.
var ErrClustered = errors.New("clustered database files are not supported")

// errShort marks a record cut off by the end of the data: a torn write.
var errShort = errors.New("record truncated")

// header is the parsed first line of a record.
type header struct {
	magic  string
	length int64
	sum    [sha1.Size]byte
}

// recordSize is the number of bytes encodeRecord adds for rec.
func recordSize(rec []byte) int {
	body := len(rec) + 1
	return len(headerPrefix) + len(magicJSON) + 1 + len(strconv.Itoa(body)) + 1 + sha1HexLen + 1 + body
}

// encodeHeader returns the header line for a record whose JSON is rec.
func encodeHeader(rec []byte) []byte {
	var buf [maxHeaderLen]byte
	return appendHeader(buf[:0], rec)
}

// appendHeader appends the header line for a record whose JSON is rec.
func appendHeader(line, rec []byte) []byte {
	h := sha1.New()
	h.Write(rec)
	h.Write([]byte{'\n'})
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	line = append(line, headerPrefix+magicJSON+" "...)
	line = strconv.AppendInt(line, int64(len(rec)+1), 10)
	line = append(line, ' ')
	line = hex.AppendEncode(line, sum[:])
	return append(line, '\n')
}

// encodeRecord appends the full record for rec to dst.
func encodeRecord(dst, rec []byte) []byte {
	dst = append(dst, encodeHeader(rec)...)
	dst = append(dst, rec...)
	return append(dst, '\n')
}

// parseHeader parses a header line without its LF.
func parseHeader(line []byte) (header, error) {
	var h header
	rest, ok := bytes.CutPrefix(line, []byte(headerPrefix))
	if !ok {
		return h, fmt.Errorf("bad header %q", clip(line))
	}
	fields := bytes.Split(rest, []byte{' '})
	if len(fields) != 3 {
		return h, fmt.Errorf("bad header %q", clip(line))
	}
	h.magic = string(fields[0])
	n, err := parseLength(fields[1])
	if err != nil {
		return h, err
	}
	h.length = n
	if len(fields[2]) != sha1HexLen {
		return h, fmt.Errorf("bad sha1 %q in header", clip(fields[2]))
	}
	if _, err := hex.Decode(h.sum[:], fields[2]); err != nil {
		return h, fmt.Errorf("bad sha1 %q in header", clip(fields[2]))
	}
	return h, nil
}

// parseLength parses a positive decimal record length.
func parseLength(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 13 || b[0] < '0' || b[0] > '9' {
		return 0, fmt.Errorf("bad length %q in header", clip(b))
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n <= 0 || n > maxRecordBody {
		return 0, fmt.Errorf("bad length %q in header", clip(b))
	}
	return n, nil
}

// nextRecord parses the record at the start of data. It returns the header,
// the body (the second line, LF included) and the number of bytes the record
// takes. errShort means data ends inside the record.
func nextRecord(data []byte) (header, []byte, int, error) {
	nl := bytes.IndexByte(data[:min(len(data), maxHeaderLen)], '\n')
	if nl < 0 {
		if len(data) < maxHeaderLen && bytes.HasPrefix([]byte(headerPrefix), data[:min(len(data), len(headerPrefix))]) {
			return header{}, nil, 0, errShort
		}
		return header{}, nil, 0, fmt.Errorf("no header line: %q", clip(data))
	}
	h, err := parseHeader(data[:nl])
	if err != nil {
		return h, nil, 0, err
	}
	if h.length > int64(len(data)-nl-1) {
		return h, nil, 0, fmt.Errorf("%w: need %d bytes after header, have %d", errShort, h.length, len(data)-nl-1)
	}
	body := data[nl+1 : nl+1+int(h.length)]
	if sha1.Sum(body) != h.sum {
		return h, nil, 0, errors.New("sha1 mismatch")
	}
	return h, body, nl + 1 + int(h.length), nil
}

// checkBody checks that a record body is one JSON object.
func checkBody(body []byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(body) {
		return errors.New("record is not a JSON object")
	}
	return nil
}

// stripLF removes the record's terminating LF, which the writer adds.
func stripLF(body []byte) []byte {
	body, _ = bytes.CutSuffix(body, []byte{'\n'})
	return body
}

// clip shortens b for an error message.
func clip(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}

package embeddeddb

import (
	"bytes"
	"fmt"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// rawTransactMin is the size from which a transact request is split into
// its operations as raw text rather than parsed as one tree (unless
// Server.rawTransactMin says otherwise, as tests do). One tree costs
// fastjson a value cache as large as the message (about 80 bytes a JSON
// value, grown by doubling); northd's first write of a large SB is tens
// of MB.
const rawTransactMin = 64 << 10

// handleRawTransact handles msg when it is a transact request on a known
// database, operation by operation, and reports whether it did; when it
// did not, nothing has been sent and the caller parses msg as a whole.
// msg is checked exactly as handle checks it: a malformed one closes the
// connection (a non-nil error) with nothing run.
func (c *conn) handleRawTransact(msg []byte) (bool, error) {
	members, err := c.members(msg)
	c.rawMembers = members[:0]
	if err != nil {
		return false, nil
	}
	var id, method, params []byte
	for _, m := range members {
		if bytes.IndexByte(m.Key, '\\') >= 0 {
			return false, nil // escaped names: leave them to fastjson
		}
		p := &id
		switch string(m.Key) {
		case "id":
		case "method":
			p = &method
		case "params":
			p = &params
		default:
			continue
		}
		if *p == nil {
			*p = m.Value // fastjson's Object.Get finds the first
		}
	}
	if string(method) != `"transact"` || id == nil || string(id) == "null" || len(params) == 0 || params[0] != '[' {
		return false, nil
	}
	elems, err := c.elements(params)
	c.rawElems = elems[:0]
	if err != nil || len(elems) == 0 {
		return false, nil
	}
	d := c.rawDB(elems[0])
	if d == nil {
		return false, nil // the error reply quotes the params: parse them
	}
	for _, m := range members {
		if &m.Value[0] == &params[0] {
			continue // checked element by element below
		}
		if err := c.validRaw(m.Value); err != nil {
			return true, fmt.Errorf("malformed JSON: %w", err)
		}
	}
	for _, e := range elems {
		if err := c.validRaw(e); err != nil {
			return true, fmt.Errorf("malformed JSON: %w", err)
		}
	}
	// The reply carries the id as handle writes it back: as fastjson
	// renders it once checked (its strings unescaped), which may differ
	// from the text received.
	idv, err := c.parser.ParseBytes(id)
	if err == nil {
		err = validateJSON(idv)
	}
	if err != nil {
		return true, fmt.Errorf("malformed JSON: %w", err)
	}
	req := &request{method: "transact", raw: msg, id: idv.MarshalTo(nil), db: d, rawOps: elems[1:]}
	c.dispatch(req)
	return true, nil
}

// members splits msg into its members. A message that the connection's
// Splitter has just returned, and so checked, is split from the
// Splitter's notes: northd's first SB write is ~14 MB, which Members
// scanned again in ~20 ms.
func (c *conn) members(msg []byte) ([]ovsjson.Member, error) {
	if c.split != nil {
		if members, ok := c.split.LastMembers(msg, c.rawMembers[:0]); ok {
			return members, nil
		}
	}
	return ovsjson.Members(msg, c.rawMembers[:0])
}

// elements splits params, a member value of the message members split,
// into its elements, from the Splitter's notes when it can, as members.
func (c *conn) elements(params []byte) ([][]byte, error) {
	if c.split != nil {
		if elems, ok := c.split.LastElements(params, c.rawElems[:0]); ok {
			return elems, nil
		}
	}
	return ovsjson.Elements(params, c.rawElems[:0])
}

// validRaw checks one raw value as handle checks a whole message.
// ovsjson has already checked its grammar, strictly (RFC 8259 numbers,
// escapes, no control characters in strings): all that fastjson and
// validateJSON would check but NUL characters, which valid JSON can only
// carry as \u0000. So only a value with that text is parsed.
func (c *conn) validRaw(b []byte) error {
	if bytes.Index(b, escapedNUL) < 0 {
		return nil
	}
	v, err := c.parser.ParseBytes(b)
	if err != nil {
		return err
	}
	return validateJSON(v)
}

var escapedNUL = []byte(`\u0000`)

// rawDB returns the database a raw database-name parameter names, or nil.
func (c *conn) rawDB(b []byte) *dbState {
	if len(b) < 2 || b[0] != '"' || bytes.IndexByte(b, '\\') >= 0 {
		return nil
	}
	return c.srv.dbs[string(b[1:len(b)-1])]
}

// rawParams returns the operations of a transact request that handle or
// handleRawTransact has already checked, for running it again.
func rawParams(msg []byte) ([][]byte, error) {
	members, err := ovsjson.Members(msg, nil)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if string(m.Key) == "params" {
			elems, err := ovsjson.Elements(m.Value, nil)
			if err != nil || len(elems) == 0 {
				return nil, fmt.Errorf("transact request without a database parameter")
			}
			return elems[1:], nil
		}
	}
	return nil, fmt.Errorf("transact request without params")
}

package northd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// decodeResults decodes a transact reply's result array, meaning what
// json.Unmarshal into []ovsdb.OperationResult means. The results of a
// bulk write ({"uuid":["uuid",…]} for each of some 40,000 inserts,
// {"count":n} for updates and deletes, {} for the lock's assert) are
// read directly; any other result (an error, selected rows) goes
// through encoding/json. Through encoding/json alone a bulk reply took
// a quarter of a second and 29 MB of garbage.
func decodeResults(b []byte) ([]ovsdb.OperationResult, error) {
	if res, ok := plainResults(b); ok {
		return res, nil
	}
	elems, err := ovsjson.Elements(b, nil)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	res := make([]ovsdb.OperationResult, len(elems))
	var members []ovsjson.Member
	var parts [][]byte
	for i, e := range elems {
		members, err = ovsjson.Members(e, members[:0])
		plain := err == nil
		for _, m := range members {
			if !plain {
				break
			}
			switch string(m.Key) {
			case "uuid":
				var u string
				u, parts, plain = uuidResult(m.Value, parts)
				res[i].UUID = ovsdb.UUID{GoUUID: u}
			case "count":
				res[i].Count, err = strconv.Atoi(string(m.Value))
				plain = err == nil
			default:
				plain = false
			}
		}
		if !plain {
			res[i] = ovsdb.OperationResult{}
			if err := unmarshalResult(e, &res[i]); err != nil {
				return nil, fmt.Errorf("result %d: %w", i, err)
			}
		}
	}
	return res, nil
}

// unmarshalResult is json.Unmarshal into r, with the panic of
// libovsdb's UUID decoder on a malformed value ({"uuid":[]}) turned
// into an error: a bad reply never stops northd.
func unmarshalResult(b []byte, r *ovsdb.OperationResult) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed result %.60s: %v", b, p)
		}
	}()
	return json.Unmarshal(b, r)
}

// uuidResult reads v as ["uuid","<uuid>"] with a plain (escape-free)
// UUID string; ok is false for anything else.
func uuidResult(v []byte, parts [][]byte) (u string, _ [][]byte, ok bool) {
	parts, err := ovsjson.Elements(v, parts[:0])
	if err != nil || len(parts) != 2 || string(parts[0]) != `"uuid"` {
		return "", parts, false
	}
	s := parts[1]
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' || bytes.IndexByte(s, '\\') >= 0 {
		return "", parts, false
	}
	u = string(s[1 : len(s)-1])
	return u, parts, ovsjson.IsUUID(u)
}

// The results a bulk write's reply consists of, as ovsdb-server and
// ovnd's database write them.
const (
	emptyResult  = `{}`
	uuidResult1  = `{"uuid":["uuid","`
	uuidResult2  = `"]}`
	countResult1 = `{"count":`
)

// plainResults reads a reply whose results are each exactly {},
// {"count":N} or {"uuid":["uuid","<uuid>"]}, without whitespace, in
// one pass; ok is false for anything else, which decodeResults then
// reads member by member. A bulk write's reply of 42,600 results went
// from ~24 to a few ms on the path to sb_cfg.
func plainResults(b []byte) (_ []ovsdb.OperationResult, ok bool) {
	if len(b) < 2 || b[0] != '[' {
		return nil, false
	}
	res := make([]ovsdb.OperationResult, 0, bytes.Count(b, []byte{'}'}))
	i := 1
	if b[i] == ']' {
		return res, i+1 == len(b)
	}
	for {
		var r ovsdb.OperationResult
		rest := b[i:]
		switch {
		case bytes.HasPrefix(rest, []byte(emptyResult)):
			i += len(emptyResult)
		case bytes.HasPrefix(rest, []byte(uuidResult1)):
			j := len(uuidResult1)
			if len(rest) < j+36+len(uuidResult2) || string(rest[j+36:j+36+len(uuidResult2)]) != uuidResult2 {
				return nil, false
			}
			u := string(rest[j : j+36])
			if !ovsjson.IsUUID(u) {
				return nil, false
			}
			r.UUID.GoUUID = u
			i += j + 36 + len(uuidResult2)
		case bytes.HasPrefix(rest, []byte(countResult1)):
			j := len(countResult1)
			k := j
			for k < len(rest) && k-j < 10 && rest[k] >= '0' && rest[k] <= '9' {
				k++
			}
			if k == j || k == len(rest) || rest[k] != '}' || (rest[j] == '0' && k-j > 1) {
				return nil, false
			}
			r.Count, _ = strconv.Atoi(string(rest[j:k]))
			i += k + 1
		default:
			return nil, false
		}
		res = append(res, r)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ']':
			return res, i+1 == len(b)
		case ',':
			i++
		default:
			return nil, false
		}
	}
}

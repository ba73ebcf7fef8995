package northd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"
)

// decodeResults reads every transact reply as json.Unmarshal does:
// the bulk write's results, and the ones it hands to encoding/json.
func TestDecodeResultsMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`[]`,
		`[{}]`,
		`[{},{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]},{"count":3}]`,
		` [ { "uuid" : [ "uuid" , "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11" ] } , { "count" : 0 } ] `,
		`[{"count":1},{"error":"constraint violation","details":"tab\tand \"quote\" \u00e9"}]`,
		`[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]},{"count":1},{"error":"referential integrity violation","details":"x"}]`,
		`[{"rows":[{"name":"a","_uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]}]}]`,
		`[{"uuid":["uuid","not-a-uuid"]}]`,
		`[{"uuid":["named-uuid","row1"]}]`,
		`[{"count":1.0}]`,
		`[{"count":1,"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]}]`,
		`[null]`,
		`[{},{"count":0},{"count":12},{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]},{}]`,
		`[{"count":007}]`,
		`[{"count":-1}]`,
		`[{"count":1}] `,
		`[{"count":1234567890}]`,
		`[{"count":12345678901}]`,
		`[{"uuid":["uuid","6A3F3C55-3E4B-4B5A-9C36-0C7D1F0F2A11"]}]`,
		`[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a1"]}]`,
		`[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"],"count":1}]`,
		`[{},]`,
		`[{}{}]`,
		`[{}`,
		`[{"count":1}]]`,
		`[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]}`,
		`[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11\"]}]`,
	} {
		var want []ovsdb.OperationResult
		werr := json.Unmarshal([]byte(in), &want)
		got, err := decodeResults([]byte(in))
		if (err != nil) != (werr != nil) {
			t.Errorf("%s: error %v, encoding/json's %v", in, err, werr)
			continue
		}
		if d := cmp.Diff(want, got); err == nil && d != "" {
			t.Errorf("%s (-encoding/json +decodeResults):\n%s", in, d)
		}
	}
}

func TestDecodeResultsRejectsBadJSON(t *testing.T) {
	for _, in := range []string{``, `{}`, `[{"count":1}`, `[{"count":}]`, `[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]]`, `[1]`,
		`[{},{"00000":0},{"uuid":[]}]`, `[{"uuid":["uuid"]}]`} {
		if _, err := decodeResults([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// bulkReply is the result array of the reply to the benchmark's bulk
// write (the assert, then an insert's UUID per operation, and some
// updates' counts).
func bulkReply() []byte {
	var sb strings.Builder
	sb.WriteString("[{}")
	for i := range 42609 {
		if i%1000 == 999 {
			sb.WriteString(`,{"count":1}`)
			continue
		}
		fmt.Fprintf(&sb, `,{"uuid":["uuid","%08x-3e4b-4b5a-9c36-0c7d1f0f2a11"]}`, i)
	}
	sb.WriteString("]")
	return []byte(sb.String())
}

// A bulk write's reply takes the one-pass path, and reads as
// encoding/json reads it.
func TestBulkReplyIsPlain(t *testing.T) {
	raw := bulkReply()
	got, ok := plainResults(raw)
	if !ok {
		t.Fatal("the bulk reply is not read in one pass")
	}
	var want []ovsdb.OperationResult
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-encoding/json +plainResults):\n%s", d)
	}
}

// BenchmarkDecodeBulkReply is the reply to the benchmark's bulk write.
func BenchmarkDecodeBulkReply(b *testing.B) {
	raw := bulkReply()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := decodeResults(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// parseRPC reads the lock session's messages as json.Unmarshal into rpc
// does, and rejects what it rejects.
func TestParseRPCMatchesEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"id":"lock","result":{"locked":true},"error":null}`,
		`{"id":null,"method":"locked","params":["ovn_northd"]}`,
		`{"id":"echo","method":"echo","params":[]}`,
		`{"id":7,"method":"echo","params":null}`,
		`{ "id" : "txn1" , "result" : [ {} , {"count":1} ] , "error" : null }`,
		`{"id":"txn2","result":null,"error":{"error":"not owner","details":"x"}}`,
		`{"id":"txn3","result":[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]}],"error":null,"extra":1}`,
	} {
		var want rpc
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := parseRPC([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if d := cmp.Diff(&want, got); d != "" {
			t.Errorf("%s (-encoding/json +parseRPC):\n%s", in, d)
		}
	}
	for _, in := range []string{`[]`, `{"id":"x","params":{}}`, `{"method":1}`, `{"id":"x"`} {
		if _, err := parseRPC([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// FuzzDecodeResults: decodeResults reads what encoding/json reads, and
// rejects what it rejects.
func FuzzDecodeResults(f *testing.F) {
	for _, s := range []string{`[]`, `[{}]`, `[{},{"count":3},{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]}]`,
		`[{"count":1},{"error":"constraint violation","details":"x"}]`, `[{"count":007}]`, `[{},]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var want []ovsdb.OperationResult
		werr := func() (err error) {
			// libovsdb's UUID decoder panics on some malformed
			// values: an error for decodeResults.
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			return json.Unmarshal([]byte(in), &want)
		}()
		got, err := decodeResults([]byte(in))
		if (err != nil) != (werr != nil) {
			t.Fatalf("%q: error %v, encoding/json's %v", in, err, werr)
		}
		if d := cmp.Diff(want, got); err == nil && d != "" {
			t.Fatalf("%q (-encoding/json +decodeResults):\n%s", in, d)
		}
	})
}

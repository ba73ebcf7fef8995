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
	for _, in := range []string{``, `{}`, `[{"count":1}`, `[{"count":}]`, `[{"uuid":["uuid","6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"]]`, `[1]`} {
		if _, err := decodeResults([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// BenchmarkDecodeBulkReply is the reply to the benchmark's bulk write.
func BenchmarkDecodeBulkReply(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[{}")
	for i := range 42609 {
		fmt.Fprintf(&sb, `,{"uuid":["uuid","%08x-3e4b-4b5a-9c36-0c7d1f0f2a11"]}`, i)
	}
	sb.WriteString("]")
	raw := []byte(sb.String())
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

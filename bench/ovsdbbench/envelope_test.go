package main

import (
	"encoding/json"
	"testing"
)

// TestParseEnvelopeAgreesWithEncodingJSON checks the fast path against
// encoding/json on the messages the benchmark meets, in several key orders
// and spacings.
func TestParseEnvelopeAgreesWithEncodingJSON(t *testing.T) {
	for _, frame := range []string{
		`{"id":12,"result":[{"uuid":["uuid","0e0c2a4f-0b4d-4c52-8e0f-3b1f2d9c7a11"]},{}],"error":null}`,
		`{"error":null,"result":[{"uuid":["uuid","x"]}],"id":12}`,
		`{ "id" : 3 , "result" : ["OVN_Northbound","OVN_Southbound"] , "error" : null }`,
		`{"id":null,"method":"update2","params":[1,{"Logical_Switch":{"u":{"insert":{"name":"a\"}b"}}}}]}`,
		`{"id":"e1","method":"echo","params":[]}`,
		`{"id":4,"result":null,"error":{"error":"unknown method","details":"x"}}`,
		`{"id":5,"result":"s}]\\","error":null}`,
		`{}`,
	} {
		fast, ok := parseEnvelope([]byte(frame))
		if !ok {
			t.Errorf("%s: fast path declined", frame)
			continue
		}
		var slow message
		if err := json.Unmarshal([]byte(frame), &slow); err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		if got, want := render(fast), render(slow); got != want {
			t.Errorf("%s:\nfast %s\nslow %s", frame, got, want)
		}
	}
}

func render(m message) string {
	b, _ := json.Marshal(struct {
		ID, Params, Result, Error string
		Method                    string
	}{string(m.ID), string(m.Params), string(m.Result), string(m.Error), m.Method})
	return string(b)
}

func TestParseEnvelopeDeclinesOddMessages(t *testing.T) {
	for _, frame := range []string{
		`{"id":1,"method":"ec\u0068o","params":[]}`,
		`{"i\u0064":1}`,
		`[1,2]`,
		`{"id":1 "result":2}`,
		`{"id":}`,
	} {
		if _, ok := parseEnvelope([]byte(frame)); ok {
			t.Errorf("%s: fast path accepted it", frame)
		}
	}
}

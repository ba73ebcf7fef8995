package embeddeddb

import (
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Regression tests for inputs the fuzz targets found.

// TestTransactMissingMembers: an "assert" without "lock" or a "comment"
// without "comment" is a syntax error in that operation's result, as in
// ovsdb-server, and the server goes on.
func TestTransactMissingMembers(t *testing.T) {
	ts := startServer(t, "")
	c := ts.dialNB(t)
	for _, op := range []string{`{"op":"assert"}`, `{"op":"comment"}`, `{"op":"assert","lock":5}`, `{"op":"comment","comment":null}`,
		`{"op":"mutate","table":"Logical_Switch","where":[]}`,
		`{"op":"wait","table":"Logical_Switch","where":[],"columns":["name"],"until":"==","timeout":0}`} {
		res := transactAny(t, c, "["+op+"]")
		if len(res) != 1 || res[0]["error"] != "syntax error" {
			t.Errorf("%s: want a syntax error result, got %s", op, mustMarshal(t, res))
		}
	}
	ok(t, c.Call("echo"))
	addSwitch(t, ts.dialNB(t), "still-serving")
}

// TestInvalidNumbersRejected: ovsdb-server closes the connection on a
// number that is not JSON; ovnd must at least never send invalid JSON
// back.
func TestInvalidNumbersRejected(t *testing.T) {
	ts := startServer(t, "")
	for _, input := range []string{`{"id":.,"method":"echo","params":[]}`, `{"id":1,"method":"echo","params":[1.2.3]}`, `{"id":1,"method":"echo","params":[-]}`} {
		t.Run(input, func(t *testing.T) {
			nc, err := net.Dial("unix", ts.nb)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write([]byte(input))
			nc.SetReadDeadline(time.Now().Add(2 * time.Second))
			got, err := io.ReadAll(nc)
			if err != nil {
				t.Errorf("connection not closed: %v", err)
			}
			if s := strings.TrimSpace(string(got)); s != "" && !json.Valid(got) {
				t.Errorf("server sent invalid JSON: %s", got)
			}
		})
	}
}

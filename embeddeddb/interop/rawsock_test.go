package interop

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rawCase is one bad (or odd) input and what ovsdb-server 3.1 was seen to
// do with it; the target must do the same.
type rawCase struct {
	name    string
	payload string
	// noProbe: send no echo after the payload, and wait for silence.
	noProbe bool
	want    []string
}

const nbDB = `"OVN_Northbound"`

var rawCases = []rawCase{
	// Framing and JSON-RPC.
	{name: "incomplete JSON", payload: `{"method":"echo","params":[],"id":1`, noProbe: true, want: []string{"silent"}},
	{name: "malformed JSON", payload: `{"method":"echo" "params":[],"id":1}`, want: []string{"closed"}},
	{name: "not JSON", payload: "hello world\n", want: []string{"closed"}},
	{name: "top-level array", payload: `[1,2,3]`, want: []string{"closed"}},
	{name: "deep nesting", payload: strings.Repeat("[", 100000), want: []string{"closed"}},
	{name: "params not an array", payload: `{"method":"transact","params":{},"id":1}`, want: []string{"closed"}},
	{name: "unknown method", payload: `{"method":"frobnicate","params":[],"id":1}`, want: []string{"id=1 error=unknown method"}},
	{name: "unknown notification", payload: `{"method":"frobnicate","params":[],"id":null}`},
	{name: "request without id", payload: `{"method":"echo","params":[]}`},
	{name: "pipelined requests", payload: `{"method":"echo","params":["a"],"id":1}{"method":"echo","params":["b"],"id":2}`,
		want: []string{`id=1 result=["a"]`, `id=2 result=["b"]`}},
	{name: "lock without id", payload: `{"method":"lock","params":[],"id":1}`, want: []string{"id=1 error=syntax error"}},

	// Databases, tables, columns.
	{name: "transact unknown database", payload: `{"method":"transact","params":["Nope"],"id":1}`, want: []string{"id=1 error=unknown database"}},
	{name: "get_schema unknown database", payload: `{"method":"get_schema","params":["Nope"],"id":1}`, want: []string{"id=1 error=unknown database"}},
	{name: "monitor unknown database", payload: `{"method":"monitor","params":["Nope",null,{}],"id":1}`, want: []string{"id=1 error=unknown database"}},
	{name: "monitor unknown table", payload: `{"method":"monitor","params":[` + nbDB + `,null,{"Nope":{}}],"id":1}`, want: []string{"id=1 error=syntax error"}},
	{name: "unknown table", payload: transactJSON(`{"op":"select","table":"Nope","where":[]}`), want: []string{"id=1 result=[error=syntax error]"}},
	{name: "unknown column in where", payload: transactJSON(`{"op":"select","table":"Logical_Switch","where":[["nope","==","x"]]}`), want: []string{"id=1 result=[error=unknown column]"}},
	{name: "unknown column in row", payload: transactJSON(`{"op":"insert","table":"Logical_Switch","row":{"nope":"x"}}`), want: []string{"id=1 result=[error=unknown column]"}},
	{name: "unknown operation", payload: transactJSON(`{"op":"frob","table":"Logical_Switch"}`), want: []string{"id=1 result=[error=syntax error]"}},

	// Types and constraints.
	{name: "wrong type", payload: transactJSON(`{"op":"insert","table":"Logical_Switch","row":{"name":5}}`), want: []string{"id=1 result=[error=syntax error]"}},
	{name: "integer out of range", payload: transactJSON(`{"op":"insert","table":"Logical_Switch_Port","row":{"name":"x","tag_request":9999}}`), want: []string{"id=1 result=[error=constraint violation]"}},
	{name: "enum violation", payload: transactJSON(`{"op":"insert","table":"ACL","row":{"priority":1,"direction":"sideways","match":"1","action":"allow"}}`), want: []string{"id=1 result=[error=constraint violation]"}},
	{name: "referential integrity", payload: transactJSON(`{"op":"insert","table":"Logical_Switch","row":{"name":"y","ports":["uuid","2f3a5b2e-4c1d-4e8b-9d7a-1a2b3c4d5e6f"]}}`),
		want: []string{"id=1 result=[uuid error=referential integrity violation]"}},
	{name: "duplicate index", payload: transactJSON(`{"op":"insert","table":"Address_Set","row":{"name":"as1"}},{"op":"insert","table":"Address_Set","row":{"name":"as1"}}`),
		want: []string{"id=1 result=[uuid uuid error=constraint violation]"}},
	{name: "index clash with existing row", payload: transactJSON(`{"op":"insert","table":"Address_Set","row":{"name":"keep"}}`),
		want: []string{"id=1 result=[uuid error=constraint violation]"}},
	{name: "wait times out", payload: transactJSON(`{"op":"wait","timeout":0,"table":"Logical_Switch","where":[],"columns":["name"],"until":"==","rows":[{"name":"zzz"}]}`),
		want: []string{"id=1 result=[error=timed out]"}},
	{name: "abort rolls back", payload: transactJSON(`{"op":"delete","table":"Logical_Switch","where":[]},{"op":"abort"}`),
		want: []string{"id=1 result=[count=1 error=aborted]"}},
	{name: "assert unheld lock", payload: transactJSON(`{"op":"assert","lock":"nope"}`), want: []string{"id=1 result=[error=not owner]"}},
	{name: "mutation out of range", payload: transactJSON(`{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","-=",9223372036854775807],["nb_cfg","-=",9223372036854775807]]}`),
		want: []string{"id=1 result=[error=range error]"}},
	{name: "division by zero", payload: transactJSON(`{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","/=",0]]}`),
		want: []string{"id=1 result=[error=domain error]"}},
	{name: "update _uuid", payload: transactJSON(`{"op":"update","table":"Logical_Switch","where":[],"row":{"_uuid":["uuid","2f3a5b2e-4c1d-4e8b-9d7a-1a2b3c4d5e6f"]}}`),
		want: []string{"id=1 result=[error=constraint violation]"}},
	{name: "bad uuid-name", payload: transactJSON(`{"op":"insert","table":"Logical_Switch","row":{"name":"a"},"uuid-name":"1bad"}`),
		want: []string{"id=1 result=[error=syntax error]"}},
	{name: "unknown function", payload: transactJSON(`{"op":"select","table":"Logical_Switch","where":[["name","~=","a"]]}`),
		want: []string{"id=1 result=[error=unknown function]"}},
}

func transactJSON(ops string) string {
	return `{"method":"transact","params":[` + nbDB + `,` + ops + `],"id":1}`
}

// TestBadInput feeds each rawCase to the target on its own connection and
// requires ovsdb-server's observable behaviour; after each, the server
// still answers echo on a new connection and the data is intact.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	seedRawData(t, s)
	want := sortedLines(ovsdbClient(t, "dump", s.NB(), "OVN_Northbound"))
	for _, c := range rawCases {
		got := runRawCase(t, s, c)
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s: outcome (-ovsdb-server +target):\n%s", c.name, d)
		}
		checkIntact(t, s, c.name, want)
	}
}

// seedRawData makes rows the raw cases must not be able to change.
func seedRawData(t *testing.T, s *Server) {
	t.Helper()
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "keep", "--", "lsp-add", "keep", "keep-p", "--", "lsp-set-addresses", "keep-p", "00:00:00:00:00:01")
	nb.Must(t, "create", "Address_Set", "name=keep")
}

func runRawCase(t *testing.T, s *Server, c rawCase) []string {
	t.Helper()
	r, err := DialRaw(s.NBSock)
	if err != nil {
		t.Fatalf("%s: dial: %v", c.name, err)
	}
	defer r.Close()
	payload := c.payload
	silence := 5 * time.Second
	if c.noProbe {
		silence = 500 * time.Millisecond
	} else {
		payload += probe
	}
	if err := r.Send([]byte(payload)); err != nil {
		return []string{"closed"}
	}
	return r.Outcome(silence)
}

// checkIntact requires the server to be up, answering echo, with the NB
// database as it was.
func checkIntact(t *testing.T, s *Server, after string, want []string) {
	t.Helper()
	if !s.Alive() {
		t.Fatalf("after %s: server exited", after)
	}
	if err := Echo(s.NBSock); err != nil {
		t.Fatalf("after %s: %v", after, err)
	}
	if d := cmp.Diff(want, sortedLines(ovsdbClient(t, "dump", s.NB(), "OVN_Northbound"))); d != "" {
		t.Errorf("after %s: NB changed (-before +after):\n%s", after, d)
	}
}

// TestHalfTransaction sends the first half of a transaction and hangs up;
// the server forgets it and stays up.
func TestHalfTransaction(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	seedRawData(t, s)
	want := sortedLines(ovsdbClient(t, "dump", s.NB(), "OVN_Northbound"))
	full := transactJSON(`{"op":"insert","table":"Logical_Switch","row":{"name":"half"}}`)
	for _, cut := range []int{1, len(full) / 2, len(full) - 1} {
		r, err := DialRaw(s.NBSock)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Send([]byte(full[:cut])); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	checkIntact(t, s, "half transactions", want)
}

// TestHugeMessage sends a 200 MiB JSON string in an echo request. What
// ovsdb-server 3.1 does is echo it back (slowly); the target may do the
// same, answer with an error or close the connection, but it must stay up
// and keep serving others meanwhile.
func TestHugeMessage(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	seedRawData(t, s)
	want := sortedLines(ovsdbClient(t, "dump", s.NB(), "OVN_Northbound"))
	r, err := DialRaw(s.NBSock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if r.Send([]byte(`{"method":"echo","params":["`)) != nil {
			return
		}
		_ = r.conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
		if writeAll(r.conn, 'x', 200<<20) != nil {
			return
		}
		_ = r.Send([]byte(`"],"id":"huge"}`))
	}()
	time.Sleep(100 * time.Millisecond)
	if err := Echo(s.NBSock); err != nil {
		t.Errorf("while a huge message arrives: %v", err)
	}
	got := hugeOutcome(r)
	r.Close()
	wg.Wait()
	t.Logf("huge message: %s", got)
	checkIntact(t, s, "huge message", want)
}

// hugeOutcome reads the start of the server's answer to the huge message:
// "closed", an error reply, or the start of the echo.
func hugeOutcome(r *RawConn) string {
	_ = r.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	buf := make([]byte, 64)
	n, err := r.conn.Read(buf)
	switch {
	case n > 0 && strings.Contains(string(buf[:n]), `"result":["xxx`):
		return "echoed"
	case n > 0:
		return "replied " + string(buf[:n])
	default:
		return "closed (" + err.Error() + ")"
	}
}

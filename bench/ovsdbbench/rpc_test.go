package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
)

func readFrames(t *testing.T, r io.Reader) ([]string, error) {
	t.Helper()
	fr := newFrameReader(r)
	var out []string
	for range 100 {
		f, err := fr.next()
		if err != nil {
			return out, err
		}
		out = append(out, string(f))
	}
	t.Fatal("more than 100 frames")
	return nil, nil
}

func TestFrameReaderSplitsMessages(t *testing.T) {
	msgs := []string{
		`{"id":0,"result":["OVN_Northbound"],"error":null}`,
		`{"id":null,"method":"update2","params":[1,{"T":{"u":{"insert":{"name":"a}b{c"}}}}]}`,
		`{"s":"quote \" and backslash \\ then } and ]"}`,
		`{"s":"ends in backslash \\"}`,
		`[1,[2,[3]],{"x":[]}]`,
		`{}`,
	}
	stream := "  " + strings.Join(msgs, "\n") + "\r\n\t"
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(stream),
		"one byte": iotest.OneByteReader(strings.NewReader(stream)),
		"half":     iotest.HalfReader(strings.NewReader(stream)),
	} {
		got, err := readFrames(t, r)
		if !errors.Is(err, io.EOF) {
			t.Errorf("%s: err = %v, want EOF", name, err)
		}
		if strings.Join(got, "|") != strings.Join(msgs, "|") {
			t.Errorf("%s: frames\n%q\nwant\n%q", name, got, msgs)
		}
		for _, f := range got {
			if !json.Valid([]byte(f)) {
				t.Errorf("%s: frame %q is not valid JSON", name, f)
			}
		}
	}
}

func TestFrameReaderGrowsForLargeMessages(t *testing.T) {
	big := `{"s":"` + strings.Repeat("x", 300<<10) + `"}`
	got, err := readFrames(t, strings.NewReader(big+big))
	if !errors.Is(err, io.EOF) || len(got) != 2 || got[0] != big || got[1] != big {
		t.Fatalf("got %d frames, err %v", len(got), err)
	}
}

func TestFrameReaderRejectsJunkBetweenMessages(t *testing.T) {
	got, err := readFrames(t, strings.NewReader(`{"a":1} x {"b":2}`))
	if err == nil || errors.Is(err, io.EOF) || len(got) != 1 {
		t.Fatalf("got %q, err %v; want one frame and a syntax error", got, err)
	}
}

func TestAppendRequest(t *testing.T) {
	got := appendRequest(nil, 7, "transact", []byte(`["OVN_Northbound"]`))
	want := `{"id":7,"method":"transact","params":["OVN_Northbound"]}`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// pipe returns the two ends of a connected unix socket. Unlike net.Pipe it
// buffers, so a server may write several messages while the client is
// writing too.
func pipe(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	return client, server
}

// fakeServer reads requests from c and answers each with the replies
// returned by answer.
func fakeServer(t *testing.T, c net.Conn, answer func(m message) []string) {
	t.Helper()
	fr := newFrameReader(c)
	for {
		f, err := fr.next()
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(f, &m); err != nil {
			t.Errorf("server: bad request %s: %v", f, err)
			return
		}
		for _, r := range answer(m) {
			if _, err := io.WriteString(c, r); err != nil {
				return
			}
		}
	}
}

func TestCallMatchesResponseAfterEchoAndNotification(t *testing.T) {
	client, server := pipe(t)
	defer client.Close()
	echoed := make(chan string, 1)
	go fakeServer(t, server, func(m message) []string {
		switch m.Method {
		case "transact":
			// Before the reply: a server echo request and a notification.
			return []string{
				`{"id":"e1","method":"echo","params":["ping"]}`,
				`{"id":null,"method":"update2","params":[0,{}]}`,
				`{"id":` + string(m.ID) + `,"result":[{"uuid":["uuid","0e0c2a4f-0b4d-4c52-8e0f-3b1f2d9c7a11"]}],"error":null}`,
			}
		case "": // the client's echo reply
			echoed <- string(m.ID) + " " + string(m.Result)
		}
		return nil
	})
	defer server.Close()
	c := newConn(client)
	var notified []string
	c.notify = func(m *message, _ []byte) { notified = append(notified, m.Method) }
	res, err := c.transact([]byte(`["OVN_Northbound"]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := res[0].uuidOf(); got != "0e0c2a4f-0b4d-4c52-8e0f-3b1f2d9c7a11" {
		t.Errorf("uuid %q", got)
	}
	if len(notified) != 1 || notified[0] != "update2" {
		t.Errorf("notifications %v, want [update2]", notified)
	}
	if got := <-echoed; got != `"e1" ["ping"]` {
		t.Errorf("echo reply %q", got)
	}
}

func TestCallRejectsWrongID(t *testing.T) {
	client, server := pipe(t)
	defer client.Close()
	go fakeServer(t, server, func(m message) []string {
		return []string{`{"id":99,"result":[],"error":null}`}
	})
	defer server.Close()
	if _, err := newConn(client).call("list_dbs", []byte("[]")); err == nil {
		t.Fatal("no error for a response with the wrong id")
	}
}

func TestTransactResultErrors(t *testing.T) {
	for _, tc := range []struct {
		result string
		ok     bool
	}{
		{`[{"uuid":["uuid","x"]},{}]`, true},
		{`[{"uuid":["uuid","x"]},{"error":"timed out","details":"x"}]`, false},
		{`[{},{"error":"constraint violation","details":"dup"}]`, false},
		{`[null]`, true},
		{`{"not":"an array"}`, false},
	} {
		_, err := parseTransactResult(json.RawMessage(tc.result))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.result, err, tc.ok)
		}
	}
}

func TestInsertParamsAreValidTransactions(t *testing.T) {
	for _, durable := range []bool{false, true} {
		b := appendInsertParams(nil, "ls-c", 3, 12345, durable)
		var params []json.RawMessage
		if err := json.Unmarshal(b, &params); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if want := 2 + btoi(durable); len(params) != want {
			t.Errorf("%s: %d elements, want %d", b, len(params), want)
		}
		if !bytes.Contains(b, []byte(`"name":"ls-c3-12345"`)) {
			t.Errorf("%s: missing row name", b)
		}
	}
	small := appendSmallRows(nil, 10, 3)
	var params []json.RawMessage
	if err := json.Unmarshal(small, &params); err != nil || len(params) != 4 {
		t.Fatalf("small rows %s: %d elements, err %v", small, len(params), err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUpdateRowUUID(t *testing.T) {
	const u = "6b7c3a1e-0000-4000-8000-000000000001"
	for _, tc := range []struct {
		frame string
		ok    bool
	}{
		{`{"id":null,"method":"update2","params":[1,{"Logical_Switch":{"` + u + `":{"insert":{"name":"fan-1"}}}}]}`, true},
		{`{ "params" : [ 1 , { "Logical_Switch" : { "` + u + `" : {"insert":{}}}}], "method" : "update2", "id" : null }`, true},
		{`{"id":null,"method":"update3","params":[1,"x",{"Logical_Switch":{"` + u + `":{}}}]}`, false},
		{`{"id":null,"method":"update2","params":[1,{"ACL":{"` + u + `":{}}}]}`, false},
		{`{"id":"x","method":"echo","params":[]}`, false},
		{`{"id":3,"result":{"Logical_Switch":{"` + u + `":{}}},"error":null}`, false},
	} {
		got, ok := updateRowUUID([]byte(tc.frame))
		if ok != tc.ok || (ok && got != u) {
			t.Errorf("%s: got %q, %v; want ok=%v", tc.frame, got, ok, tc.ok)
		}
	}
}

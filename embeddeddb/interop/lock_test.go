package interop

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLocks drives RFC 7047 locks (lock, steal, unlock and the locked and
// stolen notifications) over three raw connections.
func TestLocks(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	conns := map[string]*RawConn{}
	for _, name := range []string{"a", "b", "c"} {
		r, err := DialRaw(s.NBSock)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		conns[name] = r
	}
	assert := transactJSON(`{"op":"assert","lock":"L"}`)
	for _, step := range []struct {
		conn, send string
		want       []string
	}{
		{"a", `{"method":"lock","params":["L"],"id":1}`, []string{`id=1 result={"locked":true}`}},
		{"b", `{"method":"lock","params":["L"],"id":2}`, []string{`id=2 result={"locked":false}`}},
		{"a", assert, []string{"id=1 result=[{}]"}},
		{"b", assert, []string{"id=1 result=[error=not owner]"}},
		{"a", `{"method":"lock","params":["L"],"id":3}`, []string{"id=3 error=syntax error"}},
		{"a", `{"method":"unlock","params":["L"],"id":4}`, []string{"id=4 result={}"}},
		{"b", "", []string{`id=null method="locked" params=["L"]`}},
		{"b", assert, []string{"id=1 result=[{}]"}},
		{"c", `{"method":"steal","params":["L"],"id":5}`, []string{`id=5 result={"locked":true}`}},
		{"b", "", []string{`id=null method="stolen" params=["L"]`}},
		{"b", assert, []string{"id=1 result=[error=not owner]"}},
		{"c", assert, []string{"id=1 result=[{}]"}},
		// a no longer holds or waits for L; b, robbed, still waits.
		{"a", `{"method":"unlock","params":["L"],"id":6}`, []string{"id=6 error=syntax error"}},
		{"c", `{"method":"unlock","params":["L"],"id":7}`, []string{"id=7 result={}"}},
		{"b", "", []string{`id=null method="locked" params=["L"]`}},
		{"b", `{"method":"lock","params":["L"],"id":8}`, []string{"id=8 error=syntax error"}},
		{"b", assert, []string{"id=1 result=[{}]"}},
	} {
		got := conns[step.conn].Exchange(step.send)
		if d := cmp.Diff(step.want, got); d != "" {
			t.Errorf("%s: %s (-ovsdb-server +target):\n%s", step.conn, step.send, d)
		}
	}
}

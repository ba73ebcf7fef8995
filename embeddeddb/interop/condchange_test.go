package interop

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// condChangeSteps is a conversation on one connection: a conditional
// monitor, a change of its condition, updates, and cancelling it. An
// empty send only makes changes with ovn-nbctl (nbctl) and collects what
// the monitor is sent.
var condChangeSteps = []struct {
	send  string
	nbctl []string
}{
	{send: `{"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"where":[["name","==","sw1"]],"columns":["name","other_config"]}]}],"id":1}`},
	{send: `{"method":"monitor_cond_change","params":["m","m",{"Logical_Switch":[{"where":[["name","==","sw2"]]}]}],"id":2}`},
	{nbctl: []string{"set", "Logical_Switch", "sw1", "other_config:a=1"}},
	{nbctl: []string{"set", "Logical_Switch", "sw2", "other_config:a=2"}},
	{send: `{"method":"monitor_cond_change","params":["m","m",{"Logical_Switch":[{"where":[true]}]}],"id":3}`},
	{send: `{"method":"monitor_cond_change","params":["nope","nope",{}],"id":4}`},
	{send: `{"method":"monitor_cancel","params":["m"],"id":5}`},
	{nbctl: []string{"ls-add", "sw3"}},
	{send: `{"method":"monitor_cancel","params":["m"],"id":6}`},
	{send: `{"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"columns":["name"]}]}],"id":7}`},
	{send: `{"method":"monitor_cond","params":["OVN_Northbound","m",{"Logical_Switch":[{"columns":["name"]}]}],"id":8}`},
}

// TestMonitorCondChange compares, message by message, a conversation of
// monitor_cond, monitor_cond_change and monitor_cancel with ovsdb-server
// and with the target.
func TestMonitorCondChange(t *testing.T) {
	t.Parallel()
	want := condChangeConversation(t, StartServer(t, TargetOVSDBServer, Options{}))
	got := condChangeConversation(t, StartTarget(t, Options{}))
	for i := range condChangeSteps {
		if d := cmp.Diff(want[i], got[i]); d != "" {
			t.Errorf("step %d %s%v (-ovsdb-server +target):\n%s", i, condChangeSteps[i].send, condChangeSteps[i].nbctl, d)
		}
	}
}

func condChangeConversation(t *testing.T, s *Server) [][]string {
	t.Helper()
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "sw1", "--", "ls-add", "sw2")
	r, err := DialRaw(s.NBSock)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := uuidNamer{}
	out := make([][]string, len(condChangeSteps))
	for i, st := range condChangeSteps {
		if st.nbctl != nil {
			nb.Must(t, st.nbctl...)
		}
		out[i] = exchangeRendered(t, r, st.send, names)
	}
	return out
}

// exchangeRendered sends payload and a probe echo, and renders every
// message before the probe's reply as canonical JSON with UUIDs renamed.
func exchangeRendered(t *testing.T, r *RawConn, payload string, names uuidNamer) []string {
	t.Helper()
	if err := r.Send([]byte(payload + probe)); err != nil {
		return []string{"(send: " + err.Error() + ")"}
	}
	var out []string
	for {
		msg, err := r.Next(5 * time.Second)
		if err != nil {
			return append(out, "(read: "+err.Error()+")")
		}
		if string(msg["id"]) == `"`+probeID+`"` {
			return out
		}
		out = append(out, renderMessage(t, msg, names))
	}
}

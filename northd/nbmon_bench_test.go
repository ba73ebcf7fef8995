package northd

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/internal/ovsjson"
)

// bulkNBUpdate is the monitor update of the benchmark's bulk load as
// an "update" message: 500 switches of 20 ports (and a router port
// each), a port group of every VIF with 3 ACLs.
func bulkNBUpdate() []byte {
	var b strings.Builder
	uuid := func(t, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", t, i) }
	b.WriteString(`{"id":null,"method":"update","params":["` + nbMonitorID + `",{"Logical_Switch_Port":{`)
	for i := range 500 * 21 {
		if i > 0 {
			b.WriteByte(',')
		}
		sw, p := i/21, i%21
		if p == 20 {
			fmt.Fprintf(&b, `"%s":{"new":{"name":"rp-sw%d","type":"router","addresses":"router","options":["map",[["router-port","lrp-sw%d"]]],"up":true}}`,
				uuid(1, i), sw, sw)
			continue
		}
		fmt.Fprintf(&b, `"%s":{"new":{"name":"lsp-%d-%d","addresses":"0a:00:00:%02x:%02x:%02x 10.%d.%d.%d"}}`,
			uuid(1, i), sw, p, sw>>8, sw&255, p, sw>>8, sw&255, p+2)
	}
	b.WriteString(`},"Logical_Switch":{`)
	for sw := range 500 {
		if sw > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"new":{"name":"sw%d","ports":["set",[`, uuid(2, sw), sw)
		for p := range 21 {
			if p > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["uuid","%s"]`, uuid(1, sw*21+p))
		}
		b.WriteString(`]]}}`)
	}
	b.WriteString(`},"Port_Group":{"` + uuid(3, 0) + `":{"new":{"name":"pg_all","acls":["set",[`)
	for a := range 3 {
		if a > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["uuid","%s"]`, uuid(4, a))
	}
	b.WriteString(`]],"ports":["set",[`)
	for i := range 500 * 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `["uuid","%s"]`, uuid(1, i/20*21+i%20))
	}
	b.WriteString(`]]}}},"ACL":{`)
	for a := range 3 {
		if a > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s":{"new":{"action":"allow-related","direction":"to-lport","match":"outport == @pg_all && ip4 && tcp.dst == %d","priority":%d}}`,
			uuid(4, a), 22+a, 1000+a)
	}
	b.WriteString(`}}]}`)
	return []byte(b.String())
}

// BenchmarkReplicaBulk reads the bulk load's NB update as the monitor
// session does (its message parsed, its rows decoded into the replica).
func BenchmarkReplicaBulk(b *testing.B) {
	msg := bulkNBUpdate()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		rep, err := newNBReplica()
		if err != nil {
			b.Fatal(err)
		}
		sp := ovsjson.NewSplitter(bytes.NewReader(msg), maxNBMessage)
		m, err := sp.Next()
		if err != nil {
			b.Fatal(err)
		}
		_, upd, _ := (&nbMonitor{}).updateIn(sp, m, nil, nil)
		if upd == nil {
			b.Fatal("not an update")
		}
		ch, err := rep.apply(upd, false)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(ch["Logical_Switch_Port"]); n != 10500 {
			b.Fatalf("%d ports", n)
		}
	}
}

// The monitor session applies updates and its monitor's reply straight
// from the Splitter's buffer, the same table updates parseRPC finds;
// every other message (echo, errors, other replies) goes to parseRPC.
func TestUpdateIn(t *testing.T) {
	const tu = `{"Logical_Switch":{"11111111-2222-4333-8444-555555555555":{"new":{"name":"a"}}}}`
	for _, c := range []struct {
		msg     string
		initial bool
		update  bool
	}{
		{`{"id":null,"method":"update","params":["` + nbMonitorID + `",` + tu + `]}`, false, true},
		{` { "method" : "update" , "params" : [ "x" , ` + tu + ` ] , "id" : null } `, false, true},
		{`{"id":"` + nbMonitorID + `","result":` + tu + `,"error":null}`, true, true},
		{`{"id":"` + nbMonitorID + `","result":` + tu + `}`, true, true},
		{`{"id":"` + nbMonitorID + `","result":null,"error":{"error":"unknown database"}}`, false, false},
		{`{"id":"other","result":` + tu + `,"error":null}`, false, false},
		{`{"id":"echo","method":"echo","params":[]}`, false, false},
		{`{"id":null,"method":"update","params":["x"]}`, false, false},
		{`{"id":null,"method":"update","params":["x",[]]}`, false, false},
		{`{"id":null,"method":"update2","params":["x",` + tu + `]}`, false, false},
		{`[1,2]`, false, false},
	} {
		sp := ovsjson.NewSplitter(strings.NewReader(c.msg), maxNBMessage)
		msg, err := sp.Next()
		if err != nil {
			t.Fatalf("%s: %v", c.msg, err)
		}
		_, upd, initial := (&nbMonitor{}).updateIn(sp, msg, nil, nil)
		if (upd != nil) != c.update || initial != c.initial {
			t.Errorf("%s: update %q, initial %v", c.msg, upd, initial)
			continue
		}
		if upd != nil && string(upd) != tu {
			t.Errorf("%s: table updates %s, want %s", c.msg, upd, tu)
		}
	}
}

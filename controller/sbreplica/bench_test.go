package sbreplica

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/internal/cachetest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// benchSpecs are the tables of the controller bench's big reply.
var benchSpecs = []Spec{{Table: "Logical_Flow"}, {Table: "Logical_DP_Group"}, {Table: "Port_Group"},
	{Table: "Port_Binding"}, {Table: "Multicast_Group"}, {Table: "Datapath_Binding"}, {Table: "Address_Set"}}

func benchUUID(table, i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", table, i) }

// The benchmark's tables, by the number in their rows' UUIDs.
var benchTables = map[string]int{"Datapath_Binding": 1, "Logical_DP_Group": 2, "Logical_Flow": 3,
	"Port_Binding": 4, "Port_Group": 5, "Multicast_Group": 6, "Address_Set": 7}

// benchReply is a monitor_cond_since reply shaped like the one
// bench/controllerbench's SB gives (500 switches of 20 ports, a port
// group of all 10,000 ports): 60,000 Logical_Flow rows, 11,000
// Port_Binding, 10,000-member Port_Group, Multicast_Group and
// Address_Set rows. It returns the message and its row count.
func benchReply() ([]byte, int) {

	var b strings.Builder
	rows := 0
	b.WriteString(`{"id":2,"error":null,"result":[false,"` + zeroUUID + `",{`)
	table := func(name string, n int, row func(i int)) {
		if rows > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:{", name)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s":{"initial":`, benchUUID(benchTables[name], i))
			row(i)
			b.WriteByte('}')
			rows++
		}
		b.WriteByte('}')
	}
	const nDP, nPort, nGroup = 500, 11000, 200
	dp := func(i int) string { return `["uuid","` + benchUUID(1, i%nDP) + `"]` }
	table("Datapath_Binding", nDP, func(i int) {
		fmt.Fprintf(&b, `{"tunnel_key":%d,"external_ids":["map",[["logical-switch","%s"],["name","ls%d"]]]}`,
			i+1, benchUUID(100, i), i)
	})
	table("Logical_DP_Group", nGroup, func(i int) {
		b.WriteString(`{"datapaths":["set",[`)
		for j := range 50 {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(dp(i*7 + j))
		}
		b.WriteString(`]]}`)
	})
	stages := []string{"ls_in_port_sec_l2", "ls_in_acl", "ls_in_l2_lkup", "ls_out_acl", "ls_in_lb", "ls_out_port_sec_l2"}
	table("Logical_Flow", 60000, func(i int) {
		port := fmt.Sprintf("lsp-%d-%d", i%nDP, i%20)
		match := fmt.Sprintf(`inport == \"%s\" && eth.src == {00:00:00:%02x:%02x:%02x} && ip4.src == {10.%d.%d.%d}`,
			port, i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255)
		actions := "next;"
		if i%3 == 0 {
			actions = `reg0[0] = 1; ct_next; /* ` + port + ` */`
		}
		fmt.Fprintf(&b, `{"match":"%s","actions":"%s","priority":%d,"table_id":%d,"pipeline":"%s",`,
			match, actions, 50+i%100, i%30, []string{"ingress", "egress"}[i%2])
		if i%4 == 0 {
			fmt.Fprintf(&b, `"logical_dp_group":["uuid","%s"],`, benchUUID(2, i/4%nGroup))
		} else {
			fmt.Fprintf(&b, `"logical_datapath":%s,`, dp(i))
		}
		fmt.Fprintf(&b, `"external_ids":["map",[["source","northd.c:%d"],["stage-hint","%08x"],["stage-name","%s"]]]}`,
			4000+i%700, i%5000, stages[i%len(stages)])
	})
	table("Port_Binding", nPort, func(i int) {
		fmt.Fprintf(&b, `{"logical_port":"lsp-%d-%d","datapath":%s,"tunnel_key":%d,"type":"","up":true,`+
			`"mac":"00:00:00:%02x:%02x:%02x 10.%d.%d.%d","options":["map",[["requested-chassis","hv%d"]]],`+
			`"external_ids":["map",[["neutron:device_owner","compute"]]]}`,
			i/20, i%20, dp(i/20), i/10000*20+i%20+1, i>>16&255, i>>8&255, i&255, i>>16&255, i>>8&255, i&255, i%50)
	})
	big := func(n int, item func(j int)) {
		b.WriteString(`["set",[`)
		for j := range n {
			if j > 0 {
				b.WriteByte(',')
			}
			item(j)
		}
		b.WriteString(`]]`)
	}
	table("Port_Group", 501, func(i int) {
		fmt.Fprintf(&b, `{"name":"pg%d","ports":`, i)
		n := 20
		if i == 500 {
			n = 10000
		}
		big(n, func(j int) { fmt.Fprintf(&b, `"lsp-%d-%d"`, (i*20+j)/20%nDP, j%20) })
		b.WriteString(`}`)
	})
	table("Multicast_Group", 501, func(i int) {
		name, key, n := "_MC_flood", 32768, 20
		if i == 500 {
			name, key, n = "_MC_unknown", 32769, 10000
		}
		fmt.Fprintf(&b, `{"name":"%s","datapath":%s,"tunnel_key":%d,"ports":`, name, dp(i), key)
		big(n, func(j int) { fmt.Fprintf(&b, `["uuid","%s"]`, benchUUID(4, (i*20+j)%nPort)) })
		b.WriteString(`}`)
	})
	table("Address_Set", 2, func(i int) {
		fmt.Fprintf(&b, `{"name":"as%d","addresses":`, i)
		big(10000, func(j int) { fmt.Fprintf(&b, `"10.%d.%d.%d"`, i, j>>8, j&255) })
		b.WriteString(`}`)
	})
	b.WriteString(`}]}`)
	return []byte(b.String()), rows
}

// decodeReply is the replica's path for an initial reply: split,
// walk, parse and decode each row into the model structs, commit.
func decodeReply(tb testing.TB, r *Replica, msg []byte) {
	sp := newSplitter(bytes.NewReader(msg))
	m, err := sp.Next()
	if err != nil {
		tb.Fatal(err)
	}
	pm, err := parseMessage(m)
	if err != nil {
		tb.Fatal(err)
	}
	s := &session{r: r, notify: func() {}}
	if err := s.applyReply("monitor_cond_since", pm.result); err != nil {
		tb.Fatal(err)
	}
}

// libovsdbReply is libovsdb's client path for the same reply: rpc2's
// json.Decoder into a raw result, unmarshalled into a
// MonitorCondSinceReply, then its cache's Populate2.
func libovsdbReply(tb testing.TB, msg []byte) *cache.TableCache {
	var resp struct {
		ID     *json.RawMessage `json:"id"`
		Result *json.RawMessage `json:"result"`
		Error  any              `json:"error"`
	}
	if err := json.NewDecoder(bytes.NewReader(msg)).Decode(&resp); err != nil {
		tb.Fatal(err)
	}
	var reply ovsdb.MonitorCondSinceReply
	if err := json.Unmarshal(*resp.Result, &reply); err != nil {
		tb.Fatal(err)
	}
	lg := logr.Discard()
	tc := cachetest.New(tb, sbdb.Schema(), sbdb.FullDatabaseModel, &lg)
	if err := tc.Populate2(reply.Updates); err != nil {
		tb.Fatal(err)
	}
	return tc
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestBenchReplyMatchesLibovsdb: the benchmark's two paths give the
// same rows.
func TestBenchReplyMatchesLibovsdb(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	msg, n := benchReply()
	r := newSB(t, benchSpecs)
	decodeReply(t, r, msg)
	tc := libovsdbReply(t, msg)
	got := 0
	r.Read(func(v View) {
		for _, s := range benchSpecs {
			rows := v.Table(s.Table)
			got += len(rows)
			want := tc.Table(s.Table).Rows()
			for u, m := range want {
				if !cmp.Equal(m, rows[u], cmpOpts...) {
					t.Fatalf("%s %s differs (-libovsdb +replica):\n%s", s.Table, u, cmp.Diff(m, rows[u], cmpOpts...))
				}
			}
			if len(want) != len(rows) {
				t.Errorf("%s: %d rows, libovsdb %d", s.Table, len(rows), len(want))
			}
		}
	})
	if got != n {
		t.Errorf("%d rows, generated %d", got, n)
	}
}

// BenchmarkInitialReply decodes the controller bench's initial monitor
// reply; cpu-ns/op is the process's CPU time (GC included, and less
// sensitive than ns/op to a loaded machine); retained-B/row is the live
// heap the decoded rows hold.
func BenchmarkInitialReply(b *testing.B) {
	msg, n := benchReply()
	b.Logf("reply: %d bytes, %d rows", len(msg), n)
	b.Run("sbreplica", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		var r *Replica
		cpu := cpuTime()
		for b.Loop() {
			r = newSB(b, benchSpecs)
			decodeReply(b, r, msg)
		}
		b.StopTimer()
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		r = nil
		base := heapAfterGC()
		r = newSB(b, benchSpecs)
		decodeReply(b, r, msg)
		held := heapAfterGC()
		b.ReportMetric(float64(held-base)/float64(n), "retained-B/row")
		runtime.KeepAlive(r)
	})
	b.Run("libovsdb", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		var tc *cache.TableCache
		cpu := cpuTime()
		for b.Loop() {
			tc = libovsdbReply(b, msg)
		}
		b.StopTimer()
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		tc = nil
		base := heapAfterGC()
		tc = libovsdbReply(b, msg)
		held := heapAfterGC()
		b.ReportMetric(float64(held-base)/float64(n), "retained-B/row")
		runtime.KeepAlive(tc)
	})
}

// benchUpdates are n update3 notifications, each changing one flow's
// actions and adding a member to the 10,000-port group.
func benchUpdates(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, []byte(fmt.Sprintf(`{"id":null,"method":"update3","params":["%s","%s",`+
			`{"Logical_Flow":{"%s":{"modify":{"actions":"drop; /* %d */"}}},`+
			`"Port_Group":{"%s":{"modify":{"ports":"new-%d"}}}}]}`,
			monitorID, benchUUID(9, i), benchUUID(3, i), i, benchUUID(5, 500), i)))
	}
	return out
}

// BenchmarkUpdate applies small update3 notifications to the bench's
// data: per notification, one flow and the 10,000-member group change.
func BenchmarkUpdate(b *testing.B) {
	msg, _ := benchReply()
	ups := benchUpdates(1000)
	b.Run("sbreplica", func(b *testing.B) {
		r := newSB(b, benchSpecs)
		decodeReply(b, r, msg)
		s := &session{r: r, notify: func() {}}
		i := 0
		for b.Loop() {
			m, err := parseMessage(ups[i%len(ups)])
			if err != nil {
				b.Fatal(err)
			}
			if err := s.handleNotification(m); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("libovsdb", func(b *testing.B) {
		tc := libovsdbReply(b, msg)
		i := 0
		for b.Loop() {
			var n struct {
				Params []json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal(ups[i%len(ups)], &n); err != nil {
				b.Fatal(err)
			}
			var u ovsdb.TableUpdates2
			if err := json.Unmarshal(n.Params[2], &u); err != nil {
				b.Fatal(err)
			}
			if err := tc.Update2(nil, u); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

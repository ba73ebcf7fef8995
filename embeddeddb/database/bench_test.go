package database

import (
	"strconv"
	"testing"

	"github.com/ovnd/ovnd/ovnschema"

	"github.com/valyala/fastjson"
)

// BenchmarkInsert measures the engine alone on the single-row insert that
// bench/ovsdbbench sends over the wire.
func BenchmarkInsert(b *testing.B) {
	s, _ := ParseSchema(ovnschema.Northbound)
	db := New(s)
	var p fastjson.Parser
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, _ := p.Parse(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw` + strconv.Itoa(i) + `","external_ids":["map",[["k","v"]]]}}]`)
		res := db.Transact(v.GetArray(), nil, 0)
		if res.Commit == nil {
			b.Fatal(string(res.Reply))
		}
		_ = res.Commit.AppendRecord(nil, 1)
	}
}

// bulkSB is a transaction like northd's first write of a 500-switch,
// 10,000-port SB: datapaths, port bindings and 30,000 logical flows,
// one operation each, referring to each other by named UUIDs.
func bulkSB() [][]byte {
	var ops [][]byte
	for d := range 500 {
		ops = append(ops, []byte(`{"op":"insert","table":"Datapath_Binding","uuid-name":"dp`+strconv.Itoa(d)+
			`","row":{"tunnel_key":`+strconv.Itoa(d+1)+`,"external_ids":["map",[["logical-switch","8d2ee6a1-5cb1-4a57-9d83-2f7a5b0c9e1d"],["name","sw`+strconv.Itoa(d)+`"]]]}}`))
	}
	for p := range 10000 {
		d := strconv.Itoa(p / 20)
		ops = append(ops, []byte(`{"op":"insert","table":"Port_Binding","row":{"logical_port":"sw`+d+`-p`+strconv.Itoa(p)+
			`","datapath":["named-uuid","dp`+d+`"],"tunnel_key":`+strconv.Itoa(p%20+1)+`,"mac":["set",["00:00:00:00:`+strconv.Itoa(p%90+10)+`:01 10.0.0.`+strconv.Itoa(p%250+1)+`"]],"type":""}}`))
	}
	for f := range 30000 {
		d := strconv.Itoa(f % 500)
		ops = append(ops, []byte(`{"op":"insert","table":"Logical_Flow","row":{"logical_datapath":["named-uuid","dp`+d+
			`"],"pipeline":"ingress","table_id":`+strconv.Itoa(f%27)+`,"priority":`+strconv.Itoa(f%100*10)+
			`,"match":"inport == \"sw`+d+`-p`+strconv.Itoa(f)+`\" && eth.src == {00:00:00:00:00:01}","actions":"next;","external_ids":["map",[["source","northd.c:5678"],["stage-name","ls_in_port_sec_l2"]]]}}`))
	}
	return ops
}

// BenchmarkBulkSB measures the engine on bulkSB: TransactRaw, and the
// commit record, as the server runs them.
func BenchmarkBulkSB(b *testing.B) {
	s, _ := ParseSchema(ovnschema.Southbound)
	ops := bulkSB()
	b.ReportAllocs()
	for b.Loop() {
		db := New(s)
		res := db.TransactRaw(ops, nil, 0)
		if res.Commit == nil {
			b.Fatal(string(res.Reply[:min(len(res.Reply), 500)]))
		}
		_ = res.Commit.AppendRecord(make([]byte, 0, 20<<20), 1)
	}
}

// TestInsertAllocations keeps the engine's allocations for the
// single-row insert bench/ovsdbbench sends from creeping up (16 before
// the commit and its map were packed). Among them: the transaction and
// its reply; the row, its columns, its UUID, name and map (keys and
// values in one array); the row change; the commit with its one table
// and row (one allocation, commitAlloc) and its ID.
func TestInsertAllocations(t *testing.T) {
	s, err := ParseSchema(ovnschema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	db := New(s)
	var p fastjson.Parser
	var msg []byte
	i := 0
	insert := func() {
		i++
		msg = append(msg[:0], `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw`...)
		msg = strconv.AppendInt(msg, int64(i), 10)
		msg = append(msg, `","external_ids":["map",[["k","v"]]]}}]`...)
		v, err := p.ParseBytes(msg)
		if err != nil {
			t.Fatal(err)
		}
		if res := db.Transact(v.GetArray(), nil, 0); res.Commit == nil {
			t.Fatalf("insert failed: %s", res.Reply)
		}
	}
	insert() // the first transaction sizes the reusable state
	const want = 11
	if got := testing.AllocsPerRun(1000, insert); got > want {
		t.Errorf("%v allocations per single-row insert, want at most %d", got, want)
	}
}

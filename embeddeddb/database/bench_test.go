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

package embeddeddb

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ovnd/ovnd/embeddeddb/database"
	"github.com/ovnd/ovnd/internal/ovsjson"
	"github.com/ovnd/ovnd/ovnschema"
	"github.com/valyala/fastjson"
)

// Realistic requests, as ovn-nbctl, ovn-northd and ovsdb-client send them.
var seedRequests = []string{
	`{"id":0,"method":"list_dbs","params":[]}`,
	`{"id":"echo","method":"echo","params":[]}`,
	`{"id":1,"method":"get_schema","params":["OVN_Northbound"]}`,
	`{"id":2,"method":"get_server_id","params":[]}`,
	`{"id":3,"method":"set_db_change_aware","params":[true]}`,
	`{"id":4,"method":"monitor_cond_since","params":["_Server",["monid","_Server"],{"Database":[{"where":[["name","==","OVN_Northbound"]],"columns":["cid","connected","index","leader","model","name","schema","sid"]}]},"00000000-0000-0000-0000-000000000000"]}`,
	`{"id":5,"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"NB_Global","timeout":0,"where":[],"columns":["_uuid"],"until":"==","rows":[]},{"op":"insert","table":"Logical_Switch","row":{"name":"sw0","ports":["named-uuid","p"]}},{"op":"insert","table":"Logical_Switch_Port","row":{"name":"sw0-p0","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]]},"uuid-name":"p"},{"op":"comment","comment":"ovn-nbctl: ls-add sw0"}]}`,
	`{"id":6,"method":"monitor_cond","params":["OVN_Northbound",["monid","OVN_Northbound"],{"Logical_Switch":[{"columns":["name","ports","external_ids"]}],"Logical_Switch_Port":[{"columns":["name","addresses"],"where":[["name","!=","x"],true]}]}]}`,
	`{"id":7,"method":"monitor","params":["OVN_Northbound",null,{"Logical_Switch":{"columns":["name"],"select":{"initial":true,"insert":true,"delete":false,"modify":true}}}]}`,
	`{"id":8,"method":"monitor_cond_change","params":[["monid","OVN_Northbound"],["monid","OVN_Northbound"],{"Logical_Switch":[{"where":[false]}]}]}`,
	`{"id":9,"method":"monitor_cancel","params":[["monid","OVN_Northbound"]]}`,
	`{"id":10,"method":"lock","params":["ovn_northd"]}`,
	`{"id":11,"method":"steal","params":["ovn_northd"]}`,
	`{"id":12,"method":"unlock","params":["ovn_northd"]}`,
	`{"id":13,"method":"transact","params":["OVN_Southbound",{"op":"assert","lock":"ovn_northd"},{"op":"insert","table":"Chassis","row":{"name":"hv1","hostname":"hv1","encaps":["named-uuid","e"]}},{"op":"insert","table":"Encap","row":{"type":"geneve","ip":"192.0.2.1","chassis_name":"hv1"},"uuid-name":"e"}]}`,
	`{"id":14,"method":"transact","params":["OVN_Northbound",{"op":"wait","table":"Logical_Switch","timeout":100,"where":[["name","==","late"]],"columns":["name"],"until":"==","rows":[{"name":"late"}]}]}`,
	`{"id":null,"method":"cancel","params":[14]}`,
	`{"id":15,"method":"transact","params":["OVN_Northbound",{"op":"mutate","table":"Logical_Switch","where":[["name","==","sw0"]],"mutations":[["external_ids","insert",["map",[["k","v"]]]],["other_config","delete",["set",["x"]]]]},{"op":"commit","durable":true}]}`,
	`{"id":16,"method":"transact","params":["_Server",{"op":"select","table":"Database","where":[]}]}`,
	`{"id":.,"method":"echo","params":[]}`, // found by fuzzing
	`{"id":17,"method":"monitor_cond_since","params":["OVN_Northbound","m3",{"Logical_Switch":[{"columns":["name"]}]},"6b3f2a7e-0000-4000-8000-000000000001"]}`,
}

// discardConn is a net.Conn that takes every write and never has input.
type discardConn struct {
	mu  sync.Mutex // guards out
	out bytes.Buffer
}

func (c *discardConn) Read([]byte) (int, error) { return 0, io.EOF }
func (c *discardConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}
func (c *discardConn) Close() error                     { return nil }
func (c *discardConn) LocalAddr() net.Addr              { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *discardConn) RemoteAddr() net.Addr             { return &net.UnixAddr{Name: "fuzz", Net: "unix"} }
func (c *discardConn) SetDeadline(time.Time) error      { return nil }
func (c *discardConn) SetReadDeadline(time.Time) error  { return nil }
func (c *discardConn) SetWriteDeadline(time.Time) error { return nil }

// FuzzHandle runs one request message through conn.handle on an in-memory
// connection of a real server: it must not panic, and everything the
// server sends back must be JSON-RPC objects.
func FuzzHandle(f *testing.F) {
	for _, s := range seedRequests {
		f.Add([]byte(s))
	}
	// Sessions: monitor then change and cancel it; lock, steal, unlock;
	// a blocked wait and its cancel.
	f.Add([]byte(seedRequests[7] + seedRequests[5] + seedRequests[9] + seedRequests[5] + seedRequests[10]))
	f.Add([]byte(seedRequests[11] + seedRequests[12] + seedRequests[14] + seedRequests[13]))
	f.Add([]byte(seedRequests[15] + seedRequests[16] + seedRequests[15]))
	srv, err := New(Config{Dir: f.TempDir(), Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	// Connection rows written by the fuzzer must not open real listeners.
	for _, d := range srv.dbs {
		d.mu.Lock()
		d.onCommit = nil
		d.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx); close(done) }()
	f.Cleanup(func() { cancel(); <-done })

	f.Fuzz(func(t *testing.T, input []byte) {
		// The input is up to eight messages handled in order on one
		// connection, so that monitors, locks and waits carry over.
		msgs := splitMessages(input, 8)
		valid := true
		for _, m := range msgs {
			if v, err := fastjson.ParseBytes(m); err == nil && hasKnownPanicOp(v.GetArray("params")) {
				t.Skip("known bug, see TestTransactMissingMembers")
			}
			valid = valid && json.Valid(m)
		}
		out, _ := runMessages(srv, msgs)
		if !valid {
			// ovsdb-server would close the connection; ovnd may echo the
			// bad text back (TestInvalidNumbersRejected). Only no panic.
			return
		}
		sp := newSplitter(bytes.NewReader(out))
		for {
			m, err := sp.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("server output does not split: %v: %q", err, out)
			}
			var v map[string]any
			if err := json.Unmarshal(m, &v); err != nil {
				t.Fatalf("server sent invalid JSON (%v): %q", err, m)
			}
		}
	})
}

// fuzzBase is the database FuzzTransact starts each run from, with fixed
// UUIDs that seeds can name.
const fuzzBase = `{
	"Logical_Switch":{"11111111-1111-4111-8111-111111111111":{"name":"sw0","ports":["uuid","22222222-2222-4222-8222-222222222222"],"acls":["uuid","55555555-5555-4555-8555-555555555555"]}},
	"Logical_Switch_Port":{"22222222-2222-4222-8222-222222222222":{"name":"sw0-p0","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]],"external_ids":["map",[["k","v"]]]}},
	"ACL":{"55555555-5555-4555-8555-555555555555":{"action":"allow","direction":"to-lport","match":"ip4","priority":100}},
	"Logical_Router":{"44444444-4444-4444-8444-444444444444":{"name":"lr0","ports":["uuid","66666666-6666-4666-8666-666666666666"]}},
	"Logical_Router_Port":{"66666666-6666-4666-8666-666666666666":{"name":"lrp0","mac":"00:00:00:00:ff:01","networks":["set",["10.0.0.254/24"]]}},
	"NB_Global":{"33333333-3333-4333-8333-333333333333":{"options":["map",[["northd_probe_interval","5000"]]]}},
	"_date":0}`

var seedTransactions = []string{
	`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw1","ports":["named-uuid","p"]}},{"op":"insert","table":"Logical_Switch_Port","row":{"name":"sw1-p0"},"uuid-name":"p"}]`,
	`[{"op":"update","table":"Logical_Switch","where":[["_uuid","==",["uuid","11111111-1111-4111-8111-111111111111"]]],"row":{"name":"renamed"}}]`,
	`[{"op":"mutate","table":"Logical_Switch_Port","where":[["name","==","sw0-p0"]],"mutations":[["external_ids","delete",["set",["k"]]],["tag_request","+=",1]]}]`,
	`[{"op":"delete","table":"Logical_Switch_Port","where":[]}]`,
	`[{"op":"delete","table":"Logical_Switch","where":[["name","==","sw0"]]}]`,
	`[{"op":"delete","table":"Logical_Router_Port","where":[]},{"op":"select","table":"Logical_Router","where":[],"columns":["ports"]}]`,
	`[{"op":"insert","table":"Logical_Switch","row":{"name":"x"}},{"op":"abort"}]`,
	`[{"op":"insert","table":"Logical_Router","row":{"name":"lr1"}},{"op":"insert","table":"Logical_Router","row":{"name":"lr1"}}]`,
	`[{"op":"insert","table":"NB_Global","row":{}}]`,
	`[{"op":"wait","table":"Logical_Switch","timeout":0,"where":[],"columns":["name"],"until":"!=","rows":[{"name":"sw0"}]},{"op":"insert","table":"Logical_Switch","row":{}}]`,
	`[{"op":"assert","lock":"held"},{"op":"mutate","table":"NB_Global","where":[],"mutations":[["nb_cfg","+=",1]]},{"op":"commit","durable":true},{"op":"comment","comment":"x"}]`,
	`[{"op":"insert","table":"ACL","row":{"action":"drop","direction":"from-lport","match":"1","priority":40000}}]`,
	`[{"op":"insert","table":"Logical_Switch","uuid":"77777777-7777-4777-8777-777777777777","row":{"name":"fixed"}}]`,
	`[{"op":"update","table":"Logical_Switch_Port","where":[],"row":{"addresses":["set",[]],"tag_request":4095}}]`,
	`[{"op":"mutate","table":"Logical_Switch","where":[],"mutations":[["ports","insert",["set",[["named-uuid","n"]]]]]},{"op":"insert","table":"Logical_Switch_Port","row":{"name":"n"},"uuid-name":"n"}]`,
	// Found by fuzzing; skipped while the bug stands.
	`[{"op":"assert"}]`,
	`[{"op":"mutate","table":"Logical_Switch","where":[]}]`,
}

// lockSession holds exactly the lock named "held".
type lockSession struct{}

func (lockSession) HasLock(name string) bool { return name == "held" }

func (lockSession) ReadOnly() bool { return false }

// FuzzTransact runs fuzzed operation arrays through the transaction engine
// on the NB schema: it must not panic, a failed or blocked transaction must
// leave the database as it was, and a successful one must be exactly what
// its commit record replays to.
func FuzzTransact(f *testing.F) {
	for _, s := range seedTransactions {
		f.Add([]byte(s))
	}
	schema, err := database.ParseSchema(ovnschema.Northbound)
	if err != nil {
		f.Fatal(err)
	}
	fresh := func(t *testing.T) *database.Database {
		db := database.New(schema)
		db.SeedUUIDs([32]byte{1})
		if err := db.ApplyRecord([]byte(fuzzBase)); err != nil {
			t.Fatalf("base record: %v", err)
		}
		return db
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		var p fastjson.Parser
		v, err := p.ParseBytes(ops)
		if err != nil || v.Type() != fastjson.TypeArray {
			return
		}
		if hasKnownPanicOp(v.GetArray()) {
			t.Skip("known bug, see TestTransactMissingMembers")
		}
		db := fresh(t)
		before := snapshotText(t, db)
		res := db.Transact(v.GetArray(), lockSession{}, 0)
		after := snapshotText(t, db)
		checkRawSame(t, fresh(t), ops, res, after)
		if res.Blocked {
			if res.Commit != nil || after != before {
				t.Fatalf("blocked transaction changed the database")
			}
			return
		}
		var reply []json.RawMessage
		if err := json.Unmarshal(res.Reply, &reply); err != nil {
			t.Fatalf("reply is not a JSON array: %v: %s", err, res.Reply)
		}
		if len(reply) < len(v.GetArray()) {
			t.Fatalf("reply has %d results for %d operations: %s", len(reply), len(v.GetArray()), res.Reply)
		}
		if failedReply(reply) {
			if res.Commit != nil {
				t.Fatalf("failed transaction committed: %s", res.Reply)
			}
			if after != before {
				t.Fatalf("failed transaction changed the database: %s\nbefore %s\nafter %s", res.Reply, before, after)
			}
			return
		}
		if res.Commit == nil {
			if after != before {
				t.Fatalf("transaction without a commit changed the database: %s", res.Reply)
			}
			return
		}
		replay := fresh(t)
		if err := replay.ApplyRecord(res.Commit.AppendRecord(nil, 0)); err != nil {
			t.Fatalf("commit record does not replay: %v\n%s", err, res.Commit.AppendRecord(nil, 0))
		}
		if got := snapshotText(t, replay); got != after {
			t.Fatalf("replayed commit differs from the database:\nreplayed %s\ndatabase %s\nrecord %s", got, after, res.Commit.AppendRecord(nil, 0))
		}
	})
}

// checkRawSame runs ops, a JSON array, through TransactRaw on db, which
// must be the same database Transact ran them on (same UUID seed), and
// requires the same outcome: reply, commit record and database.
func checkRawSame(t *testing.T, db *database.Database, ops []byte, want database.Result, wantSnap string) {
	t.Helper()
	elems, err := ovsjson.Elements(ops, nil)
	if err != nil {
		if json.Valid(ops) {
			t.Fatalf("ovsjson.Elements fails on valid JSON %q: %v", ops, err)
		}
		return // fastjson is laxer; the server parses such requests whole
	}
	got := db.TransactRaw(elems, lockSession{}, 0)
	if got.Blocked != want.Blocked || got.WaitMs != want.WaitMs || got.Durable != want.Durable {
		t.Fatalf("TransactRaw: blocked %v wait %d durable %v, Transact: %v %d %v",
			got.Blocked, got.WaitMs, got.Durable, want.Blocked, want.WaitMs, want.Durable)
	}
	if string(got.Reply) != string(want.Reply) {
		t.Fatalf("TransactRaw replied %s\nTransact replied   %s", got.Reply, want.Reply)
	}
	if (got.Commit == nil) != (want.Commit == nil) {
		t.Fatalf("TransactRaw commit %v, Transact commit %v", got.Commit != nil, want.Commit != nil)
	}
	if got.Commit != nil && string(got.Commit.AppendRecord(nil, 0)) != string(want.Commit.AppendRecord(nil, 0)) {
		t.Fatalf("commit records differ:\nraw    %s\nparsed %s", got.Commit.AppendRecord(nil, 0), want.Commit.AppendRecord(nil, 0))
	}
	if snap := snapshotText(t, db); snap != wantSnap {
		t.Fatalf("databases differ after TransactRaw and Transact:\nraw    %s\nparsed %s", snap, wantSnap)
	}
}

// hasKnownPanicOp reports whether ops hold an operation that lacks a
// member the engine dereferences unchecked ("lock" of assert, "comment"
// of comment, "mutations" of mutate, "rows" of wait), which panics it
// (see TestTransactMissingMembers); the fuzz targets skip those inputs so
// that they can look for other bugs.
func hasKnownPanicOp(ops []*fastjson.Value) bool {
	return false // the engine checks every required member now
}

func failedReply(reply []json.RawMessage) bool {
	for _, r := range reply {
		var obj struct {
			Error *string `json:"error"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.Error != nil {
			return true
		}
	}
	return false
}

// snapshotText renders the database with sorted keys, so that two equal
// databases give the same text whatever their map order.
func snapshotText(t testing.TB, db *database.Database) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(db.AppendSnapshot(nil, 0), &v); err != nil {
		t.Fatalf("snapshot is not JSON: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTransactSeedsCommit keeps FuzzTransact honest: its base record loads
// and most of its seeds commit, so the replay check runs.
func TestTransactSeedsCommit(t *testing.T) {
	schema, err := database.ParseSchema(ovnschema.Northbound)
	if err != nil {
		t.Fatal(err)
	}
	commits := 0
	for _, s := range seedTransactions {
		db := database.New(schema)
		if err := db.ApplyRecord([]byte(fuzzBase)); err != nil {
			t.Fatalf("base record: %v", err)
		}
		ops := fastjson.MustParse(s).GetArray()
		if hasKnownPanicOp(ops) {
			continue
		}
		if res := db.Transact(ops, lockSession{}, 0); res.Commit != nil {
			commits++
		}
	}
	if commits < len(seedTransactions)/2 {
		t.Errorf("only %d of %d seed transactions commit", commits, len(seedTransactions))
	}
}

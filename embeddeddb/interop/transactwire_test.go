package interop

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wireSteps is a conversation on one connection, covering the RFC 7047
// methods other than monitors and the transact operations, conditions and
// mutators. Replies are compared as JSON values with UUIDs renamed.
var wireSteps = []string{
	`{"method":"list_dbs","params":[],"id":1}`,
	`{"method":"echo","params":[1,"two",{"three":[3]}],"id":"e"}`,
	`{"method":"set_db_change_aware","params":[true],"id":2}`,
	`{"method":"get_schema","params":["_Server"],"id":3}`,
	`{"method":"transact","params":["OVN_Northbound"],"id":4}`,
	`{"method":"transact","params":["_Server",{"op":"select","table":"Database","where":[["name","==","OVN_Northbound"]],"columns":["name","model","connected","leader","schema"]}],"id":5}`,
	`{"method":"transact","params":["_Server",{"op":"insert","table":"Database","row":{"name":"x","model":"standalone"}}],"id":6}`,
	`{"method":"transact","params":["_Server",{"op":"delete","table":"Database","where":[]}],"id":6}`,
	// Inserts with references by uuid-name, and every column type.
	tx(7, `{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p1","addresses":["set",["00:00:00:00:00:01 10.0.0.1"]],"tag_request":5,"enabled":true,"options":["map",[["k1","v1"],["k2","v2"]]]},"uuid-name":"p1"},`+
		`{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p2","tag_request":100},"uuid-name":"p2"},`+
		`{"op":"insert","table":"Logical_Switch","row":{"name":"sw0","ports":["set",[["named-uuid","p1"],["named-uuid","p2"]]]},"uuid-name":"sw"},`+
		`{"op":"insert","table":"Address_Set","row":{"name":"as1","addresses":["set",["1.1.1.1","2.2.2.2","3.3.3.3"]]}}`),
	// Conditions.
	tx(8, selectLSP(`[["tag_request","<",10]]`), selectLSP(`[["tag_request",">=",10]]`), selectLSP(`[["tag_request","!=",5]]`),
		selectLSP(`[["options","includes",["map",[["k1","v1"]]]]]`), selectLSP(`[["options","excludes",["map",[["k1","v1"]]]]]`),
		selectLSP(`[["enabled","==",true]]`), selectLSP(`[["name","==","p1"],["tag_request","<=",5]]`), selectLSP(`[["addresses","==",["set",[]]]]`)),
	tx(9, `{"op":"select","table":"Logical_Switch","where":[],"columns":["name","ports"]}`,
		`{"op":"select","table":"Address_Set","where":[["addresses","includes",["set",["1.1.1.1","3.3.3.3"]]]],"columns":["name","addresses"]}`),
	// Mutators.
	tx(10, `{"op":"mutate","table":"Logical_Switch_Port","where":[["name","==","p2"]],"mutations":[["tag_request","+=",10],["tag_request","*=",3],["tag_request","-=",30],["tag_request","/=",4],["tag_request","%=",7]]}`,
		selectLSP(`[["name","==","p2"]]`)),
	tx(11, `{"op":"mutate","table":"Logical_Switch_Port","where":[["name","==","p1"]],"mutations":[["options","insert",["map",[["k1","ignored"],["k3","v3"]]]],["options","delete",["set",["k2"]]],["addresses","delete","00:00:00:00:00:01 10.0.0.1"],["addresses","insert",["set",["dynamic"]]]]}`,
		selectLSP(`[["name","==","p1"]]`)),
	tx(12, `{"op":"mutate","table":"Logical_Switch_Port","where":[["name","==","p1"]],"mutations":[["options","delete",["map",[["k1","v1"],["k3","nomatch"]]]]]}`,
		selectLSP(`[["name","==","p1"]]`)),
	// Updates, including to empty, and waits.
	tx(13, `{"op":"update","table":"Logical_Switch_Port","where":[["name","==","p1"]],"row":{"options":["map",[]],"tag_request":["set",[]]}}`,
		selectLSP(`[["name","==","p1"]]`)),
	tx(14, `{"op":"wait","timeout":0,"table":"Logical_Switch_Port","where":[["name","==","p1"]],"columns":["options"],"until":"==","rows":[{"options":["map",[]]}]}`,
		`{"op":"wait","timeout":0,"table":"Logical_Switch_Port","where":[],"columns":["name"],"until":"!=","rows":[{"name":"p1"},{"name":"p2"}]}`),
	tx(15, `{"op":"comment","comment":"just a comment"}`, `{"op":"commit","durable":true}`),
	// Deletes, with and without strong references left behind.
	tx(16, `{"op":"delete","table":"Logical_Switch_Port","where":[["name","==","p1"]]}`),
	tx(17, `{"op":"mutate","table":"Logical_Switch","where":[],"mutations":[["ports","delete",["set",[]]]]}`,
		`{"op":"delete","table":"Address_Set","where":[["name","==","as1"]]}`,
		`{"op":"select","table":"Address_Set","where":[],"columns":["name"]}`),
	tx(18, `{"op":"delete","table":"Logical_Switch","where":[]}`, `{"op":"select","table":"Logical_Switch_Port","where":[],"columns":["name"]}`),
}

func tx(id int, ops ...string) string {
	s := `{"method":"transact","params":["OVN_Northbound"`
	for _, op := range ops {
		s += "," + op
	}
	return s + `],"id":` + itoa(id) + `}`
}

func selectLSP(where string) string {
	return `{"op":"select","table":"Logical_Switch_Port","where":` + where + `,"columns":["name","tag_request","options","addresses","enabled"]}`
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestTransactWire compares the replies to wireSteps from ovsdb-server
// and from the target.
func TestTransactWire(t *testing.T) {
	t.Parallel()
	want := wireConversation(t, StartServer(t, TargetOVSDBServer, Options{}))
	got := wireConversation(t, StartTarget(t, Options{}))
	for i, step := range wireSteps {
		if d := cmp.Diff(want[i], got[i]); d != "" {
			t.Errorf("%s\n(-ovsdb-server +target):\n%s", step, d)
		}
	}
}

func wireConversation(t *testing.T, s *Server) [][]string {
	t.Helper()
	r, err := DialRaw(s.NBSock)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := uuidNamer{}
	out := make([][]string, len(wireSteps))
	for i, step := range wireSteps {
		out[i] = exchangeRendered(t, r, step, names)
	}
	return out
}

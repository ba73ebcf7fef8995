package embeddeddb

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	c := ts.dialNB(t)
	transact(t, c, `[{"op":"insert","table":"Logical_Switch","row":{"name":"sw0","external_ids":["map",[["k","v"]]],"ports":["named-uuid","p"]}},
		{"op":"insert","table":"Logical_Switch_Port","row":{"name":"p0","addresses":["set",["router"]]},"uuid-name":"p"}]`)
	transact(t, c, `[{"op":"mutate","table":"Logical_Switch","where":[],"mutations":[["external_ids","insert",["map",[["k2","v2"]]]]]}]`)
	addSwitch(t, c, "gone")
	transact(t, c, `[{"op":"delete","table":"Logical_Switch","where":[["name","==","gone"]]}]`)
	addr := freeTCPAddr(t)
	addConnection(t, c, fmt.Sprintf("ptcp:%d:127.0.0.1", addr.Port), 60000)
	sel := `[{"op":"select","table":"Logical_Switch","where":[],"columns":["_uuid","name","external_ids","ports"]},
		{"op":"select","table":"Logical_Switch_Port","where":[],"columns":["_uuid","name","addresses"]}]`
	before := mustMarshal(t, transact(t, c, sel))
	c.Close()
	ts.stop()
	waitListening(t, addr.String(), false)

	ts2 := startServer(t, dir)
	c2 := ts2.dialNB(t)
	checkJSON(t, "rows after restart", mustMarshal(t, transact(t, c2, sel)), string(before))
	// The listener of the stored Connection row opens again.
	waitListening(t, addr.String(), true)
}

func TestDurableCommitIsOnDisk(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	c := ts.dialNB(t)
	for i := 0; i < 20; i++ {
		res := transact(t, c, fmt.Sprintf(`[{"op":"insert","table":"Logical_Switch","row":{"name":"sw%d"}},{"op":"commit","durable":true}]`, i))
		u := insertUUID(t, res[0])
		data, err := os.ReadFile(filepath.Join(dir, NBFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(u)) {
			t.Fatalf("durable commit %d acknowledged but row %s is not in the file", i, u)
		}
	}
	// A durable commit that changes nothing is fine too.
	checkJSON(t, "empty durable commit", mustMarshal(t, transact(t, c, `[{"op":"commit","durable":true}]`)), `[{}]`)
}

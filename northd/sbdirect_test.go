package northd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// appendFlowInsert and appendPortInsert write exactly the bytes appendOp
// writes for insertFlow's and insertPort's operations (which
// TestInsertRowsMatchMapper checks against libovsdb's mapper), over
// every column set and unset, named and real UUIDs, sets of one and of
// several, maps of one and of several keys, and strings to escape.
func TestDirectInsertsMatchAppendOp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	real, named := "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11", "inc7"
	uuid := func() string {
		switch r.IntN(3) {
		case 0:
			return real
		case 1:
			return named
		}
		return ""
	}
	str := func() string {
		return []string{"", "next;", `outport == "p\"1" && ip4.src == {10.0.0.1, 10.0.0.2}`, "tab\tnew\nline \u00e9 \x01"}[r.IntN(4)]
	}
	strp := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		s := str()
		return &s
	}
	refp := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		s := []string{real, named}[r.IntN(2)]
		return &s
	}
	strMap := func() map[string]string {
		m := map[string]string{}
		for i := range r.IntN(4) {
			m[fmt.Sprint("k", 3-i, str())] = str()
		}
		if len(m) == 0 && r.IntN(2) == 0 {
			return nil
		}
		return m
	}
	strs := func() []string {
		var s []string
		for range r.IntN(4) {
			s = append(s, str())
		}
		return s
	}
	num := func() int { return []int{0, 1, 32768, -5}[r.IntN(4)] }
	for i := range 500 {
		f := &sbdb.LogicalFlow{UUID: uuid(), Actions: str(), ControllerMeter: strp(), ExternalIDs: strMap(),
			LogicalDatapath: refp(), LogicalDpGroup: refp(), Match: str(),
			Pipeline: []sbdb.LogicalFlowPipeline{"", "ingress", "egress"}[r.IntN(3)], Priority: num(), TableID: num(), Tags: strMap()}
		want, err := appendOp(nil, insertFlow(f))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendFlowInsert(nil, f); string(got) != string(want) {
			t.Fatalf("flow %d %+v:\n got %s\nwant %s", i, f, got, want)
		}
		tag, up := num(), r.IntN(2) == 0
		p := &sbdb.PortBinding{UUID: uuid(), Datapath: uuid(), ExternalIDs: strMap(), LogicalPort: str(), MAC: strs(),
			Options: strMap(), ParentPort: strp(), PortSecurity: strs(), TunnelKey: num(), Type: str()}
		if r.IntN(2) == 0 {
			p.Tag = &tag
		}
		if r.IntN(2) == 0 {
			p.Up = &up
		}
		want, err = appendOp(nil, insertPort(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPortInsert(nil, p); string(got) != string(want) {
			t.Fatalf("port %d %+v:\n got %s\nwant %s", i, p, got, want)
		}
	}
	// An empty row: no "row" member at all, as appendOp writes it.
	want, _ := appendOp(nil, insertFlow(&sbdb.LogicalFlow{}))
	if got := appendFlowInsert(nil, &sbdb.LogicalFlow{}); string(got) != string(want) {
		t.Fatalf("empty flow: got %s, want %s", got, want)
	}
}

// The heads of directly encoded inserts are those of insertOp.
func TestDirectInsertHeads(t *testing.T) {
	for _, u := range []string{"", "inc1", "6a3f3c55-3e4b-4b5a-9c36-0c7d1f0f2a11"} {
		var txn sbTxn
		txn.encodedFlow(&sbdb.LogicalFlow{UUID: u, Match: "1"})
		txn.encodedPort(&sbdb.PortBinding{UUID: u, LogicalPort: "p"})
		if got, want := txn.heads[0], headOf(insertFlow(&sbdb.LogicalFlow{UUID: u, Match: "1"})); got != want {
			t.Errorf("flow %q: head %+v, want %+v", u, got, want)
		}
		if got, want := txn.heads[1], headOf(insertPort(&sbdb.PortBinding{UUID: u, LogicalPort: "p"})); got != want {
			t.Errorf("port %q: head %+v, want %+v", u, got, want)
		}
	}
}

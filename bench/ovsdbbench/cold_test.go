package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestColdStartOnOvsdbServer loads a tiny version of the cold-start dataset
// into the real ovsdb-server, which checks every generated row against the
// schema's constraints, restarts it and reads the full NB monitor. It
// measures nothing.
func TestColdStartOnOvsdbServer(t *testing.T) {
	bin, err1 := exec.LookPath("ovsdb-server")
	tool, err2 := exec.LookPath("ovsdb-tool")
	if err1 != nil || err2 != nil || testing.Short() {
		t.Skip("needs ovsdb-server and ovsdb-tool; not with -short")
	}
	s := &side{name: sideOvsdbServer, kind: sideOvsdbServer, bin: bin, ovsdbTool: tool, readyWithin: 20 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := runColdStart(ctx, s, t.TempDir(), dataset{switches: 3, ports: 4, opsPerTxn: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.monitored < res.firstListDB || res.rss <= 0 {
		t.Errorf("implausible result %+v", res)
	}
}

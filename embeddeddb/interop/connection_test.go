package interop

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTCPRemote reaches the target over the ptcp remotes of its config.
func TestTCPRemote(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{TCP: true})
	nb := &Ctl{Tool: "ovn-nbctl", DB: "tcp:" + s.NBTCP}
	sb := &Ctl{Tool: "ovn-sbctl", DB: "tcp:" + s.SBTCP}
	nb.Must(t, "ls-add", "sw0")
	sb.Must(t, "chassis-add", "ch0", "geneve", "127.0.0.1")
	if got := NBCtl(s).Must(t, "--bare", "--columns=name", "list", "Logical_Switch"); got != "sw0\n" {
		t.Errorf("over unix after a tcp write: %q", got)
	}
	if got := ovsdbClient(t, "list-dbs", "tcp:"+s.SBTCP); !strings.Contains(got, "OVN_Southbound") {
		t.Errorf("list-dbs over tcp: %q", got)
	}
}

// TestSetConnection checks that set-connection opens a listener, from the
// Connection rows, and del-connection closes it, on both databases.
func TestSetConnection(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	for _, c := range []struct {
		ctl *Ctl
		db  string
	}{{NBCtl(s), "OVN_Northbound"}, {SBCtl(s), "OVN_Southbound"}} {
		addr := freeTCPAddr(t)
		c.ctl.Must(t, "set-connection", ptcp(addr))
		if err := waitUntil(5*time.Second, func() bool { return listDBs("tcp:"+addr) == nil }); err != nil {
			t.Fatalf("%s set-connection %s: no server on %s: %v", c.ctl.Tool, ptcp(addr), addr, listDBs("tcp:"+addr))
		}
		c.ctl.Must(t, "del-connection")
		if err := waitUntil(5*time.Second, func() bool { return !accepts(addr) }); err != nil {
			t.Errorf("%s del-connection: %s still accepts connections", c.ctl.Tool, addr)
		}
	}
}

// listDBs runs ovsdb-client list-dbs against remote.
func listDBs(remote string) error {
	r := Run(context.Background(), nil, "ovsdb-client", "--timeout=2", "list-dbs", remote)
	if r.Code != 0 {
		return fmt.Errorf("ovsdb-client list-dbs %s: exit %d: %s", remote, r.Code, strings.TrimSpace(r.Stderr))
	}
	return nil
}

func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestWaitUntilBlocks starts an ovn-nbctl wait-until whose condition does
// not hold, checks that it waits, then makes the condition hold and
// requires it to return.
func TestWaitUntilBlocks(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	nb := NBCtl(s)
	nb.Must(t, "ls-add", "sw0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ovn-nbctl", "--db="+s.NB(), "wait-until", "Logical_Switch", "sw0", "other_config:ready=true")
	cmd.Env = clientEnv()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("wait-until returned before the condition held: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	nb.Must(t, "set", "Logical_Switch", "sw0", "other_config:ready=true")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("wait-until: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("wait-until still waiting 5s after the condition held")
		cancel()
		<-done
	}
}

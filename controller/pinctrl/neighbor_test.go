package pinctrl

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/embeddeddb"
	"github.com/ovnd/ovnd/embeddeddb/embeddeddbtest"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// startSB runs ovnd's database role with an SB on a unix socket in a
// temporary directory and returns a client monitoring it.
func startSB(t *testing.T) client.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "pinctrl-sb") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "sb.sock")
	embeddeddbtest.Serve(t, embeddeddb.Config{Dir: filepath.Join(dir, "db"), SBRemotes: []string{"punix:" + sock}})
	m, err := sbdb.FullDatabaseModel()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewOVSDBClient(m, client.WithEndpoint("unix:"+sock))
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer ccancel()
	for c.Connect(cctx) != nil {
		if cctx.Err() != nil {
			t.Fatal("no SB")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(c.Close)
	if _, err := c.MonitorAll(cctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func transact(t *testing.T, c client.Client, ops []ovsdb.Operation, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Transact(context.Background(), ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// macBindings waits for the MAC_Binding rows to settle to n and returns
// them as "port ip mac".
func macBindings(t *testing.T, c client.Client, n int) map[string]bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var rows []sbdb.MACBinding
		if err := c.List(context.Background(), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) == n || time.Now().After(deadline) {
			out := map[string]bool{}
			for _, r := range rows {
				out[r.LogicalPort+" "+r.IP+" "+r.MAC] = true
				if r.Timestamp == 0 {
					t.Errorf("%s %s without a timestamp", r.LogicalPort, r.IP)
				}
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSBNeighbors: put_arp and put_nd, decoded from their packet-ins,
// become MAC_Binding rows on the port's datapath; the same binding twice
// writes once; a new MAC updates the row.
func TestSBNeighbors(t *testing.T) {
	c := startSB(t)
	dp := &sbdb.DatapathBinding{UUID: "dp", TunnelKey: 7, ExternalIDs: map[string]string{"name": "lr0"}}
	ops, err := c.Create(dp)
	transact(t, c, ops, err)
	var dps []sbdb.DatapathBinding
	for len(dps) == 0 {
		if err := c.List(context.Background(), &dps); err != nil {
			t.Fatal(err)
		}
	}
	pb := &sbdb.PortBinding{UUID: "pb", LogicalPort: "lrp-ext", Datapath: dps[0].UUID, TunnelKey: 3}
	ops, err = c.Create(pb)
	transact(t, c, ops, err)

	nb := NewSB(func() client.Client { return c })
	mac := []byte{0x0a, 0, 0, 0, 9, 9}
	frame := append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mac...), 0x08, 0x06)
	md := openflow.Match{openflow.F("metadata").Exact(7), openflow.F("xreg0").Exact(0xac100605_00000000),
		openflow.F("xreg7").Exact(0x3_00000000)}
	r := Handle(&openflow.PacketIn2{Packet: frame, Userdata: userdata(t, "put_arp(inport, arp.spa, arp.sha);"), Metadata: md})
	if r.Err != nil || r.Learned == nil {
		t.Fatalf("put_arp: %v", r.Err)
	}
	if got := r.Learned.String(); got != "172.16.6.5 is at 0a:00:00:00:09:09 (datapath 7 port 3)" {
		t.Errorf("learned %s", got)
	}
	ctx := context.Background()
	for range 2 {
		if err := nb.Learn(ctx, *r.Learned); err != nil {
			t.Fatal(err)
		}
	}
	md6 := openflow.Match{openflow.F("metadata").Exact(7), openflow.F("xxreg0").Bytes(netip.MustParseAddr("fd00::5").AsSlice(), nil),
		openflow.F("xreg7").Exact(0x3_00000000)}
	r6 := Handle(&openflow.PacketIn2{Packet: frame, Userdata: userdata(t, "put_nd(inport, nd.target, nd.tll);"), Metadata: md6})
	if r6.Err != nil || r6.Learned == nil {
		t.Fatalf("put_nd: %v", r6.Err)
	}
	if err := nb.Learn(ctx, *r6.Learned); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"lrp-ext 172.16.6.5 0a:00:00:00:09:09": true, "lrp-ext fd00::5 0a:00:00:00:09:09": true}
	if got := macBindings(t, c, 2); len(got) != 2 || !got["lrp-ext 172.16.6.5 0a:00:00:00:09:09"] || !got["lrp-ext fd00::5 0a:00:00:00:09:09"] {
		t.Errorf("MAC_Binding %v, want %v", got, want)
	}
	if m, ok := nb.MAC(7, netip.MustParseAddr("172.16.6.5")); !ok || m.String() != "0a:00:00:00:09:09" {
		t.Errorf("MAC(172.16.6.5) = %v, %v", m, ok)
	}
	if _, ok := nb.MAC(7, netip.MustParseAddr("172.16.6.6")); ok {
		t.Error("a MAC for an unknown address")
	}
	moved := *r.Learned
	moved.MAC = net.HardwareAddr{0x0a, 0, 0, 0, 9, 0x10}
	if err := nb.Learn(ctx, moved); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !macBindings(t, c, 2)["lrp-ext 172.16.6.5 0a:00:00:00:09:10"] {
		if time.Now().After(deadline) {
			t.Fatalf("MAC not updated: %v", macBindings(t, c, 2))
		}
		time.Sleep(20 * time.Millisecond)
	}
	bad := *r.Learned
	bad.Port = 99
	if err := nb.Learn(ctx, bad); err == nil {
		t.Error("a neighbor on an unknown port was recorded")
	}
	// put_fdb: one row per switch and MAC, its port updated when it moves.
	f := FDBEntry{Datapath: 7, Port: 3, MAC: mac}
	for range 2 {
		if err := nb.LearnFDB(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	f.Port = 4
	if err := nb.LearnFDB(ctx, f); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var rows []sbdb.FDB
		if err := c.List(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].PortKey == 4 && rows[0].DpKey == 7 && rows[0].MAC == "0a:00:00:00:09:09" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FDB rows %+v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// dns_lookup reads the DNS rows of the datapath.
	ops, err = c.Create(&sbdb.DNS{UUID: "dns", Datapaths: []string{dps[0].UUID}, Records: map[string]string{"vm1.ovn.org": "10.0.0.10"}})
	transact(t, c, ops, err)
	deadline = time.Now().Add(10 * time.Second)
	for {
		v, ok := nb.Records(7, "vm1.ovn.org")
		if ok && v == "10.0.0.10" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Records = %q, %v", v, ok)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := nb.Records(8, "vm1.ovn.org"); ok {
		t.Error("a record of another datapath")
	}
	if err := NewSB(func() client.Client { return nil }).Learn(ctx, *r.Learned); err == nil {
		t.Error("learned without an SB")
	}
}

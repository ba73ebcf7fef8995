package physical_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/flowtable/flowtabletest"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/controller/physical"
	"github.com/ovnd/ovnd/testbed"
)

// TestOracle builds a topology with the real OVN (three chassis; on hv1:
// VIFs with and without port security, a localport, localnet ports with
// and without a VLAN tag, a switch without localnet whose other ports are
// on hv2 and hv3, a router behind a patch port), reads the SB and hv1's
// OVS back into an Input, and compares Flows with what the real
// ovn-controller installed in the physical tables, for Geneve and VXLAN.
func TestOracle(t *testing.T) {
	for _, encap := range []testbed.Encap{testbed.Geneve, testbed.VXLAN} {
		t.Run(string(encap), func(t *testing.T) {
			cfg := testbed.Config{DB: testbed.OVN, Northd: testbed.OVN, Controllers: []testbed.Kind{testbed.OVN}, Encap: encap}
			topo := testbed.NewWith(t, cfg, testbed.Options{Chassis: 3})
			buildOracleTopology(t, topo)
			for _, hv := range []int{1, 2} {
				compareChassis(t, topo, topo.HV(hv), string(encap))
			}
			if encap == testbed.Geneve {
				reinstall(t, topo.HV(1))
			}
		})
	}
}

// compareChassis compares Flows for chassis hv with its dump.
func compareChassis(t *testing.T, topo *testbed.Topology, hv *testbed.Chassis, encap string) {
	t.Helper()
	in := readInput(t, topo, hv)
	flows, err := physical.Flows(in)
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	for o, fs := range flows {
		d.Set(o, fs)
	}
	var got []string
	for _, f := range d.Flows() {
		got = append(got, normalise(render(f)))
	}
	slices.Sort(got)
	out, err := hv.OFCtl("-O", "OpenFlow15", "dump-flows", "br-int", "--no-stats")
	if err != nil {
		t.Fatal(err)
	}
	want := physicalLines(out)
	if dir := os.Getenv("PHYSICAL_ORACLE_DUMP"); dir != "" {
		base := filepath.Join(dir, encap+"-"+hv.Name)
		os.WriteFile(base+".want", []byte(strings.Join(want, "\n")+"\n"), 0o644)
		os.WriteFile(base+".got", []byte(strings.Join(got, "\n")+"\n"), 0o644)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: physical flows differ from ovn-controller's (-ovn-controller +physical):\n%s", hv.Name, diff)
	}
	t.Logf("%s: %d physical flows compared", hv.Name, len(want))
}

// reinstall takes every flow the real ovn-controller installed on hv (all
// tables: logical flows too), installs them on a private br-int through
// the installer, and checks that the switch holds exactly them and that a
// fresh installer, which reads them back, has nothing to change: what the
// switch sends back is recognised as the same flows, so a restarted
// controller replaces nothing.
func reinstall(t *testing.T, hv *testbed.Chassis) {
	out, err := hv.OFCtl("-O", "OpenFlow15", "dump-flows", "br-int", "--no-stats")
	if err != nil {
		t.Fatal(err)
	}
	d := flowtable.NewDesired(nil)
	var want []string
	skipped := 0
	for i, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l == "" || strings.HasPrefix(l, "OFPST_FLOW") {
			continue
		}
		fm, err := openflow.ParseFlow(strings.Replace(l, ", ", ",", -1))
		if err != nil {
			// ParseFlow does not read every action (learn); those flows
			// are left out.
			if skipped++; skipped <= 3 {
				t.Logf("not parsed: %v", err)
			}
			continue
		}
		d.Set(fmt.Sprint(i), []flowtable.Flow{{Table: fm.Table, Priority: fm.Priority, Match: fm.Match,
			Actions: fm.Instructions.Apply, Cookie: fm.Cookie}})
		want = append(want, l)
	}
	o := flowtabletest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := flowtable.NewInstaller(nil)
	if err := in.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Install(ctx, d); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, o.DumpFlows()); diff != "" {
		t.Errorf("ovn-controller's flows reinstalled differ (-ovn-controller +reinstalled):\n%s", diff)
	}
	fresh := flowtable.NewInstaller(nil)
	if err := fresh.Sync(ctx, o.Dial(ctx)); err != nil {
		t.Fatal(err)
	}
	if st, err := fresh.Install(ctx, d); err != nil || !st.Empty() {
		t.Errorf("fresh installer on ovn-controller's flows: %+v %v, want nothing to change", st, err)
	}
	t.Logf("reinstalled %d of ovn-controller's flows (%d not parsed)", len(want), skipped)
}

func render(f flowtable.Flow) string {
	fm := openflow.NewFlowMod(openflow.FlowAdd, f.Table, f.Priority)
	fm.Cookie, fm.Match, fm.Instructions.Apply = f.Cookie, f.Match, f.Actions
	return fm.DumpString()
}

var physicalTables = map[int]bool{0: true, 37: true, 38: true, 39: true, 40: true, 41: true, 64: true, 65: true,
	66: true, 67: true, 71: true, 72: true, 73: true, 74: true, 75: true}

var tableRE = regexp.MustCompile(`table=(\d+)`)

// physicalLines are the dump's flows of the physical tables, normalised.
func physicalLines(dump string) []string {
	var out []string
	for _, l := range strings.Split(dump, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "OFPST_FLOW") {
			continue
		}
		table := 0
		if m := tableRE.FindStringSubmatch(l); m != nil {
			table, _ = strconv.Atoi(m[1])
		}
		if physicalTables[table] {
			out = append(out, normalise(l))
		}
	}
	slices.Sort(out)
	return out
}

var outputsRE = regexp.MustCompile(`output:\d+(,output:\d+)+`)

// normalise sorts runs of outputs: ovn-controller visits the remote
// chassis of a multicast group in hash order.
func normalise(l string) string {
	return outputsRE.ReplaceAllStringFunc(l, func(s string) string {
		parts := strings.Split(s, ",")
		slices.Sort(parts)
		return strings.Join(parts, ",")
	})
}

func buildOracleTopology(t *testing.T, topo *testbed.Topology) {
	topo.NBCtl(t, "ls-add", "sw0",
		"--", "lsp-add", "sw0", "p1", "--", "lsp-set-addresses", "p1", "00:00:00:00:00:01 10.0.0.1",
		"--", "lsp-set-port-security", "p1", "00:00:00:00:00:01 10.0.0.1",
		"--", "lsp-add", "sw0", "p2", "--", "lsp-set-addresses", "p2", "00:00:00:00:00:02 10.0.0.2",
		"--", "lsp-add", "sw0", "p3", "--", "lsp-set-addresses", "p3", "00:00:00:00:00:03 10.0.0.3",
		"--", "lsp-add", "sw0", "lp", "--", "lsp-set-type", "lp", "localport", "--", "lsp-set-addresses", "lp", "00:00:00:00:00:09 10.0.0.9",
		"--", "lsp-add", "sw0", "ln", "--", "lsp-set-type", "ln", "localnet", "--", "lsp-set-addresses", "ln", "unknown",
		"--", "lsp-set-options", "ln", "network_name=phys",
		"--", "ls-add", "sw1", "--", "lsp-add", "sw1", "q1", "--", "lsp-set-addresses", "q1", "00:00:00:00:01:01 10.1.0.1",
		"--", "lsp-add", "sw1", "ln1", "--", "lsp-set-type", "ln1", "localnet", "--", "lsp-set-addresses", "ln1", "unknown",
		"--", "lsp-set-options", "ln1", "network_name=phys", "--", "set", "logical_switch_port", "ln1", "tag_request=7",
		"--", "ls-add", "sw2", "--", "lsp-add", "sw2", "r1", "--", "lsp-set-addresses", "r1", "00:00:00:00:02:01 10.2.0.1",
		"--", "lsp-set-port-security", "r1", "00:00:00:00:02:01 10.2.0.1/24 fd00::1",
		"--", "lsp-add", "sw2", "r2", "--", "lsp-set-addresses", "r2", "00:00:00:00:02:02 10.2.0.2",
		"--", "lsp-add", "sw2", "r3", "--", "lsp-set-addresses", "r3", "00:00:00:00:02:03 10.2.0.3",
		"--", "lsp-add", "sw2", "r4", "--", "lsp-set-addresses", "r4", "00:00:00:00:02:04 10.2.0.4",
		"--", "lsp-set-port-security", "r4", "00:00:00:00:02:04",
		"--", "lsp-add", "sw2", "c1", "r1", "42", "--", "lsp-set-addresses", "c1", "00:00:00:00:02:c1 10.2.0.41",
		"--", "lr-add", "lr0", "--", "lrp-add", "lr0", "lrp0", "00:00:00:00:ff:01", "10.2.0.254/24",
		"--", "lsp-add", "sw2", "sw2-lr0", "--", "lsp-set-type", "sw2-lr0", "router", "--", "lsp-set-addresses", "sw2-lr0", "router",
		"--", "lsp-set-options", "sw2-lr0", "router-port=lrp0",
		"--", "ls-add", "sw3", "--", "lsp-add", "sw3", "x1", "--", "lsp-set-addresses", "x1", "00:00:00:00:03:01 10.3.0.1",
		"--", "lrp-add", "lr0", "lrp-ext", "00:00:00:00:ff:02", "10.3.0.254/24",
		"--", "lsp-add", "sw3", "sw3-lr0", "--", "lsp-set-type", "sw3-lr0", "router", "--", "lsp-set-addresses", "sw3-lr0", "router",
		"--", "lsp-set-options", "sw3-lr0", "router-port=lrp-ext",
		"--", "lrp-set-gateway-chassis", "lrp-ext", topo.HV(1).SystemID, "10",
		"--", "lr-add", "gw1", "--", "set", "logical_router", "gw1", "options:chassis="+topo.HV(1).SystemID,
		"--", "lrp-add", "gw1", "gw1-sw2", "00:00:00:00:ff:03", "10.2.0.253/24",
		"--", "lsp-add", "sw2", "sw2-gw1", "--", "lsp-set-type", "sw2-gw1", "router", "--", "lsp-set-addresses", "sw2-gw1", "router",
		"--", "lsp-set-options", "sw2-gw1", "router-port=gw1-sw2")
	hv1 := topo.HV(1)
	if _, err := hv1.VSCtl("add-br", "br-ex", "--", "set", "bridge", "br-ex", "datapath_type=netdev"); err != nil {
		t.Fatal(err)
	}
	if _, err := hv1.VSCtl("set", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings=phys:br-ex"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		hv        int
		port, mac string
	}{
		{1, "p1", "00:00:00:00:00:01"}, {1, "lp", "00:00:00:00:00:09"}, {1, "q1", "00:00:00:00:01:01"},
		{1, "r1", "00:00:00:00:02:01"}, {1, "r4", "00:00:00:00:02:04"}, {2, "r2", "00:00:00:00:02:02"},
		{3, "r3", "00:00:00:00:02:03"}, {2, "p2", "00:00:00:00:00:02"}, {3, "p3", "00:00:00:00:00:03"},
		{2, "x1", "00:00:00:00:03:01"},
	} {
		topo.HV(v.hv).Plug(t, testbed.VIFSpec{Port: v.port, MAC: v.mac})
	}
	// An external port served by hv1 (through sw0's localnet port).
	topo.NBCtl(t, "ha-chassis-group-add", "hag", "--", "ha-chassis-group-add-chassis", "hag", topo.HV(1).SystemID, "10")
	hag := topo.NBCtl(t, "--bare", "--columns=_uuid", "find", "HA_Chassis_Group", "name=hag")
	topo.NBCtl(t, "lsp-add", "sw0", "ext1", "--", "lsp-set-type", "ext1", "external",
		"--", "lsp-set-addresses", "ext1", "00:00:00:00:00:e1 10.0.0.41",
		"--", "set", "logical_switch_port", "ext1", "ha_chassis_group="+hag)
	// Neighbours and learned MACs: two learned bindings (IPv4, IPv6), two
	// static ones (one overriding learned bindings), two FDB entries.
	lr := topo.SBCtl(t, "--bare", "--columns=_uuid", "find", "Datapath_Binding", "external_ids:name=lr0")
	sw2 := topo.SBCtl(t, "--bare", "--columns=tunnel_key", "find", "Datapath_Binding", "external_ids:name=sw2")
	topo.SBCtl(t, "create", "MAC_Binding", "logical_port=lrp-ext", "ip=10.3.0.99", `mac="00:00:00:00:09:99"`, "datapath="+lr)
	topo.SBCtl(t, "create", "MAC_Binding", "logical_port=lrp0", `ip="fd00::99"`, `mac="00:00:00:00:09:98"`, "datapath="+lr)
	topo.NBCtl(t, "static-mac-binding-add", "lrp-ext", "10.3.0.98", "00:00:00:00:09:97")
	topo.NBCtl(t, "static-mac-binding-add", "lrp0", "10.2.0.97", "00:00:00:00:09:96")
	smb := topo.NBCtl(t, "--bare", "--columns=_uuid", "find", "Static_MAC_Binding", "ip=10.2.0.97")
	topo.NBCtl(t, "set", "Static_MAC_Binding", smb, "override_dynamic_mac=true")
	topo.SBCtl(t, "create", "FDB", `mac="00:00:00:00:0f:01"`, "dp_key="+sw2, "port_key=1")
	topo.SBCtl(t, "create", "FDB", `mac="00:00:00:00:0f:02"`, "dp_key="+sw2, "port_key=3")
	topo.Sync(t)
	for _, p := range []string{"p1", "q1", "r1", "r4", "r2", "r3", "p2", "p3", "x1", "c1"} {
		if err := topo.PortUp(p); err != nil {
			t.Fatal(err)
		}
	}
}

// localDatapaths are the datapaths with a port bound to chassis, and those
// reachable from them through patch ports, as ovn-controller's binding
// computes them.
func localDatapaths(chassis string, ports []physical.Port) map[uint32]bool {
	local := map[uint32]bool{}
	byName := map[string]physical.Port{}
	for _, p := range ports {
		byName[p.Name] = p
	}
	var add func(dp uint32)
	add = func(dp uint32) {
		if local[dp] {
			return
		}
		local[dp] = true
		for _, p := range ports {
			if p.Datapath == dp && (p.Type == "patch" || p.Type == "l3gateway" && p.Chassis == chassis) {
				if peer, ok := byName[p.Peer]; ok {
					add(peer.Datapath)
				}
			}
		}
	}
	for _, p := range ports {
		bound := p.Chassis == chassis && (p.Type == "" || p.Type == "l3gateway" || p.Type == "chassisredirect")
		if bound {
			add(p.Datapath)
		}
	}
	return local
}

// table is `--format=json list` output: one map per row.
func table(t *testing.T, out string) []map[string]any {
	t.Helper()
	var j struct {
		Headings []string `json:"headings"`
		Data     [][]any  `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	var rows []map[string]any
	for _, d := range j.Data {
		r := map[string]any{}
		for i, h := range j.Headings {
			r[h] = d[i]
		}
		rows = append(rows, r)
	}
	return rows
}

// atoms is an OVSDB JSON value as a list of atoms (strings, numbers,
// UUIDs as strings).
func atoms(v any) []string {
	switch x := v.(type) {
	case []any:
		switch x[0] {
		case "uuid":
			return []string{x[1].(string)}
		case "set":
			var out []string
			for _, e := range x[1].([]any) {
				out = append(out, atoms(e)...)
			}
			return out
		}
	case string:
		return []string{x}
	case float64:
		return []string{strconv.FormatInt(int64(x), 10)}
	case bool:
		return []string{strconv.FormatBool(x)}
	}
	return nil
}

func smap(v any) map[string]string {
	out := map[string]string{}
	if x, ok := v.([]any); ok && x[0] == "map" {
		for _, kv := range x[1].([]any) {
			p := kv.([]any)
			out[fmt.Sprint(p[0])] = fmt.Sprint(p[1])
		}
	}
	return out
}

func one(v any) string {
	if a := atoms(v); len(a) > 0 {
		return a[0]
	}
	return ""
}

func num(v any) uint64 {
	n, _ := strconv.ParseUint(one(v), 10, 64)
	return n
}

// readInput builds the Input of chassis hv from the SB and its OVS, as the
// controller loop would from its replicas.
func readInput(t *testing.T, topo *testbed.Topology, hv *testbed.Chassis) physical.Input {
	t.Helper()
	sb := func(tbl string) []map[string]any { return table(t, topo.SBCtl(t, "--format=json", "list", tbl)) }
	vs := func(args ...string) string {
		out, err := hv.VSCtl(args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	chassisName := map[string]string{}
	for _, c := range sb("Chassis") {
		chassisName[one(c["_uuid"])] = one(c["name"])
	}
	encapChassis := map[string]string{}
	for _, e := range sb("Encap") {
		encapChassis[one(e["ip"])] = one(e["chassis_name"])
	}
	zones := map[string]uint16{}
	for k, v := range smap(table(t, vs("--format=json", "list", "Bridge", "br-int"))[0]["external_ids"]) {
		if name, ok := strings.CutPrefix(k, "ct-zone-"); ok {
			n, _ := strconv.Atoi(v)
			zones[name] = uint16(n)
		}
	}
	in := physical.Input{Chassis: hv.SystemID}
	dpKey := map[string]uint32{}
	for _, d := range sb("Datapath_Binding") {
		u := one(d["_uuid"])
		dpKey[u] = uint32(num(d["tunnel_key"]))
		in.Datapaths = append(in.Datapaths, physical.Datapath{Key: dpKey[u],
			DNATZone: zones[u+"_dnat"], SNATZone: zones[u+"_snat"]})
	}
	ofport := map[string]uint32{} // iface-id or localnet port -> ofport
	for _, r := range table(t, vs("--format=json", "--columns=name,ofport,type,options,external_ids", "list", "Interface")) {
		ids, n := smap(r["external_ids"]), uint32(num(r["ofport"]))
		switch {
		case ids["iface-id"] != "":
			ofport[ids["iface-id"]] = n
		case one(r["type"]) == "geneve" || one(r["type"]) == "vxlan":
			in.Tunnels = append(in.Tunnels, physical.Tunnel{Chassis: encapChassis[smap(r["options"])["remote_ip"]],
				Type: one(r["type"]), OFPort: n})
		}
	}
	for _, r := range table(t, vs("--format=json", "--columns=name,external_ids", "list", "Port")) {
		if ln := smap(r["external_ids"])["ovn-localnet-port"]; ln != "" && strings.HasPrefix(one(r["name"]), "patch-br-int-to-") {
			iface := table(t, vs("--format=json", "--columns=ofport", "list", "Interface", one(r["name"])))
			ofport[ln] = uint32(num(iface[0]["ofport"]))
		}
	}
	pbName := map[string]string{}
	var ports []physical.Port
	for _, r := range sb("Port_Binding") {
		name, typ := one(r["logical_port"]), one(r["type"])
		pbName[one(r["_uuid"])] = name
		opts := smap(r["options"])
		p := physical.Port{UUID: one(r["_uuid"]), Name: name, Datapath: dpKey[one(r["datapath"])],
			Key: uint32(num(r["tunnel_key"])), Type: typ, Chassis: chassisName[one(r["chassis"])],
			Zone: zones[name], Tag: uint16(num(r["tag"])), Peer: opts["peer"], DistributedPort: opts["distributed-port"],
			Parent:       one(r["parent_port"]),
			PortSecurity: atoms(r["port_security"]), MAC: atoms(r["mac"])}
		if typ == "l3gateway" {
			p.Chassis = opts["l3gateway-chassis"]
		}
		if typ == "" && p.Chassis == hv.SystemID || typ == "localport" || typ == "localnet" {
			p.OFPort = ofport[name]
		}
		ports = append(ports, p)
	}
	local := localDatapaths(hv.SystemID, ports)
	for _, p := range ports {
		if local[p.Datapath] {
			in.Ports = append(in.Ports, p)
		}
	}
	in.Datapaths = slices.DeleteFunc(in.Datapaths, func(d physical.Datapath) bool { return !local[d.Key] })
	for _, r := range sb("Multicast_Group") {
		mc := physical.MulticastGroup{UUID: one(r["_uuid"]), Datapath: dpKey[one(r["datapath"])], Key: uint32(num(r["tunnel_key"]))}
		if !local[mc.Datapath] {
			continue
		}
		for _, u := range atoms(r["ports"]) {
			mc.Members = append(mc.Members, pbName[u])
		}
		in.MulticastGroups = append(in.MulticastGroups, mc)
	}
	for _, tbl := range []string{"MAC_Binding", "Static_MAC_Binding"} {
		for _, r := range sb(tbl) {
			mac, _ := net.ParseMAC(one(r["mac"]))
			ip, _ := netip.ParseAddr(one(r["ip"]))
			mb := physical.MACBinding{UUID: one(r["_uuid"]), Port: one(r["logical_port"]), IP: ip, MAC: mac,
				Static: tbl == "Static_MAC_Binding", Override: one(r["override_dynamic_mac"]) == "true"}
			if local[dpKey[one(r["datapath"])]] {
				in.MACBindings = append(in.MACBindings, mb)
			}
		}
	}
	for _, r := range sb("FDB") {
		mac, _ := net.ParseMAC(one(r["mac"]))
		e := physical.FDB{UUID: one(r["_uuid"]), Datapath: uint32(num(r["dp_key"])), Port: uint32(num(r["port_key"])), MAC: mac}
		if local[e.Datapath] {
			in.FDBs = append(in.FDBs, e)
		}
	}
	t.Logf("input: %d datapaths, %d ports, %d multicast groups, tunnels %v, zones %v", len(in.Datapaths), len(in.Ports),
		len(in.MulticastGroups), in.Tunnels, slices.Sorted(maps.Keys(zones)))
	return in
}

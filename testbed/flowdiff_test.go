package testbed_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ovnd/ovnd/testbed"
)

// TestFlowDiff builds a scenario's topology twice, once with the
// reference controllers (OVND_FLOWDIFF_WANT, "ovn" by default) and once
// with the ones under test (OVND_FLOWDIFF_GOT, "ovnd" by default), the
// rest as OVND_E2E_* says, and compares every chassis's br-int, table by
// table, after normalising what each implementation numbers on its own
// (see testbed.NormalizeFlows). It fails when a table differs. The full
// diff and both normalised dumps go to $OVND_E2E_ARTIFACTS/flowdiff-*
// (or a new temporary directory), whose path it logs. A tool more than a
// check, so it runs only with OVND_FLOWDIFF=1:
//
//	OVND_FLOWDIFF=1 go test ./testbed -run TestFlowDiff/NAT_LB -v
func TestFlowDiff(t *testing.T) {
	if os.Getenv("OVND_FLOWDIFF") == "" {
		t.Skip("a diagnostic tool: set OVND_FLOWDIFF=1 to compare two controllers' flows")
	}
	base, err := testbed.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want, got := base, base
	if want.Controllers, err = flowDiffKinds("OVND_FLOWDIFF_WANT", testbed.OVN); err != nil {
		t.Fatal(err)
	}
	if got.Controllers, err = flowDiffKinds("OVND_FLOWDIFF_GOT", testbed.OVND); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []struct {
		name  string
		build func(*testing.T, *testbed.Topology)
	}{
		{"NAT_LB", func(t *testing.T, topo *testbed.Topology) { buildNATLB(t, topo) }},
		{"Router", func(t *testing.T, topo *testbed.Topology) { buildRouter(t, topo) }},
		{"SecurityGroup", func(t *testing.T, topo *testbed.Topology) { sgSwitch(t, topo); sgPolicy(t, topo) }},
		{"GatewayRouter", buildGatewayRouter},
		{"HAGateway", buildHAGateway},
		{"Localnet", buildLocalnet},
		// NAT_LB changed after the fact, to compare what ovnd keeps up
		// to date incrementally with ovn-controller's full recompute:
		// the gateway moves to hv2, a NAT rule goes, the load balancer
		// gets another backend.
		{"NAT_LB_Changed", func(t *testing.T, topo *testbed.Topology) {
			buildNATLB(t, topo)
			topo.NBCtl(t, "lrp-del-gateway-chassis", "nat-out", topo.HV(1).SystemID,
				"--", "lrp-set-gateway-chassis", "nat-out", topo.HV(2).SystemID, "10",
				"--", "lr-nat-del", "nat", "dnat_and_snat", "172.16.6.100",
				"--", "set", "Load_Balancer", "lb0", `vips:"10.66.0.200:80"="10.6.0.21:8080,10.6.0.22:8080,10.6.0.30:8080"`)
			topo.Sync(t)
		}},
		{"DGPOutside", buildDGPOutside},
		{"DHCP", func(t *testing.T, topo *testbed.Topology) { buildDHCP(t, topo) }},
		{"ACL", func(t *testing.T, topo *testbed.Topology) {
			aclSwitch(t, topo)
			for _, r := range aclRules {
				topo.NBCtl(t, append([]string{"acl-add", "acl"}, r...)...)
			}
			topo.Sync(t)
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			ws := flowStates(t, "want", want, sc.build)
			gs := flowStates(t, "got", got, sc.build)
			if len(ws) != len(gs) {
				t.Fatalf("%d chassis dumped for want, %d for got", len(ws), len(gs))
			}
			dir := flowDiffDir(t, sc.name)
			for i := range ws {
				hv := "hv" + string(rune('1'+i))
				d := testbed.DiffFlows(ws[i], gs[i])
				writeFile(t, filepath.Join(dir, hv+"-want.txt"), ws[i].String())
				writeFile(t, filepath.Join(dir, hv+"-got.txt"), gs[i].String())
				writeFile(t, filepath.Join(dir, hv+"-diff.txt"), d.String())
				t.Logf("%s: want %s, got %s\n%s", hv, want, got, d.Summary())
				if !d.Empty() {
					t.Errorf("%s: flows differ; diff in %s", hv, filepath.Join(dir, hv+"-diff.txt"))
				}
			}
		})
	}
}

// buildGatewayRouter is a topology only the flow diff uses: a gateway
// router pinned to hv1 (options:chassis, so l3gateway ports) with SNAT,
// dnat_and_snat and a load balancer on the router, between switch gwin
// (VIFs on both chassis) and switch gwout (a VIF on hv1).
func buildGatewayRouter(t *testing.T, topo *testbed.Topology) {
	addSwitch(t, topo, "gwin", "10.9.0.1",
		lsp{"gw-a", "0a:00:00:00:0a:10", "10.9.0.10/24", 2},
		lsp{"gw-b", "0a:00:00:00:0a:11", "10.9.0.11/24", 1})
	addSwitch(t, topo, "gwout", "", lsp{"gw-ext", "0a:00:00:00:0a:99", "172.16.9.10/24", 1})
	topo.NBCtl(t, "lr-add", "gw", "--", "set", "Logical_Router", "gw", "options:chassis="+topo.HV(1).SystemID)
	addRouterPort(t, topo, "gw", "gw-in", "0a:00:00:00:0a:01", "10.9.0.1/24", "gwin")
	addRouterPort(t, topo, "gw", "gw-out", "0a:00:00:00:0a:02", "172.16.9.1/24", "gwout")
	topo.NBCtl(t, "lr-nat-add", "gw", "snat", "172.16.9.1", "10.9.0.0/24",
		"--", "lr-nat-add", "gw", "dnat_and_snat", "172.16.9.100", "10.9.0.10",
		"--", "lb-add", "gwlb", "172.16.9.200:80", "10.9.0.10:8080,10.9.0.11:8080", "tcp",
		"--", "lr-lb-add", "gw", "gwlb")
	topo.Sync(t)
}

// buildHAGateway is a topology only the flow diff uses: a router whose
// distributed gateway port has two gateway chassis, hv1 (priority 20)
// and hv2 (10), with SNAT, between switch hain (VIFs on both chassis)
// and switch haout (a VIF on hv1).
func buildHAGateway(t *testing.T, topo *testbed.Topology) {
	addSwitch(t, topo, "hain", "10.11.0.1",
		lsp{"ha-a", "0a:00:00:00:0b:10", "10.11.0.10/24", 2},
		lsp{"ha-b", "0a:00:00:00:0b:11", "10.11.0.11/24", 1})
	addSwitch(t, topo, "haout", "", lsp{"ha-ext", "0a:00:00:00:0b:99", "172.16.11.10/24", 1})
	topo.NBCtl(t, "lr-add", "ha")
	addRouterPort(t, topo, "ha", "ha-in", "0a:00:00:00:0b:01", "10.11.0.1/24", "hain")
	addRouterPort(t, topo, "ha", "ha-out", "0a:00:00:00:0b:02", "172.16.11.1/24", "haout")
	topo.NBCtl(t, "lrp-set-gateway-chassis", "ha-out", topo.HV(1).SystemID, "20",
		"--", "lrp-set-gateway-chassis", "ha-out", topo.HV(2).SystemID, "10",
		"--", "lr-nat-add", "ha", "snat", "172.16.11.1", "10.11.0.0/24")
	topo.Sync(t)
}

// buildLocalnet is a topology only the flow diff uses: a provider
// switch with a localnet port (network "physnet", br-ex on every
// chassis through ovn-bridge-mappings, VLAN 10) and a VIF on each
// chassis, and an overlay switch with a VIF on each chassis.
func buildLocalnet(t *testing.T, topo *testbed.Topology) {
	for _, c := range topo.Chassis {
		if _, err := c.VSCtl("--may-exist", "add-br", "br-ex", "--", "set", "Bridge", "br-ex", "datapath_type=netdev",
			"--", "set", "Open_vSwitch", ".", "external_ids:ovn-bridge-mappings=physnet:br-ex"); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	addSwitch(t, topo, "prov", "",
		lsp{"pv-a", "0a:00:00:00:0c:10", "10.12.0.10/24", 1},
		lsp{"pv-b", "0a:00:00:00:0c:11", "10.12.0.11/24", 2})
	topo.NBCtl(t, "lsp-add", "prov", "pv-ln", "--", "lsp-set-type", "pv-ln", "localnet",
		"--", "lsp-set-addresses", "pv-ln", "unknown", "--", "lsp-set-options", "pv-ln", "network_name=physnet",
		"--", "set", "Logical_Switch_Port", "pv-ln", "tag_request=10")
	addSwitch(t, topo, "ovl", "",
		lsp{"ov-a", "0a:00:00:00:0c:20", "10.13.0.10/24", 1},
		lsp{"ov-b", "0a:00:00:00:0c:21", "10.13.0.11/24", 2})
	topo.Sync(t)
}

// buildDGPOutside is a topology only the flow diff uses: a distributed
// gateway port on hv1 whose outside switch has its only VIF on hv2, the
// inside switch its only VIF on hv1; which datapaths each chassis takes
// as local is what differs from NAT_LB.
func buildDGPOutside(t *testing.T, topo *testbed.Topology) {
	addSwitch(t, topo, "dgin", "10.14.0.1", lsp{"dg-a", "0a:00:00:00:0d:10", "10.14.0.10/24", 1})
	addSwitch(t, topo, "dgout", "", lsp{"dg-ext", "0a:00:00:00:0d:99", "172.16.14.10/24", 2})
	topo.NBCtl(t, "lr-add", "dg")
	addRouterPort(t, topo, "dg", "dg-in", "0a:00:00:00:0d:01", "10.14.0.1/24", "dgin")
	addRouterPort(t, topo, "dg", "dg-out", "0a:00:00:00:0d:02", "172.16.14.1/24", "dgout")
	topo.NBCtl(t, "lrp-set-gateway-chassis", "dg-out", topo.HV(1).SystemID, "10",
		"--", "lr-nat-add", "dg", "snat", "172.16.14.1", "10.14.0.0/24")
	topo.Sync(t)
}

// flowStates builds a topology with cfg, runs build on it, waits for
// every chassis and returns their normalised flows; the topology is torn
// down before it returns.
func flowStates(t *testing.T, name string, cfg testbed.Config, build func(*testing.T, *testbed.Topology)) []testbed.FlowState {
	var out []testbed.FlowState
	t.Run(name, func(t *testing.T) {
		topo := testbed.NewWith(t, cfg, testbed.Options{Chassis: 2})
		build(t, topo)
		topo.Sync(t)
		if d := os.Getenv("OVND_FLOWDIFF_SETTLE"); d != "" {
			settle, err := time.ParseDuration(d)
			if err != nil {
				t.Fatalf("OVND_FLOWDIFF_SETTLE: %v", err)
			}
			time.Sleep(settle) // e.g. for BFD sessions between the chassis to come up
		}
		for _, c := range topo.Chassis {
			if err := c.Recompute(); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
		}
		topo.Sync(t)
		for _, c := range topo.Chassis {
			st, err := c.FlowState()
			if err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			out = append(out, st)
		}
	})
	if len(out) == 0 {
		t.FailNow()
	}
	return out
}

func flowDiffKinds(env string, def testbed.Kind) ([]testbed.Kind, error) {
	v := os.Getenv(env)
	if v == "" {
		return []testbed.Kind{def}, nil
	}
	var ks []testbed.Kind
	for _, s := range strings.Split(v, ",") {
		k := testbed.Kind(strings.TrimSpace(s))
		if k != testbed.OVN && k != testbed.OVND {
			return nil, &kindError{env, s}
		}
		ks = append(ks, k)
	}
	return ks, nil
}

type kindError struct{ env, val string }

func (e *kindError) Error() string { return e.env + ": " + e.val + " is neither ovn nor ovnd" }

func flowDiffDir(t *testing.T, name string) string {
	base := os.Getenv("OVND_E2E_ARTIFACTS")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "flowdiff-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flow diff files in %s", dir)
	return dir
}

func writeFile(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Error(err)
	}
}

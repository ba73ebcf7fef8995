package chassis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

func ovsRow(ids map[string]string) *vswitch.OpenvSwitch {
	return &vswitch.OpenvSwitch{ExternalIDs: ids}
}

func validIDs() map[string]string {
	return map[string]string{
		"system-id": "hv1", "hostname": "host1", "ovn-remote": "unix:/run/ovn/sb.sock",
		"ovn-encap-type": "geneve", "ovn-encap-ip": "192.168.0.1",
	}
}

func TestReadConfigValid(t *testing.T) {
	ids := validIDs()
	ids["ovn-encap-type"] = "vxlan, geneve"
	ids["ovn-bridge"] = "br-ovn"
	ids["ovn-bridge-datapath-type"] = "netdev"
	ids["ovn-bridge-mappings"] = "physnet1:br-eth0, physnet2:br-eth1"
	ids["ovn-remote-probe-interval"] = "0"
	ids["ovn-encap-csum"] = "false"
	ids["ovn-transport-zones"] = "tz1,tz2"
	ids["ovn-cms-options"] = "enable-chassis-as-gw"
	cfg, err := ReadConfig(ovsRow(ids), "")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		SystemID: "hv1", Remote: "unix:/run/ovn/sb.sock", Hostname: "host1", Bridge: "br-ovn",
		DatapathType: "netdev", EncapTypes: []string{"vxlan", "geneve"}, EncapIP: "192.168.0.1",
		BridgeMappings: map[string]string{"physnet1": "br-eth0", "physnet2": "br-eth1"},
		TransportZones: []string{"tz1", "tz2"},
	}
	got := cfg
	got.Passthrough = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if cfg.Passthrough["ovn-cms-options"] != "enable-chassis-as-gw" || cfg.Passthrough["ovn-monitor-all"] != "false" {
		t.Errorf("passthrough %v", cfg.Passthrough)
	}
}

func TestReadConfigDefaults(t *testing.T) {
	cfg, err := ReadConfig(ovsRow(validIDs()), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bridge != "br-int" || cfg.ProbeInterval != 5*time.Second || !cfg.EncapCsum ||
		cfg.DatapathType != "" || len(cfg.BridgeMappings) != 0 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestReadConfigSystemIDFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "system-id.conf")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := validIDs()
	delete(ids, "system-id")
	cfg, err := ReadConfig(ovsRow(ids), f)
	if err != nil || cfg.SystemID != "from-file" {
		t.Errorf("system-id from file: %q, %v", cfg.SystemID, err)
	}
	if _, err := ReadConfig(ovsRow(ids), filepath.Join(t.TempDir(), "missing")); !errors.Is(err, ErrNoSystemID) {
		t.Errorf("missing file: %v, want ErrNoSystemID", err)
	}
	if _, err := ReadConfig(ovsRow(ids), ""); !errors.Is(err, ErrNoSystemID) {
		t.Errorf("no file: %v, want ErrNoSystemID", err)
	}
}

func TestReadConfigErrors(t *testing.T) {
	cases := []struct {
		key, value string // value "" deletes the key
		wantErr    string
	}{
		{"ovn-remote", "", "ovn-remote is not set"},
		{"ovn-encap-type", "", "ovn-encap-type is not set"},
		{"ovn-encap-type", "geneve,gre", `unsupported type "gre"`},
		{"ovn-encap-ip", "", "ovn-encap-ip is not set"},
		{"ovn-encap-ip", "10.0.0", `"10.0.0" is not an IP address`},
		{"ovn-bridge-mappings", "physnet1", `"physnet1" is not network:bridge`},
		{"ovn-bridge-mappings", "physnet1:", `"physnet1:" is not network:bridge`},
		{"ovn-bridge-mappings", "a:br1,a:br2", `network "a" mapped twice`},
		{"ovn-remote-probe-interval", "5s", "ovn-remote-probe-interval"},
		{"ovn-remote-probe-interval", "-1", "ovn-remote-probe-interval"},
		{"ovn-encap-csum", "yes please", "ovn-encap-csum"},
	}
	for _, c := range cases {
		ids := validIDs()
		if c.value == "" {
			delete(ids, c.key)
		} else {
			ids[c.key] = c.value
		}
		_, err := ReadConfig(ovsRow(ids), "")
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s=%q: error %v, want one containing %q", c.key, c.value, err, c.wantErr)
		}
	}
	if _, err := ReadConfig(nil, ""); err == nil {
		t.Error("nil row: no error")
	}
}

func TestChooseDatapathType(t *testing.T) {
	both := []string{"netdev", "system"}
	cases := []struct {
		name       string
		configured string
		types      []string
		dpdk       bool
		kernel     bool
		want       string
	}{
		{"configured wins", "system", both, true, false, "system"},
		{"kernel module", "", both, false, true, "system"},
		{"no kernel module", "", both, false, false, "netdev"},
		{"dpdk", "", both, true, true, "netdev"},
		{"vswitchd not up yet", "", nil, false, false, "netdev"},
		{"no netdev offered", "", []string{"system"}, false, false, "system"},
	}
	for _, c := range cases {
		root := &vswitch.OpenvSwitch{DatapathTypes: c.types, DpdkInitialized: c.dpdk}
		if got := chooseDatapathType(Config{DatapathType: c.configured}, root, c.kernel); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The kernel answers the generic netlink query without error, and says
// yes where the openvswitch module is loaded. (A built-in datapath may
// have no /sys/module entry, so "yes" without one is not checked.)
func TestKernelDatapathAnswers(t *testing.T) {
	has, err := KernelDatapath()
	if err != nil {
		t.Fatal(err)
	}
	_, statErr := os.Stat("/sys/module/openvswitch")
	if !has && statErr == nil {
		t.Errorf("no kernel datapath reported but /sys/module/openvswitch exists")
	}
}

package testbed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/google/go-cmp/cmp"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    string
		wantErr string
	}{
		{env: nil, want: "db=ovn northd=ovn controller=ovn encap=geneve"},
		{env: map[string]string{"OVND_E2E_DB": "ovnd", "OVND_E2E_ENCAP": "vxlan"},
			want: "db=ovnd northd=ovn controller=ovn encap=vxlan"},
		{env: map[string]string{"OVND_E2E_CONTROLLER": "ovnd, ovn"},
			want: "db=ovn northd=ovn controller=ovnd,ovn encap=geneve"},
		{env: map[string]string{"OVND_E2E_NORTHD": "ovs"}, wantErr: "OVND_E2E_NORTHD"},
		{env: map[string]string{"OVND_E2E_ENCAP": "gre"}, wantErr: "OVND_E2E_ENCAP"},
	} {
		for _, k := range []string{"OVND_E2E_DB", "OVND_E2E_NORTHD", "OVND_E2E_CONTROLLER", "OVND_E2E_ENCAP"} {
			t.Setenv(k, tc.env[k])
		}
		c, err := ConfigFromEnv()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.String() != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.env, c, err, tc.want)
		}
	}
}

func TestConfigControllerRoundRobin(t *testing.T) {
	c := Config{Controllers: []Kind{OVND, OVN}}
	got := []Kind{c.Controller(0), c.Controller(1), c.Controller(2)}
	if diff := cmp.Diff([]Kind{OVND, OVN, OVND}, got); diff != "" {
		t.Error(diff)
	}
}

func TestOVNDConfigsAreTOML(t *testing.T) {
	for name, cfg := range map[string]string{
		"database":   ovndDatabaseConfig("/s/db", "/s/nb.sock", "/s/sb.sock"),
		"northd":     ovndNorthdConfig("/s/nb.sock", "/s/sb.sock"),
		"controller": ovndControllerConfig("/s/hv1/db.sock"),
	} {
		var v map[string]any
		if _, err := toml.Decode(cfg, &v); err != nil {
			t.Errorf("%s: %v\n%s", name, err, cfg)
			continue
		}
		if roles, _ := v["roles"].([]any); len(roles) != 1 || roles[0] != name {
			t.Errorf("%s: roles = %v", name, v["roles"])
		}
	}
}

func TestParseCapture(t *testing.T) {
	text := `tcpdump: listening on hv1, link-type EN10MB (Ethernet), snapshot length 262144 bytes
20:55:12.75 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto UDP (17), length 134)
    172.31.0.1.39138 > 172.31.0.2.6081: Geneve, Flags [C], vni 0x1, options [8 bytes]
	IP (tos 0x0, ttl 64, id 4672, offset 0, flags [DF], proto ICMP (1), length 84)
    10.0.0.1 > 10.0.0.3: ICMP echo request, id 7831, seq 2, length 64
20:55:12.76 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto UDP (17), length 134)
    172.31.0.2.43200 > 172.31.0.1.4789: VXLAN, flags [I] (0x08), vni 1
20:55:12.77 IP6 fe80::1 > ff02::16: HBH ICMP6, multicast listener report v2

3 packets captured
`
	pkts := parseCapture(text)
	if len(pkts) != 2 {
		t.Fatalf("got %d packets: %+v", len(pkts), pkts)
	}
	if pkts[0].DstPort != 6081 || !containsAll(pkts[0].Text, []string{"10.0.0.1 > 10.0.0.3: ICMP echo request"}) {
		t.Errorf("packet 0: %+v", pkts[0])
	}
	if pkts[1].DstPort != 4789 || strings.Contains(pkts[1].Text, "ICMP") {
		t.Errorf("packet 1: %+v", pkts[1])
	}
}

func TestReadLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BOUND.lease")
	body := "new_domain_name_servers='10.5.0.53'\nnew_interface_mtu=1300\nnew_ip_address=10.5.0.10\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	want := Lease{"domain_name_servers": "10.5.0.53", "interface_mtu": "1300", "ip_address": "10.5.0.10"}
	if diff := cmp.Diff(want, readLease(path)); diff != "" {
		t.Error(diff)
	}
}

func TestRunNames(t *testing.T) {
	for name, want := range map[string]string{
		"ovt1a2b-hv1": "ovt1a2b", "ovt1a2b-v-l2-a": "ovt1a2b", "ovt1a2b": "ovt1a2b",
		"ovt1a2b3-hv1": "", "ovtzzzz-hv1": "", "hv1": "",
	} {
		got := ""
		if m := runNameRE.FindStringSubmatch(name); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s: run %q, want %q", name, got, want)
		}
	}
}

func TestLeaseCIDR(t *testing.T) {
	for _, tc := range []struct {
		lease Lease
		want  string
	}{
		{Lease{"ip_address": "10.5.0.10", "subnet_mask": "255.255.255.0"}, "10.5.0.10/24"},
		{Lease{"ip6_address": "fd05::10", "ip6_prefixlen": "128"}, "fd05::10/128"},
		{Lease{}, ""},
	} {
		if got := tc.lease.cidr(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.lease, got, tc.want)
		}
	}
}

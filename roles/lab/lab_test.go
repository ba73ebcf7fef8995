package lab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/roles"
)

// The config the lab runs is a valid ovnd.toml naming the roles and
// sockets the lab prints.
func TestLabConfig(t *testing.T) {
	s := sockets{NB: "/run/l/nb.sock", SB: "/run/l/sb.sock", DefaultNB: true}
	for _, tt := range []struct {
		real      bool
		wantRoles []string
	}{
		{false, []string{"database", "northd", "controller"}},
		{true, []string{"database", "northd"}},
	} {
		text := labConfig("/run/l/db", s, "/run/l/ovs/db.sock", tt.real)
		cfg, err := roles.Parse("lab.toml", []byte(text))
		if err != nil {
			t.Fatalf("real=%v: %v\n%s", tt.real, err, text)
		}
		if diff := cmp.Diff(tt.wantRoles, cfg.Roles); diff != "" {
			t.Errorf("real=%v roles (-want +got):\n%s", tt.real, diff)
		}
		if diff := cmp.Diff([]string{"punix:/run/l/nb.sock", "punix:" + defaultNBSocket}, cfg.Database.NBRemotes); diff != "" {
			t.Errorf("nb remotes (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"punix:/run/l/sb.sock"}, cfg.Database.SBRemotes); diff != "" {
			t.Errorf("sb remotes (-want +got):\n%s", diff)
		}
		if cfg.Northd.NB != "unix:/run/l/nb.sock" || cfg.Northd.SB != "unix:/run/l/sb.sock" {
			t.Errorf("northd = %+v", cfg.Northd)
		}
		if cfg.Controller.OVS != "unix:/run/l/ovs/db.sock" || cfg.Database.Dir != "/run/l/db" {
			t.Errorf("controller.ovs = %q, database.dir = %q", cfg.Controller.OVS, cfg.Database.Dir)
		}
	}
}

func TestCheckStateDir(t *testing.T) {
	base := t.TempDir()
	if j, err := checkStateDir(filepath.Join(base, "new")); j != nil || err != nil {
		t.Errorf("missing dir: %v, %v; want nil, nil", j, err)
	}
	if j, err := checkStateDir(base); j != nil || err != nil {
		t.Errorf("empty dir: %v, %v; want nil, nil", j, err)
	}
	foreign := filepath.Join(base, "foreign")
	os.Mkdir(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644)
	if _, err := checkStateDir(foreign); !errors.Is(err, errForeignDir) {
		t.Errorf("foreign dir: err = %v, want %v", err, errForeignDir)
	}
	for _, bad := range []string{"relative/dir", "/", "/" + strings.Repeat("d", maxStateDir)} {
		if _, err := checkStateDir(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	old := filepath.Join(base, "old")
	os.Mkdir(old, 0o755)
	before := "tcp:10.0.0.1:6642"
	want := &journal{PID: 12345, HostOVS: "/x/db.sock", ExternalIDs: map[string]*string{"ovn-remote": &before, "system-id": nil},
		CreatedBridge: true, CreatedOVNRunDir: true}
	if err := want.save(old); err != nil {
		t.Fatal(err)
	}
	got, err := checkStateDir(old)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("journal round trip (-want +got):\n%s", diff)
	}
	// A torn journal still marks the directory as the lab's.
	os.WriteFile(filepath.Join(old, journalFile), []byte(`{"pid": 1`), 0o644)
	if j, err := checkStateDir(old); err != nil || j == nil {
		t.Errorf("torn journal: %v, %v; want an empty journal", j, err)
	}
}

// A journal whose process is gone, or is not a lab, has no live owner.
func TestLiveOwner(t *testing.T) {
	for _, pid := range []int{0, 1, os.Getpid(), 1 << 30} {
		if got := (&journal{PID: pid}).liveOwner(); got != 0 {
			t.Errorf("pid %d: live owner %d, want 0", pid, got)
		}
	}
}

func TestParseExternalIDs(t *testing.T) {
	// As printed by ovs-vsctl --format=json --columns=external_ids list Open_vSwitch.
	out := `{"data":[[["map",[["hostname","vm"],["ovn-remote","unix:/run/ovnd-lab/sb.sock"],["system-id","a b"]]]]],"headings":["external_ids"]}`
	got, err := parseExternalIDs(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"hostname": "vm", "ovn-remote": "unix:/run/ovnd-lab/sb.sock", "system-id": "a b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	empty, err := parseExternalIDs(`{"data":[[["map",[]]]],"headings":["external_ids"]}`)
	if err != nil || len(empty) != 0 {
		t.Errorf("empty map: %v, %v", empty, err)
	}
	for _, bad := range []string{"", "not json", `{"data":[]}`, `{"data":[[["set",[]]]]}`, `{"data":[[1]]}`} {
		if _, err := parseExternalIDs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The chassis settings keep a system-id the host already has.
func TestChassisSettings(t *testing.T) {
	got := chassisSettings(map[string]string{"system-id": "hv7"}, "/run/l/sb.sock", "netdev")
	want := map[string]string{"ovn-remote": "unix:/run/l/sb.sock", "ovn-encap-type": "geneve",
		"ovn-encap-ip": "127.0.0.1", "ovn-bridge-datapath-type": "netdev"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with a system-id (-want +got):\n%s", diff)
	}
	if got := chassisSettings(nil, "/s", "system"); got["system-id"] != "ovnd-lab" {
		t.Errorf("without a system-id: system-id = %q, want ovnd-lab", got["system-id"])
	}
}

// Every name the lab gives the kernel fits IFNAMSIZ and carries the
// prefix the sweep looks for; every ping names demo VIFs.
func TestDemoNames(t *testing.T) {
	for _, v := range demoVIFs {
		if n := v.ns(); len(n) > 15 || !strings.HasPrefix(n, namePrefix) {
			t.Errorf("%s: interface name %q is longer than 15 bytes or lacks %q", v.Port, n, namePrefix)
		}
	}
	for _, p := range demoPings {
		for _, port := range []string{p.from, p.to} {
			if _, err := vifByPort(port); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := vifByPort("vm99"); err == nil {
		t.Error("vifByPort(vm99): no error")
	}
}

func TestPreflightNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root")
	}
	err := preflight(Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "must run as root") {
		t.Errorf("preflight as non-root = %v, want must run as root", err)
	}
}

// A foreign state directory is refused before anything changes.
func TestRunRefusesForeignStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to get past the root check")
	}
	if err := preflight(Options{}); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o644)
	var out strings.Builder
	err := Run(t.Context(), Options{StateDir: dir, Out: &out})
	if !errors.Is(err, errForeignDir) {
		t.Fatalf("Run = %v, want %v", err, errForeignDir)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Errorf("the foreign file is gone: %v", err)
	}
}

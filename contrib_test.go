package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ovnd/ovnd/roles"
)

// The example configs for a split deployment (contrib/, shipped in the
// packages under /usr/share/doc/ovnd/examples) pass `ovnd check` once their
// TLS files exist, and run the roles their comments promise.
func TestContribConfigs(t *testing.T) {
	tests := []struct {
		file  string
		roles []string
		check func(t *testing.T, cfg *roles.Config)
	}{
		{"contrib/central.toml", []string{roles.RoleDatabase, roles.RoleNorthd}, func(t *testing.T, cfg *roles.Config) {
			for _, want := range []struct {
				key     string
				remotes []string
				remote  string
			}{
				{"nb_remotes", cfg.Database.NBRemotes, "pssl:6641"},
				{"nb_remotes", cfg.Database.NBRemotes, "punix:/var/run/ovn/ovnnb_db.sock"},
				{"sb_remotes", cfg.Database.SBRemotes, "pssl:6642"},
				{"sb_remotes", cfg.Database.SBRemotes, "punix:/var/run/ovn/ovnsb_db.sock"},
			} {
				if !slices.Contains(want.remotes, want.remote) {
					t.Errorf("database.%s = %q, want it to contain %q", want.key, want.remotes, want.remote)
				}
			}
			if cfg.Northd.NB != "unix:/var/run/ovn/ovnnb_db.sock" || cfg.Northd.SB != "unix:/var/run/ovn/ovnsb_db.sock" {
				t.Errorf("northd connects to %q and %q, want the local unix sockets", cfg.Northd.NB, cfg.Northd.SB)
			}
		}},
		{"contrib/hypervisor.toml", []string{roles.RoleController}, func(t *testing.T, cfg *roles.Config) {
			if cfg.Controller.OVS != "unix:/var/run/openvswitch/db.sock" {
				t.Errorf("controller.ovs = %q, want the local Open vSwitch socket", cfg.Controller.OVS)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}

			// As shipped, only the TLS files are missing: every other key
			// is valid.
			code, _, stderr := runOVND("check", "--config", tt.file)
			if code != exitError {
				t.Fatalf("ovnd check %s without its TLS files: exit %d, want %d", tt.file, code, exitError)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if !regexp.MustCompile(`: tls\.(private_key|certificate|ca_cert): open /etc/ovnd/pki/[^ ]+\.pem: no such file or directory$`).MatchString(line) {
					t.Errorf("ovnd check %s: unexpected error %q", tt.file, line)
				}
			}

			// With the TLS files in place, the config is valid.
			path := withTLSFiles(t, data)
			code, stdout, stderr := runOVND("check", "--config", path)
			if code != exitOK || stdout != path+": ok\n" {
				t.Fatalf("ovnd check %s: exit %d, stdout %q, stderr %q", tt.file, code, stdout, stderr)
			}
			cfg, err := roles.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.Roles, tt.roles) {
				t.Errorf("roles = %q, want %q", cfg.Roles, tt.roles)
			}
			for _, f := range []string{cfg.TLS.PrivateKey, cfg.TLS.Certificate, cfg.TLS.CACert} {
				if f == "" {
					t.Errorf("[tls] file not set, but the remotes use ssl")
				}
			}
			tt.check(t, cfg)
		})
	}
}

// withTLSFiles writes a copy of the config whose /etc/ovnd/pki/ files live
// in a temp dir, creates those files, and returns the copy's path.
func withTLSFiles(t *testing.T, config []byte) string {
	t.Helper()
	dir := t.TempDir()
	pki := filepath.Join(dir, "pki")
	if err := os.Mkdir(pki, 0o755); err != nil {
		t.Fatal(err)
	}
	text := string(config)
	files := regexp.MustCompile(`"/etc/ovnd/pki/([^"/]+)"`).FindAllStringSubmatch(text, -1)
	if len(files) != 3 {
		t.Fatalf("config names %d files under /etc/ovnd/pki, want the 3 [tls] files", len(files))
	}
	for _, m := range files {
		if err := os.WriteFile(filepath.Join(pki, m[1]), []byte("placeholder PEM\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text = strings.ReplaceAll(text, `"/etc/ovnd/pki/`, `"`+pki+`/`)
	path := filepath.Join(dir, "ovnd.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

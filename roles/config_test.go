package roles

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tlsFiles makes three PEM-named files and returns a [tls] section naming
// them.
func tlsFiles(t *testing.T) string {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("[tls]\n")
	for _, k := range []string{"private_key", "certificate", "ca_cert"} {
		p := filepath.Join(dir, k+".pem")
		if err := os.WriteFile(p, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s = %q\n", k, p)
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		line int    // 0: the key is not in the file
		key  string // "" for syntax errors
		msg  string // a fragment of the message
	}{
		{"syntax", "roles = [\"database\"]\nlog = {", 2, "", "expected"},
		{"duplicate key", "version = 1\nversion = 1\n", 2, "", "already"},
		{"unknown top-level key", "version = 1\nrole = [\"database\"]\n", 2, "role", "unknown key (known keys at the top level: controller, database, log, northd, roles, tls, version)"},
		{"unknown key in table", "[database]\ndir = \"/d\"\nnb_remote = [\"punix:/x\"]\n", 3, "database.nb_remote", "unknown key (known keys in [database]: dir, nb_remotes, sb_remotes)"},
		{"unknown dotted key", "version = 1\ndatabase.socket = \"x\"\n", 2, "database.socket", "unknown key"},
		{"unknown table", "[database]\ndir = \"/d\"\n\n[dhcp]\nlease = 3\n", 4, "dhcp", "unknown key"},
		{"unknown key in inline table", "tls = { private_key = \"\", cert = \"x\" }\n", 1, "tls.cert", "unknown key"},
		{"version wrong type", "version = \"1\"\n", 1, "version", "wrong type: want integer, got string"},
		{"roles wrong type", "\nroles = \"database\"\n", 2, "roles", "want array of strings, got string"},
		{"roles element wrong type", "roles = [\"database\", 2]\n", 1, "roles[1]", "want string, got integer"},
		{"dir wrong type", "[database]\ndir = 3\n", 2, "database.dir", "want string, got integer"},
		{"remotes element wrong type", "[database]\nnb_remotes = [\n  \"punix:/a\",\n  true,\n]\n", 4, "database.nb_remotes[1]", "want string, got boolean"},
		{"section wrong type", "database = \"x\"\n", 1, "database", "want table, got string"},
		{"array of tables", "[[database]]\ndir = \"/x\"\n", 1, "database", "want table, got array of tables"},
		{"level wrong type", "[log]\nlevel = 1.5\n", 2, "log.level", "want string, got float"},
		{"version 2", "# comment\nversion = 2\n", 2, "version", "unsupported config version 2"},
		{"version 0", "version = 0\n", 1, "version", "unsupported config version 0"},
		{"bad log level", "[log]\n\nlevel = \"verbose\"\n", 3, "log.level", `unknown level "verbose"`},
		{"empty roles", "roles = []\n", 1, "roles", "empty"},
		{"unknown role", "roles = [\"database\", \"dhcp\"]\n", 1, "roles[1]", `unknown role "dhcp"`},
		{"duplicate role", "roles = [\"northd\", \"database\", \"northd\"]\n", 1, "roles[2]", `duplicate role "northd"`},
		{"empty dir", "[database]\ndir = \"\"\n", 2, "database.dir", "must not be empty"},
		{"bad remote", "[database]\nnb_remotes = [\"punix:/a\", \"x\"]\n", 2, "database.nb_remotes[1]", `remote "x": want punix:PATH`},
		{"bad remote in multi-line array", "[database]\nnb_remotes = [\n  \"punix:/a\", # the socket, [x]\n\n  'ptcp:x',\n]\n", 5, "database.nb_remotes[1]", `remote "ptcp:x": bad port`},
		{"bad remote port", "[database]\nsb_remotes = [\"ptcp:70000\"]\n", 2, "database.sb_remotes[0]", `remote "ptcp:70000": bad port`},
		{"empty remotes", "[database]\nsb_remotes = []\n", 2, "database.sb_remotes", "empty"},
		{"remote in nb and sb", "[database]\nnb_remotes = [\"ptcp:6641\"]\nsb_remotes = [\"ptcp:6641\"]\n", 3, "database.sb_remotes[0]", "already used by database.nb_remotes[0]"},
		{"pssl without tls", "[database]\nnb_remotes = [\"pssl:6641\"]\n", 2, "database.nb_remotes[0]", "not set: tls.private_key, tls.certificate, tls.ca_cert"},
		{"pssl with some tls", "[tls]\nprivate_key = \"/etc/hostname\"\n[database]\nnb_remotes = [\"punix:/a\", \"pssl:6641\"]\n", 4, "database.nb_remotes[1]", "not set: tls.certificate, tls.ca_cert"},
		{"tls file missing", "[tls]\ncertificate = \"/nonexistent/cert.pem\"\n", 2, "tls.certificate", "no such file"},
		{"tls file is a directory", "[tls]\nca_cert = \"/\"\n", 2, "tls.ca_cert", "is a directory"},
		{"northd bad remote", "[northd]\nnb = \"tcp:6641\"\n", 2, "northd.nb", `remote "tcp:6641"`},
		{"northd ssl without tls", "[northd]\nsb = \"unix:/a,ssl:10.0.0.1:6642\"\n", 2, "northd.sb", "not set: tls.private_key"},
		{"controller bad remote", "[controller]\novs = \"punix:/x\"\n", 2, "controller.ovs", `unknown kind "punix"`},
		{"multi-line string before key", "[tls]\nprivate_key = \"\"\"\nfoo = 1\n\"\"\"\nbogus = 1\n", 5, "tls.bogus", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("ovnd.toml", []byte(tt.toml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error naming %q", tt.key)
			}
			want := fmt.Sprintf("ovnd.toml:%d: ", tt.line)
			if tt.key != "" {
				want += tt.key + ": "
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error:\n%v\nwant it to contain %q and %q", err, want, tt.msg)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not a *ConfigError", err)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse("c.toml", []byte("roles = [\"x\"]\n[log]\nlevel = \"loud\"\n"))
	want := "c.toml:3: log.level: unknown level \"loud\" (want debug, info, warn or error)\n" +
		"c.toml:1: roles[0]: unknown role \"x\" (want one of database, northd, controller)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestParseDefaults(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "[database]\n", "version = 1\n"} {
		cfg, err := Parse("ovnd.toml", []byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		if diff := cmp.Diff(Default(), cfg); diff != "" {
			t.Errorf("Parse(%q) is not Default() (-want +got):\n%s", text, diff)
		}
	}
}

func TestParseFull(t *testing.T) {
	text := `version = 1
roles = ["controller", "database"]
log.level = "debug"
[database]
dir = "/srv/ovn"
nb_remotes = ["punix:/run/nb.sock", "ptcp:6641:127.0.0.1", "pssl:6643:[::1]"]
sb_remotes = [
  "punix:/run/sb.sock", # comments inside arrays are fine
  "ptcp:6642",
]
[northd]
nb = "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641"
sb = "ssl:[fd00::1]:6642"
[controller]
ovs = "unix:/run/ovs.sock"
` + tlsFiles(t)
	cfg, err := Parse("ovnd.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Version: 1,
		Roles:   []string{"controller", "database"},
		Log:     LogConfig{Level: "debug"},
		Database: DatabaseConfig{
			Dir:       "/srv/ovn",
			NBRemotes: []string{"punix:/run/nb.sock", "ptcp:6641:127.0.0.1", "pssl:6643:[::1]"},
			SBRemotes: []string{"punix:/run/sb.sock", "ptcp:6642"},
		},
		TLS:        cfg.TLS, // temporary paths, checked below
		Northd:     NorthdConfig{NB: "tcp:10.0.0.1:6641,tcp:10.0.0.2:6641", SB: "ssl:[fd00::1]:6642"},
		Controller: ControllerConfig{OVS: "unix:/run/ovs.sock"},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(cfg.TLS.PrivateKey, "private_key.pem") || !strings.HasSuffix(cfg.TLS.CACert, "ca_cert.pem") {
		t.Errorf("TLS = %+v", cfg.TLS)
	}
}

// Decoding must not write through the slices of an earlier Default().
func TestParseLeavesDefaultsAlone(t *testing.T) {
	before := Default()
	if _, err := Parse("ovnd.toml", []byte("[database]\nnb_remotes = [\"ptcp:1\"]\n")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, Default()); diff != "" {
		t.Errorf("Default() changed (-before +after):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ovnd.toml")
	if err := os.WriteFile(path, []byte("roles = [\"database\", \"northd\"]\n[log]\nlevel = \"warn\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.HasRole(RoleNorthd) || cfg.HasRole(RoleController) || cfg.Log.SlogLevel().String() != "WARN" {
		t.Errorf("Load = %+v", cfg)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil || !strings.Contains(err.Error(), "read config: open ") {
		t.Errorf("Load(missing) error = %v", err)
	}
	if err := os.WriteFile(path, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+":1: x: unknown key (known keys at the top level") {
		t.Errorf("Load(bad) error = %v", err)
	}
}

func TestKeyLines(t *testing.T) {
	text := `# a comment with key = value
version = 1
[ database ]
dir = """
nb_remotes = "not a key"
"""
nb_remotes = [
  "a=b", # comment ]
  "c\"]", 'd]', [1, 2],
]
a . b = 2
[[x.y]]
"quoted" = 1
`
	got := keyLines([]byte(text))
	want := lineIndex{"version": 2, "database": 3, "database.dir": 4, "database.nb_remotes": 7,
		"database.nb_remotes[0]": 8, "database.nb_remotes[1]": 9, "database.nb_remotes[2]": 9, "database.nb_remotes[3]": 9,
		"database.a.b": 11, "x.y": 12}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for key, line := range map[string]int{"database.nb_remotes[3]": 9, "database.nb_remotes[4]": 7, "database.a.c": 3, "x.y.quoted": 12, "nope": 0} {
		if n := got.find(key); n != line {
			t.Errorf("find(%q) = %d, want %d", key, n, line)
		}
	}
}

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// buildTestPackages packages a stand-in binary with the real nfpm.yaml,
// units, scripts and configs of this repository.
func buildTestPackages(t *testing.T) (deb, rpm string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ovnd")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'ovnd test'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths, err := Build(Options{
		Root: "../..", Config: "packaging/nfpm.yaml", Binary: bin,
		Version: Version{Base: "1.2.3", Metadata: "git5.abcdef0"},
		Arch:    "amd64", OutDir: filepath.Join(dir, "dist"), Formats: Formats,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(dir, "dist", "ovnd_1.2.3+git5.abcdef0_amd64.deb"),
		filepath.Join(dir, "dist", "ovnd-1.2.3+git5.abcdef0-1.x86_64.rpm"),
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("Build wrote %q, want %q", paths, want)
	}
	return paths[0], paths[1]
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Files both packages install, besides the unit.
var commonFiles = []string{
	"/etc/ovnd/ovnd.toml",
	"/usr/bin/ovnd",
	"/usr/share/doc/ovnd/README.md",
	"/usr/share/doc/ovnd/examples/central.toml",
	"/usr/share/doc/ovnd/examples/hypervisor.toml",
	"/usr/share/doc/ovnd/examples/systemd/central.conf",
	"/usr/share/doc/ovnd/examples/systemd/hypervisor.conf",
	"/usr/share/doc/ovnd/ovnd.toml.example",
}

func TestDeb(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb to read the .deb with")
	}
	deb, _ := buildTestPackages(t)

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(output(t, "dpkg-deb", "--contents", deb)), "\n") {
		f := strings.Fields(line)
		if name := strings.TrimPrefix(f[len(f)-1], "."); !strings.HasSuffix(name, "/") {
			got = append(got, f[0]+" "+name)
		}
	}
	var want []string
	for _, f := range append(commonFiles, "/lib/systemd/system/ovnd.service", "/usr/share/doc/ovnd/copyright") {
		mode := "-rw-r--r--"
		if f == "/usr/bin/ovnd" {
			mode = "-rwxr-xr-x"
		}
		want = append(want, mode+" "+f)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("deb files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	fields := map[string]string{
		"Package":      "ovnd",
		"Version":      "1.2.3+git5.abcdef0",
		"Architecture": "amd64",
		"Recommends":   "openvswitch-switch",
		"Suggests":     "ovn-common",
		"Depends":      "",
	}
	for field, want := range fields {
		if got := strings.TrimSpace(output(t, "dpkg-deb", "--field", deb, field)); got != want {
			t.Errorf("deb %s: %q, want %q", field, got, want)
		}
	}

	ctl := t.TempDir()
	output(t, "dpkg-deb", "--control", deb, ctl)
	if got, _ := os.ReadFile(filepath.Join(ctl, "conffiles")); string(got) != "/etc/ovnd/ovnd.toml\n" {
		t.Errorf("conffiles = %q, want /etc/ovnd/ovnd.toml only", got)
	}
	for name, src := range map[string]string{"postinst": "postinst", "prerm": "prerm", "postrm": "postrm"} {
		checkScript(t, filepath.Join(ctl, name), "../scripts/deb/"+src)
	}
	if _, err := os.Stat(filepath.Join(ctl, "preinst")); err == nil {
		t.Errorf("deb has a preinst; none is declared")
	}
}

func TestRPM(t *testing.T) {
	if _, err := exec.LookPath("rpm"); err != nil {
		t.Skip("no rpm to read the .rpm with (apt-get install rpm)")
	}
	_, rpm := buildTestPackages(t)

	got := strings.Split(strings.TrimRight(output(t, "rpm", "-qp", "--qf", `[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILENAMES}\n]`, rpm), "\n"), "\n")
	var want []string
	for _, f := range append(commonFiles, "/usr/lib/systemd/system/ovnd.service") {
		line := " -rw-r--r-- " + f
		switch f {
		case "/usr/bin/ovnd":
			line = " -rwxr-xr-x " + f
		case "/etc/ovnd/ovnd.toml":
			line = "cn -rw-r--r-- " + f // %config(noreplace)
		}
		want = append(want, line)
	}
	want = append(want, " drwxr-xr-x /etc/ovnd", "l -rw-r--r-- /usr/share/licenses/ovnd/LICENSE") // %license
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rpm files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for query, want := range map[string]string{
		"%{NAME} %{VERSION} %{RELEASE} %{ARCH}": "ovnd 1.2.3+git5.abcdef0 1 x86_64",
		"[%{RECOMMENDNAME} ]":                   "openvswitch ",
		"[%{SUGGESTNAME} ]":                     "ovn ",
		"[%{REQUIRENAME} ]":                     "",
		"%{LICENSE}":                            "Apache-2.0",
	} {
		if got := output(t, "rpm", "-qp", "--qf", query, rpm); got != want {
			t.Errorf("rpm %s = %q, want %q", query, got, want)
		}
	}

	scripts := output(t, "rpm", "-qp", "--scripts", rpm)
	for _, s := range []struct{ header, src string }{
		{"postinstall scriptlet (using /bin/sh):", "post"},
		{"preuninstall scriptlet (using /bin/sh):", "preun"},
		{"postuninstall scriptlet (using /bin/sh):", "postun"},
	} {
		body, err := os.ReadFile("../scripts/rpm/" + s.src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(scripts, s.header+"\n"+string(body)) {
			t.Errorf("rpm --scripts lacks %q with the body of scripts/rpm/%s:\n%s", s.header, s.src, scripts)
		}
	}
	if strings.Contains(scripts, "preinstall scriptlet") {
		t.Errorf("rpm has a %%pre; none is declared")
	}
}

// checkScript compares a maintainer script in a package with its source.
func checkScript(t *testing.T, inPackage, source string) {
	t.Helper()
	got, err := os.ReadFile(inPackage)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s", filepath.Base(inPackage), source)
	}
	if st, err := os.Stat(inPackage); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable", filepath.Base(inPackage))
	}
}

// The maintainer scripts never start or enable the service: the config must
// name this host's roles first.
func TestScriptsDoNotStartService(t *testing.T) {
	scripts, err := filepath.Glob("../scripts/*/*")
	if err != nil || len(scripts) != 6 {
		t.Fatalf("scripts: %q, %v; want 3 deb and 3 rpm scripts", scripts, err)
	}
	for _, s := range scripts {
		body, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"systemctl start", "systemctl enable", "systemctl restart", "--now ovnd", "enable --now", "deb-systemd-invoke start"} {
			if strings.Contains(string(body), bad) {
				t.Errorf("%s runs %q", s, bad)
			}
		}
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "ovnd")
	if err := os.WriteFile(notExec, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing binary", Options{Root: "../..", Config: "packaging/nfpm.yaml", Binary: filepath.Join(dir, "nope")}, "binary: stat"},
		{"binary not executable", Options{Root: "../..", Config: "packaging/nfpm.yaml", Binary: notExec}, "not an executable file"},
		{"missing config", Options{Root: dir, Config: "nfpm.yaml", Binary: "/bin/sh"}, "read nfpm.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.OutDir, tt.o.Formats, tt.o.Arch = filepath.Join(dir, "out"), Formats, "amd64"
			tt.o.Version = Version{Base: "1.0.0"}
			if _, err := Build(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if err := run([]string{"-binary", "/bin/sh", "-version", "dev"}, os.Stdout); err == nil || !strings.Contains(err.Error(), "not a package version") {
		t.Errorf("run -version dev: %v, want a version error", err)
	}
	if err := run([]string{"-version", "v1.0.0"}, os.Stdout); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("run without -binary: %v, want an error naming it", err)
	}
}

// The same inputs and SOURCE_DATE_EPOCH (which .ci/package sets to the last
// commit's time) give byte-identical packages.
func TestReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	deb1, rpm1 := buildTestPackages(t)
	deb2, rpm2 := buildTestPackages(t)
	for _, pair := range [][2]string{{deb1, deb2}, {rpm1, rpm2}} {
		a, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds differ", filepath.Base(pair[0]))
		}
	}
}

package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

func runOVND(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ovnd.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandLine(t *testing.T) {
	good := writeConfig(t, "roles = [\"database\"]\n")
	bad := writeConfig(t, "roles = [\"database\"]\n[database]\nnb_remotes = [\"tcp:6641\"]\n")
	tests := []struct {
		args   []string
		code   int
		stdout string // a fragment; "" means stdout must be empty
		stderr string // a fragment; "" means stderr must be empty
	}{
		{nil, exitUsage, "", "usage: ovnd <command>"},
		{[]string{"help"}, exitOK, "usage: ovnd <command>", ""},
		{[]string{"--help"}, exitOK, "usage: ovnd <command>", ""},
		{[]string{"version"}, exitOK, "ovnd dev " + runtime.Version(), ""},
		{[]string{"version", "x"}, exitUsage, "", "unexpected arguments"},
		{[]string{"frobnicate"}, exitUsage, "", `ovnd: unknown command "frobnicate"; run 'ovnd help' for usage`},
		{[]string{"run", "--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{[]string{"run", "--config", good, "extra"}, exitUsage, "", `unexpected arguments ["extra"]`},
		{[]string{"run", "-h"}, exitOK, "", "-config string"},
		{[]string{"run", "--config", "/nonexistent/ovnd.toml"}, exitError, "", "ovnd: read config: open /nonexistent/ovnd.toml"},
		{[]string{"run", "--config", bad}, exitError, "", bad + `:3: database.nb_remotes[0]: remote "tcp:6641"`},
		{[]string{"check", "--config", good}, exitOK, good + ": ok", ""},
		{[]string{"check", "--config", bad}, exitError, "", bad + ":3: database.nb_remotes[0]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runOVND(tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, tt.code, stderr)
			}
			check := func(name, got, want string) {
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s:\n%s\nwant it to contain %q", name, got, want)
				}
			}
			check("stdout", stdout, tt.stdout)
			check("stderr", stderr, tt.stderr)
		})
	}
}

// Every line of a multi-line error is prefixed, so none is lost in a log.
func TestRunPrintsEveryConfigError(t *testing.T) {
	path := writeConfig(t, "roles = []\n[log]\nlevel = \"loud\"\n")
	code, _, stderr := runOVND("run", "--config", path)
	want := "ovnd: " + path + ":3: log.level: unknown level \"loud\" (want debug, info, warn or error)\n" +
		"ovnd: " + path + ":1: roles: empty: name at least one of database, northd, controller\n"
	if code != exitError || stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
}

func TestSdNotify(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	log := slog.New(slog.DiscardHandler)
	sdNotify(log, daemon.SdNotifyReady)
	sdNotify(log, daemon.SdNotifyStopping)
	for _, want := range []string{"READY=1", "STOPPING=1"} {
		buf := make([]byte, 64)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("read %q, %v; want %q", buf[:n], err, want)
		}
	}
	// Without NOTIFY_SOCKET it is a no-op, not an error.
	t.Setenv("NOTIFY_SOCKET", "")
	var logged bytes.Buffer
	sdNotify(slog.New(slog.NewTextHandler(&logged, nil)), daemon.SdNotifyReady)
	if logged.Len() != 0 {
		t.Errorf("sdNotify without NOTIFY_SOCKET logged %q", logged.String())
	}
}

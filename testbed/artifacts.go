package testbed

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// artifactsDir returns the directory for this test's artifacts:
// $OVND_E2E_ARTIFACTS/<test name>, or one under a new temporary directory.
func (tb *Topology) artifactsDir(t testing.TB) string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.artifacts == "" {
		base := os.Getenv("OVND_E2E_ARTIFACTS")
		if base == "" {
			var err error
			if base, err = os.MkdirTemp("", "ovnd-e2e-artifacts-"); err != nil {
				base = os.TempDir()
			}
		}
		tb.artifacts = filepath.Join(base, tb.Run)
	}
	dir := filepath.Join(tb.artifacts, sanitize(t.Name()))
	_ = os.MkdirAll(dir, 0o755)
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func sanitize(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// saveArtifacts copies the run directory's logs, configs and databases
// into the artifacts directory and prints where they are.
func (tb *Topology) saveArtifacts(t testing.TB) {
	dst := filepath.Join(tb.artifactsDir(t), "run")
	_ = filepath.WalkDir(tb.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(tb.Dir, path)
		return copyFile(path, filepath.Join(dst, rel))
	})
	t.Logf("testbed: daemon logs and databases kept in %s", dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return nil // a file that went away is not worth failing over
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	_, err = io.Copy(out, in)
	return err
}

// Dump writes the state of the topology (NB, SB, logical flows, every
// chassis's bridges and OpenFlow tables, every daemon's log) to a file in
// the artifacts directory and logs a summary: the NB and SB overviews and
// the tail of every daemon's log.
func (tb *Topology) Dump(t testing.TB, reason string) {
	t.Helper()
	tb.mu.Lock()
	tb.dumps++
	n := tb.dumps
	tb.mu.Unlock()
	var full, summary strings.Builder
	fmt.Fprintf(&full, "reason: %s\nconfig: %s\nrun: %s\n", reason, tb.Config, tb.Run)
	if tb.Central != nil {
		nb := section(&full, "NB (ovn-nbctl show)", tryRun(tb.nbctl("show")))
		sb := section(&full, "SB (ovn-sbctl show)", tryRun(tb.sbctl("show")))
		section(&full, "NB database", tryRun(run("", nil, "ovsdb-client", "dump", tb.Central.NBRemote(), "OVN_Northbound")))
		section(&full, "SB port bindings", tryRun(tb.sbctl("list", "Port_Binding")))
		section(&full, "SB logical flows", tryRun(tb.sbctl("lflow-list")))
		fmt.Fprintf(&summary, "--- NB ---\n%s\n--- SB ---\n%s\n", nb, sb)
	}
	for _, c := range tb.Chassis {
		section(&full, c.Name+": ovs-vsctl show", tryRun(c.VSCtl("show")))
		section(&full, c.Name+": OpenFlow br-int", tryRun(c.OFCtl("dump-flows", "br-int")))
		section(&full, c.Name+": OpenFlow groups br-int", tryRun(c.OFCtl("dump-groups", "br-int")))
	}
	for _, d := range tb.daemons() {
		logs := daemonLogs(d)
		for i, f := range logs {
			body := readFile(f)
			section(&full, "log "+f, body)
			n := 10
			if i == 0 && len(logs) > 1 {
				n = 3 // console output, mostly repeated in the log file
			}
			fmt.Fprintf(&summary, "--- %s (tail) ---\n%s\n", filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), tail(body, n))
		}
	}
	path := filepath.Join(tb.artifactsDir(t), fmt.Sprintf("dump-%02d.txt", n))
	if err := os.WriteFile(path, []byte(full.String()), 0o644); err != nil {
		t.Logf("testbed: write dump: %v", err)
	}
	t.Logf("testbed dump (%s):\n%s\nfull dump with OpenFlow tables and logical flows: %s", reason, summary.String(), path)
}

// daemonLogs lists a daemon's log file (--log-file, when it has one) and
// the file with its stdout and stderr.
func daemonLogs(d *daemon) []string {
	files := []string{d.Output}
	for _, a := range d.Cmd.Args {
		if f, ok := strings.CutPrefix(a, "--log-file="); ok {
			files = append(files, f)
		}
	}
	return files
}

func section(b *strings.Builder, title, body string) string {
	fmt.Fprintf(b, "\n===== %s =====\n%s\n", title, body)
	return body
}

func tryRun(out string, err error) string {
	if err != nil {
		return fmt.Sprintf("%s(error: %v)", out, err)
	}
	return out
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(error: %v)", err)
	}
	return string(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

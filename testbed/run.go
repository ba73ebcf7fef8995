package testbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// namePrefix starts every namespace, run directory and interface name the
// test bed creates, followed by the run id.
const namePrefix = "ovt"

// runNameRE matches a run's name ("ovt" + 4 hex digits) at the start of a
// namespace or directory name.
var runNameRE = regexp.MustCompile(`^(` + namePrefix + `[0-9a-f]{4})(-|$)`)

// baseDir holds one directory per run. It is short on purpose: unix socket
// paths inside it must stay under 108 bytes.
func baseDir() string { return filepath.Join("/tmp", "ovnd-tb") }

// ownerFile names the file in a run directory holding the owner's pid.
const ownerFile = "owner.pid"

// newRun picks an unused run name and creates its directory with this
// process recorded as its owner. The directory appears under its run name
// only with the owner file in it, so that a concurrent sweep never takes
// it for the leftover of a dead run.
func newRun() (name, dir string, err error) {
	if err := os.MkdirAll(baseDir(), 0o755); err != nil {
		return "", "", fmt.Errorf("create run base: %w", err)
	}
	tmp, err := os.MkdirTemp(baseDir(), "new-")
	if err != nil {
		return "", "", fmt.Errorf("create run dir: %w", err)
	}
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(tmp, ownerFile), []byte(pid), 0o644); err != nil {
		_ = os.RemoveAll(tmp)
		return "", "", fmt.Errorf("record run owner: %w", err)
	}
	for range 16 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		name = namePrefix + hex.EncodeToString(b)
		dir = filepath.Join(baseDir(), name)
		if _, err := os.Lstat(dir); err == nil || len(matchNetns(name)) > 0 {
			continue // taken, or its leftovers still wait for a sweep
		}
		if err := os.Rename(tmp, dir); err == nil {
			return name, dir, nil
		}
	}
	_ = os.RemoveAll(tmp)
	return "", "", fmt.Errorf("no free run name under %s", baseDir())
}

// matchNetns lists the namespaces of run.
func matchNetns(run string) []string {
	var names []string
	for _, ns := range listNetns() {
		if m := runNameRE.FindStringSubmatch(ns); m != nil && m[1] == run {
			names = append(names, ns)
		}
	}
	return names
}

// runAlive reports whether the process that owns run still exists.
func runAlive(run string) bool {
	b, err := os.ReadFile(filepath.Join(baseDir(), run, ownerFile))
	if err != nil {
		return false
	}
	return pidAlive(string(b))
}

// pidAlive reports whether the process with the decimal pid s exists.
func pidAlive(s string) bool {
	pid, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || pid <= 0 {
		return false
	}
	return pid == os.Getpid() || syscall.Kill(pid, 0) == nil
}

// sweep removes what earlier runs left behind when their process died
// without cleaning up: their processes, namespaces and directories. Runs
// whose owner is still alive (a parallel test process) are left alone.
func sweep(logf func(string, ...any)) {
	dead := map[string]bool{}
	for _, n := range listRuns() {
		if !runAlive(n) {
			dead[n] = true
		}
	}
	for run := range dead {
		killRunProcesses(run)
	}
	for _, ns := range listNetns() {
		if m := runNameRE.FindStringSubmatch(ns); m != nil && dead[m[1]] {
			if _, err := run("", nil, "ip", "netns", "del", ns); err != nil {
				logf("sweep: %v", err)
			}
		}
	}
	for run := range dead {
		logf("sweep: removed leftovers of dead run %s", run)
		_ = os.RemoveAll(filepath.Join(baseDir(), run))
	}
	// Directories of runs that died before they got their name, and ovnd
	// binaries built by test processes that have exited.
	entries, _ := os.ReadDir(baseDir())
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "new-") && !runAlive(n) ||
			strings.HasPrefix(n, "bin-") && !pidAlive(strings.TrimPrefix(n, "bin-")) {
			_ = os.RemoveAll(filepath.Join(baseDir(), n))
		}
	}
}

// listRuns names every run that has a directory or a namespace.
func listRuns() []string {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(baseDir())
	for _, e := range entries {
		seen[e.Name()] = true
	}
	for _, ns := range listNetns() {
		if m := runNameRE.FindStringSubmatch(ns); m != nil {
			seen[m[1]] = true
		}
	}
	var runs []string
	for n := range seen {
		if runNameRE.MatchString(n) {
			runs = append(runs, n)
		}
	}
	return runs
}

// killRunProcesses kills every process whose command line mentions run's
// directory (all daemons of a run get paths inside it) and returns their
// command lines.
func killRunProcesses(run string) []string {
	var killed []string
	needle := []byte(filepath.Join(baseDir(), run) + "/")
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, needle) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed = append(killed, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return killed
}

// listNetns lists the named network namespaces.
func listNetns() []string {
	entries, _ := os.ReadDir("/run/netns")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

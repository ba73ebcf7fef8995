package interop

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Target names which server the suite drives.
type Target string

// The targets the suite knows.
const (
	TargetOVND        Target = "ovnd"
	TargetOVSDBServer Target = "ovsdb-server"
)

// DefaultTarget is the target when OVND_INTEROP_TARGET is unset. It is the
// one switch to flip to TargetOVND once ovnd's database role serves.
const DefaultTarget = TargetOVND

// TargetEnv is the environment variable that overrides DefaultTarget.
const TargetEnv = "OVND_INTEROP_TARGET"

// Schema files of the installed OVN, used to create reference databases.
const (
	NBSchema = "/usr/share/ovn/ovn-nb.ovsschema"
	SBSchema = "/usr/share/ovn/ovn-sb.ovsschema"
)

// File names inside a server's state dir; the same for both targets so
// that files can move between them.
const (
	NBFile = "ovnnb_db.db"
	SBFile = "ovnsb_db.db"
)

// readyTimeout bounds how long a server may take to accept connections.
const readyTimeout = 5 * time.Second

// stopTimeout bounds how long a server may take to exit after SIGTERM.
const stopTimeout = 5 * time.Second

// TargetFromEnv returns the target chosen by OVND_INTEROP_TARGET.
func TargetFromEnv() (Target, error) {
	switch v := os.Getenv(TargetEnv); v {
	case "":
		return DefaultTarget, nil
	case string(TargetOVND), string(TargetOVSDBServer):
		return Target(v), nil
	default:
		return "", fmt.Errorf("%s=%q: want %q or %q", TargetEnv, v, TargetOVND, TargetOVSDBServer)
	}
}

// Options shape a server start.
type Options struct {
	// TCP makes the server also listen on 127.0.0.1 ports chosen here.
	TCP bool
	// TLS makes the server also listen for SSL on 127.0.0.1 ports chosen
	// here, with certificates from a throwaway PKI (Server.PKI).
	TLS bool
	// NBFile and SBFile, when set, are copied in as the initial database
	// files instead of creating empty ones.
	NBFile, SBFile string
}

// Server is one running (or stopped) database server serving OVN_Northbound
// and OVN_Southbound on unix sockets in its own temp dir.
type Server struct {
	Target Target
	// Dir is the server's temp dir; StateDir holds the database files.
	Dir, StateDir string
	// NBSock and SBSock are the unix socket paths.
	NBSock, SBSock string
	// NBTCP and SBTCP are host:port when Options.TCP was set. For
	// ovsdb-server both name one port serving both databases.
	NBTCP, SBTCP string
	// NBSSL and SBSSL are host:port when Options.TLS was set, like NBTCP.
	NBSSL, SBSSL string
	// PKI holds the certificates when Options.TLS was set.
	PKI *PKI

	logPath string
	proc    *process
}

// NB is the NB remote in client syntax.
func (s *Server) NB() string { return "unix:" + s.NBSock }

// SB is the SB remote in client syntax.
func (s *Server) SB() string { return "unix:" + s.SBSock }

// StartTarget starts a server of the target chosen by the environment.
func StartTarget(t testing.TB, opts Options) *Server {
	t.Helper()
	target, err := TargetFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return StartServer(t, target, opts)
}

// StartServer starts a server of the given target. It fails the test if
// the server cannot be built or started or does not accept connections
// within a few seconds. The server is stopped in t.Cleanup, and its log
// tail is printed if the test failed.
func StartServer(t testing.TB, target Target, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{
		Target:   target,
		Dir:      dir,
		StateDir: filepath.Join(dir, "state"),
		NBSock:   filepath.Join(dir, "nb.sock"),
		SBSock:   filepath.Join(dir, "sb.sock"),
		logPath:  filepath.Join(dir, string(target)+".log"),
	}
	if opts.TCP {
		s.NBTCP = freeTCPAddr(t)
		s.SBTCP = s.NBTCP
		if target == TargetOVND {
			s.SBTCP = freeTCPAddr(t)
		}
	}
	if opts.TLS {
		s.NBSSL = freeTCPAddr(t)
		s.SBSSL = s.NBSSL
		if target == TargetOVND {
			s.SBSSL = freeTCPAddr(t)
		}
		pki, err := NewPKI(dir)
		if err != nil {
			t.Fatalf("make certificates: %v", err)
		}
		s.PKI = pki
	}
	if err := s.prepare(t, opts); err != nil {
		t.Fatalf("prepare %s: %v", target, err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("%s log tail (%s):\n%s", s.Target, s.logPath, s.LogTail(40))
		}
	})
	s.Start(t)
	return s
}

func (s *Server) prepare(t testing.TB, opts Options) error {
	if err := os.MkdirAll(s.StateDir, 0o755); err != nil {
		return err
	}
	if err := seedFile(filepath.Join(s.StateDir, NBFile), opts.NBFile, s.Target, NBSchema); err != nil {
		return err
	}
	if err := seedFile(filepath.Join(s.StateDir, SBFile), opts.SBFile, s.Target, SBSchema); err != nil {
		return err
	}
	if s.Target == TargetOVND {
		return os.WriteFile(s.configPath(), []byte(s.ovndConfig()), 0o644)
	}
	return nil
}

// seedFile puts the initial database at dst: a copy of src if given, an
// empty database made by ovsdb-tool for ovsdb-server, or nothing for ovnd,
// which creates its own files.
func seedFile(dst, src string, target Target, schema string) error {
	if src != "" {
		return copyFile(dst, src)
	}
	if target == TargetOVND {
		return nil
	}
	out, err := exec.Command("ovsdb-tool", "create", dst, schema).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ovsdb-tool create %s: %v: %s", dst, err, out)
	}
	return nil
}

// Start (re)starts the server on its existing files and waits until both
// sockets accept connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	cmd, err := s.command()
	if err != nil {
		t.Fatalf("%s: %v", s.Target, err)
	}
	s.proc, err = startProcess(cmd, s.logPath)
	if err != nil {
		t.Fatalf("start %s: %v", s.Target, err)
	}
	if err := s.waitReady(readyTimeout); err != nil {
		s.Kill()
		t.Fatalf("%s did not become ready within %v: %v (its log tail follows)", s.Target, readyTimeout, err)
	}
}

func (s *Server) command() (*exec.Cmd, error) {
	if s.Target == TargetOVND {
		bin, err := OVNDBinary()
		if err != nil {
			return nil, err
		}
		return exec.Command(bin, "run", "--config", s.configPath()), nil
	}
	return exec.Command("ovsdb-server", s.ovsdbServerArgs()...), nil
}

func (s *Server) ovsdbServerArgs() []string {
	args := []string{
		filepath.Join(s.StateDir, NBFile),
		filepath.Join(s.StateDir, SBFile),
		"--remote=punix:" + s.NBSock,
		"--remote=punix:" + s.SBSock,
		"--remote=db:OVN_Northbound,NB_Global,connections",
		"--remote=db:OVN_Southbound,SB_Global,connections",
		"--pidfile=" + filepath.Join(s.Dir, "ovsdb-server.pid"),
		"--log-file=" + s.logPath,
		"-vconsole:off",
		"--unixctl=" + filepath.Join(s.Dir, "ovsdb-server.ctl"),
	}
	if s.NBTCP != "" {
		args = append(args, "--remote="+ptcp(s.NBTCP))
	}
	if s.PKI != nil {
		args = append(args, "--remote="+pssl(s.NBSSL), "--private-key="+s.PKI.ServerKey,
			"--certificate="+s.PKI.ServerCert, "--ca-cert="+s.PKI.CACert)
	} else {
		// As ovn-ctl starts the NB server: keys from the SSL table, which
		// ovn-nbctl set-ssl fills.
		args = append(args, "--private-key=db:OVN_Northbound,SSL,private_key",
			"--certificate=db:OVN_Northbound,SSL,certificate", "--ca-cert=db:OVN_Northbound,SSL,ca_cert")
	}
	return args
}

func (s *Server) configPath() string { return filepath.Join(s.Dir, "ovnd.toml") }

func (s *Server) ovndConfig() string {
	nb := []string{"punix:" + s.NBSock}
	sb := []string{"punix:" + s.SBSock}
	if s.NBTCP != "" {
		nb = append(nb, ptcp(s.NBTCP))
		sb = append(sb, ptcp(s.SBTCP))
	}
	if s.PKI != nil {
		nb = append(nb, pssl(s.NBSSL))
		sb = append(sb, pssl(s.SBSSL))
	}
	cfg := fmt.Sprintf("roles = [\"database\"]\n[database]\ndir = %q\nnb_remotes = %s\nsb_remotes = %s\n",
		s.StateDir, tomlList(nb), tomlList(sb))
	if s.PKI != nil {
		cfg += fmt.Sprintf("[tls]\nprivate_key = %q\ncertificate = %q\nca_cert = %q\n",
			s.PKI.ServerKey, s.PKI.ServerCert, s.PKI.CACert)
	}
	return cfg
}

func tomlList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = fmt.Sprintf("%q", it)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// ptcp turns 127.0.0.1:PORT into ptcp:PORT:127.0.0.1.
func ptcp(addr string) string { return passive("ptcp", addr) }

// pssl turns 127.0.0.1:PORT into pssl:PORT:127.0.0.1.
func pssl(addr string) string { return passive("pssl", addr) }

func passive(kind, addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return kind + ":" + port + ":" + host
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, sock := range []string{s.NBSock, s.SBSock} {
		if err := s.waitSocket(sock, deadline); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) waitSocket(path string, deadline time.Time) error {
	for {
		if s.proc.exited() {
			return fmt.Errorf("process exited: %v", s.proc.err)
		}
		c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for the server to exit, failing the test if
// it does not exit in time or exits uncleanly.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.proc == nil {
		return
	}
	err := s.proc.stop(stopTimeout)
	s.proc = nil
	if err != nil {
		t.Fatalf("stop %s: %v", s.Target, err)
	}
}

// Kill stops the server with SIGKILL if it still runs.
func (s *Server) Kill() {
	if s.proc != nil {
		s.proc.kill()
		s.proc = nil
	}
}

// Alive reports whether the server process is still running.
func (s *Server) Alive() bool { return s.proc != nil && !s.proc.exited() }

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string { return fileTail(s.logPath, n) }

// fileTail returns the last n lines of a log file.
func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// process is a child process whose exit is watched by one goroutine.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid after done is closed
	log  *os.File
}

func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{}), log: log}
	go p.routineWait()
	return p, nil
}

func (p *process) routineWait() {
	p.err = p.cmd.Wait()
	p.log.Close()
	close(p.done)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits; a process still running after timeout is
// killed and reported.
func (p *process) stop(timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("already exited: %v", p.err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("still running %v after SIGTERM", timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) && !terminatedBy(exitErr, syscall.SIGTERM) {
		return fmt.Errorf("exit after SIGTERM: %w", p.err)
	}
	return nil
}

func terminatedBy(e *exec.ExitError, sig syscall.Signal) bool {
	ws, ok := e.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

func freeTCPAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

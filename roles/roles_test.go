package roles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ovnd/ovnd/embeddeddb"
)

// journal records what the fake roles and the hooks did, one line each, so
// that tests compare a whole run as text.
type journal struct {
	mu    sync.Mutex // guards lines
	lines []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, args...))
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, "\n")
}

// fakeRole serves until its ctx is cancelled or its quit channel is
// closed, then returns err.
type fakeRole struct {
	name    string
	j       *journal
	serving chan struct{} // closed once Serve runs
	quit    chan struct{} // close to make Serve return on its own
	err     error
}

func (f *fakeRole) Serve(ctx context.Context) error {
	f.j.add("%s: serve", f.name)
	close(f.serving)
	select {
	case <-ctx.Done():
		f.j.add("%s: shut down", f.name)
	case <-f.quit:
		f.j.add("%s: quit", f.name)
	}
	return f.err
}

// fakes builds fake roles and keeps them by name.
type fakes struct {
	j        journal
	roles    map[string]*fakeRole
	startErr map[string]error // roles whose builder fails
	serveErr map[string]error // roles whose Serve returns an error
}

func newFakes() *fakes {
	return &fakes{roles: map[string]*fakeRole{}, startErr: map[string]error{}, serveErr: map[string]error{}}
}

func (fs *fakes) builders() map[string]builder {
	b := map[string]builder{}
	for _, name := range roleOrder {
		b[name] = func(cfg *Config, log *slog.Logger) (role, error) {
			fs.j.add("%s: start", name)
			if err := fs.startErr[name]; err != nil {
				return nil, err
			}
			r := &fakeRole{name: name, j: &fs.j, serving: make(chan struct{}), quit: make(chan struct{}), err: fs.serveErr[name]}
			fs.j.mu.Lock() // get reads roles under the same lock
			fs.roles[name] = r
			fs.j.mu.Unlock()
			return r, nil
		}
	}
	return b
}

func (fs *fakes) options() Options {
	return Options{
		Ready:    func() { fs.j.add("ready") },
		Stopping: func() { fs.j.add("stopping") },
	}
}

func configWith(roles ...string) *Config {
	cfg := Default()
	cfg.Roles = roles
	return cfg
}

// runAsync runs the daemon in the background; wait returns its error.
func runAsync(t *testing.T, ctx context.Context, cfg *Config, fs *fakes) (wait func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, fs.options(), fs.builders()) }()
	return func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return")
			return nil
		}
	}
}

// waitServing waits until every named fake role is in Serve.
func (fs *fakes) waitServing(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		deadline := time.After(10 * time.Second)
		for fs.get(n) == nil {
			select {
			case <-deadline:
				t.Fatalf("role %s never started", n)
			case <-time.After(time.Millisecond):
			}
		}
		<-fs.get(n).serving
	}
}

func (fs *fakes) get(name string) *fakeRole {
	fs.j.mu.Lock() // builders add roles from run's goroutine
	defer fs.j.mu.Unlock()
	return fs.roles[name]
}

func checkJournal(t *testing.T, fs *fakes, want ...string) {
	t.Helper()
	// The roles serve concurrently: compare each role's own lines in order
	// and the daemon's lines in order, not their interleaving.
	if diff := cmp.Diff(byActor(strings.Join(want, "\n")), byActor(fs.j.String())); diff != "" {
		t.Errorf("journal (-want +got):\n%s\nfull journal:\n%s", diff, fs.j.String())
	}
}

func byActor(s string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		actor, _, ok := strings.Cut(line, ": ")
		if !ok {
			actor = "daemon"
		}
		m[actor] = append(m[actor], line)
	}
	return m
}

func TestRunStopsOnCancel(t *testing.T) {
	defer checkGoroutines(t)()
	fs := newFakes()
	ctx, cancel := context.WithCancel(context.Background())
	wait := runAsync(t, ctx, configWith("controller", "database"), fs)
	fs.waitServing(t, "database", "controller")
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	checkJournal(t, fs,
		"database: start", "controller: start", "ready", "stopping",
		"database: serve", "database: shut down",
		"controller: serve", "controller: shut down")
	if !strings.HasPrefix(fs.j.String(), "database: start\ncontroller: start\n") {
		t.Errorf("roles did not start database first:\n%s", fs.j.String())
	}
}

func TestRunStartFailureReleasesStartedRoles(t *testing.T) {
	defer checkGoroutines(t)()
	fs := newFakes()
	fs.startErr["northd"] = errors.New("start role northd: no such file")
	err := run(context.Background(), configWith("database", "northd", "controller"), fs.options(), fs.builders())
	if err == nil || err.Error() != "start role northd: no such file" {
		t.Fatalf("run error = %v", err)
	}
	want := "database: start\nnorthd: start\nstopping\ndatabase: serve\ndatabase: shut down"
	if got := fs.j.String(); got != want {
		t.Errorf("journal:\n%s\nwant:\n%s", got, want)
	}
}

func TestRunRoleFailureStopsOthers(t *testing.T) {
	defer checkGoroutines(t)()
	fs := newFakes()
	fs.serveErr["database"] = errors.New("write nb log: disk full")
	wait := runAsync(t, context.Background(), configWith("database", "controller"), fs)
	fs.waitServing(t, "database", "controller")
	close(fs.get("database").quit)
	err := wait()
	if err == nil || err.Error() != "role database: write nb log: disk full" {
		t.Fatalf("run error = %v", err)
	}
	checkJournal(t, fs,
		"database: start", "controller: start", "ready", "stopping",
		"database: serve", "database: quit",
		"controller: serve", "controller: shut down")
}

func TestRunRoleReturningEarlyIsAnError(t *testing.T) {
	defer checkGoroutines(t)()
	fs := newFakes()
	wait := runAsync(t, context.Background(), configWith("northd"), fs)
	fs.waitServing(t, "northd")
	close(fs.get("northd").quit)
	if err := wait(); err == nil || err.Error() != "role northd: stopped on its own" {
		t.Fatalf("run error = %v", err)
	}
}

func TestRunShutdownErrorsAreReported(t *testing.T) {
	fs := newFakes()
	fs.serveErr["database"] = errors.New("sync sb: i/o error")
	ctx, cancel := context.WithCancel(context.Background())
	wait := runAsync(t, ctx, configWith("database"), fs)
	fs.waitServing(t, "database")
	cancel()
	if err := wait(); err == nil || err.Error() != "role database: sync sb: i/o error" {
		t.Fatalf("run error = %v", err)
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	fs := newFakes()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx, configWith("database"), fs.options(), fs.builders()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fs.j.String(), "ready") {
		t.Errorf("ready sent after cancel:\n%s", fs.j.String())
	}
}

func TestDatabaseWiring(t *testing.T) {
	var got embeddeddb.Config
	fake := &fakeRole{name: "database", j: &journal{}, serving: make(chan struct{}), quit: make(chan struct{})}
	old := openDatabase
	openDatabase = func(c embeddeddb.Config) (role, error) { got = c; return fake, nil }
	t.Cleanup(func() { openDatabase = old })

	cfg := configWith("database")
	cfg.Database = DatabaseConfig{Dir: "/d", NBRemotes: []string{"ptcp:1"}, SBRemotes: []string{"ptcp:2"}}
	cfg.TLS = TLSConfig{PrivateKey: "k", Certificate: "c", CACert: "ca"}
	log := slog.New(slog.DiscardHandler)
	r, err := newDatabase(cfg, log)
	if err != nil || r != fake {
		t.Fatalf("newDatabase = %v, %v", r, err)
	}
	want := embeddeddb.Config{
		Dir: "/d", NBRemotes: []string{"ptcp:1"}, SBRemotes: []string{"ptcp:2"},
		TLS:    embeddeddb.TLSConfig{PrivateKey: "k", Certificate: "c", CACert: "ca"},
		Logger: log,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *slog.Logger) bool { return a == b })); diff != "" {
		t.Errorf("embeddeddb.Config (-want +got):\n%s", diff)
	}

	openDatabase = func(embeddeddb.Config) (role, error) { return nil, errors.New("open nb: locked") }
	if _, err := newDatabase(cfg, log); err == nil || err.Error() != "start role database: open nb: locked" {
		t.Errorf("newDatabase error = %v", err)
	}
}

// checkGoroutines returns a func that fails t if goroutines started since
// are still running shortly after.
func checkGoroutines(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		for range 100 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
	}
}

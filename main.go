// Command ovnd is Open Virtual Network as one binary: an OVSDB server for
// OVN_Northbound and OVN_Southbound, northd and the controller, each a role
// that ovnd.toml turns on. See `ovnd help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/ovnd/ovnd/roles"
	"github.com/ovnd/ovnd/roles/lab"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage: ovnd <command> [arguments]

commands:
  run [--config PATH]    run the roles the config names, in the foreground
                         (default config ` + roles.DefaultConfigPath + `)
  check [--config PATH]  load and validate the config, then exit
  lab [--demo] [--exit-after-demo] [--state-dir DIR]
                         as root, run a complete single-node OVN: the
                         database, northd and controller roles with the
                         local Open vSwitch (started if none runs); --demo
                         also builds two switches with VMs as network
                         namespaces and pings between them; Ctrl-C stops
                         it and removes what it created (state dir default
                         ` + lab.DefaultStateDir + `)
  version                print the version
  help                   print this help

SIGTERM or SIGINT stops ovnd cleanly. Under systemd (Type=notify) ovnd
reports READY=1 once every role is serving and STOPPING=1 as it stops.
`

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // config invalid, a role failed to start or failed
	exitUsage = 2 // bad command line
)

func main() {
	stopCPU := func() {}
	if path := os.Getenv("OVND_CPUPROFILE"); path != "" {
		// For performance work: profile the whole run (see bench/README.md).
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			stopCPU = func() { pprof.StopCPUProfile(); f.Close() }
		}
	}
	if path := os.Getenv("OVND_MEMPROFILE"); path != "" {
		// For memory work: the live heap, rewritten every 10 s so that
		// the file holds the last steady state before ovnd stopped (see
		// bench/README.md).
		go func() {
			for range time.Tick(10 * time.Second) {
				writeHeapProfile(path)
			}
		}()
	}
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	stopCPU()
	os.Exit(code)
}

// writeHeapProfile replaces the heap profile at path.
func writeHeapProfile(path string) {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return
	}
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if f.Close() == nil && err == nil {
		os.Rename(path+".tmp", path)
	}
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return runCmd(rest, stderr)
	case "check":
		return checkCmd(rest, stdout, stderr)
	case "version":
		return versionCmd(rest, stdout, stderr)
	case "lab":
		return labCmd(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "ovnd: unknown command %q; run 'ovnd help' for usage\n", cmd)
		return exitUsage
	}
}

func versionCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "ovnd version: unexpected arguments %q\n", args)
		return exitUsage
	}
	fmt.Fprintf(stdout, "ovnd %s %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// configFlag parses `--config PATH` for cmd; ok is false after a usage
// error, which has been reported.
func configFlag(cmd string, args []string, stderr io.Writer) (path string, code int, ok bool) {
	fs := flag.NewFlagSet("ovnd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&path, "config", roles.DefaultConfigPath, "config file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", exitOK, false
		}
		return "", exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ovnd %s: unexpected arguments %q\n", cmd, fs.Args())
		return "", exitUsage, false
	}
	return path, exitOK, true
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	path, code, ok := configFlag("check", args, stderr)
	if !ok {
		return code
	}
	if _, err := roles.Load(path); err != nil {
		printErr(stderr, err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return exitOK
}

func runCmd(args []string, stderr io.Writer) int {
	path, code, ok := configFlag("run", args, stderr)
	if !ok {
		return code
	}
	cfg, err := roles.Load(path)
	if err != nil {
		printErr(stderr, err)
		return exitError
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}))
	log.Info("ovnd starting", "version", version, "config", path, "roles", cfg.Roles)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// After the first signal, a second one kills ovnd the default way, in
	// case a clean shutdown hangs.
	context.AfterFunc(ctx, stop)

	err = roles.Run(ctx, cfg, roles.Options{
		Logger:   log,
		Ready:    func() { sdNotify(log, daemon.SdNotifyReady) },
		Stopping: func() { sdNotify(log, daemon.SdNotifyStopping) },
	})
	if err != nil {
		printErr(stderr, err)
		return exitError
	}
	log.Info("ovnd stopped")
	return exitOK
}

func labCmd(args []string, stdout, stderr io.Writer) int {
	opts := lab.Options{Out: stdout, Log: stderr}
	fs := flag.NewFlagSet("ovnd lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&opts.Demo, "demo", false, "build the demo topology and ping across it")
	fs.BoolVar(&opts.ExitAfterDemo, "exit-after-demo", false, "stop once the demo has passed (implies --demo); exit 1 if it fails")
	fs.StringVar(&opts.StateDir, "state-dir", lab.DefaultStateDir, "directory for every file the lab writes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ovnd lab: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	if opts.ExitAfterDemo {
		opts.Demo = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal kills, as for run
	if err := lab.Run(ctx, opts); err != nil {
		fmt.Fprintf(stderr, "ovnd lab: %v\n", err)
		return exitError
	}
	return exitOK
}

// printErr writes err to stderr, one "ovnd: " line per line of it (a
// config with several problems reports each on its own line).
func printErr(stderr io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "ovnd: %s\n", line)
	}
}

// sdNotify tells systemd about state; without NOTIFY_SOCKET it does nothing.
func sdNotify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

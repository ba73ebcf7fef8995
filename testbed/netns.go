package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// addNetns creates a network namespace with its loopback up.
func addNetns(ns string) error {
	return runAll(
		[]string{"ip", "netns", "add", ns},
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
	)
}

// delNetns deletes a namespace; a missing one is not an error.
func delNetns(ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); err != nil {
		return nil
	}
	_, err := run("", nil, "ip", "netns", "del", ns)
	return err
}

// runAll runs commands in order and stops at the first error.
func runAll(cmds ...[]string) error {
	for _, argv := range cmds {
		if _, err := run("", nil, argv...); err != nil {
			return err
		}
	}
	return nil
}

// inNetns runs fn on an OS thread switched into namespace ns, and then
// switches the thread back. Sockets fn creates belong to ns and keep
// working from any goroutine afterwards.
//
// The thread must survive: daemons are started with Pdeathsig, which fires
// when the thread that forked them exits, and any thread may have forked
// one. Only when switching back fails is the thread left locked, so that it
// dies rather than run other goroutines in ns.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := withNetns(ns, fn)
		if restored {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// withNetns runs fn in ns on the current, locked thread and reports
// whether the thread is back in its original namespace.
func withNetns(ns string, fn func() error) (restored bool, err error) {
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return true, fmt.Errorf("enter netns %s: %w", ns, err)
	}
	defer orig.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return true, fmt.Errorf("enter netns %s: %w", ns, err)
	}
	defer target.Close()
	if err := setns(target); err != nil {
		return true, fmt.Errorf("enter netns %s: %w", ns, err)
	}
	err = fn()
	return setns(orig) == nil, err
}

func setns(f *os.File) error {
	if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}

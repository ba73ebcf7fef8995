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

// inNetns runs fn on an OS thread switched into namespace ns. Sockets fn
// creates belong to ns and keep working from any goroutine afterwards. The
// thread is never switched back: it stays locked and exits with the
// goroutine, so no other goroutine ever runs in ns by accident.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- fmt.Errorf("enter netns %s: %w", ns, err)
			return
		}
		defer f.Close()
		if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			errc <- fmt.Errorf("enter netns %s: %w", ns, e)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

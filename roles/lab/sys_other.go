//go:build !linux

package lab

import (
	"errors"
	"os"
	"runtime"
	"syscall"
)

// The lab needs Linux's network namespaces and veth pairs for its
// virtual machines; elsewhere Run says so and does nothing.

func tryLock(*os.File) error { return errors.ErrUnsupported }

func signalPid(pid int, _ syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

func supported() error {
	return errors.New("ovnd lab needs Linux (network namespaces for its virtual machines); this is " + runtime.GOOS)
}

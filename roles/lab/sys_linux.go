package lab

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes f's exclusive flock without waiting.
func tryLock(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// signalPid sends sig to process pid; a process already gone is
// os.ErrProcessDone.
func signalPid(pid int, sig syscall.Signal) error {
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// supported is nil: the lab runs on Linux.
func supported() error { return nil }

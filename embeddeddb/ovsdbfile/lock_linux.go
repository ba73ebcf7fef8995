package ovsdbfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fOFDSetLK is F_OFD_SETLK from <fcntl.h>, missing from package syscall. An
// open file description lock conflicts with the classic fcntl locks that
// ovsdb-server and ovsdb-tool take, and, unlike those, also with other
// descriptions opened by this same process.
const fOFDSetLK = 37

// lockFile takes the write lock on f without waiting.
func lockFile(f *os.File) error {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
	err := syscall.FcntlFlock(f.Fd(), fOFDSetLK, &lk)
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
		return ErrLocked
	}
	if err != nil {
		return fmt.Errorf("fcntl lock: %w", err)
	}
	return nil
}

// datasync flushes f's data and the metadata needed to read it back.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

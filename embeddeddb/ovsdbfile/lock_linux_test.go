package ovsdbfile

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestClassicLockExcludesOpen takes the classic fcntl lock that
// ovsdb-server and ovsdb-tool take on the lock file, and checks that Open
// sees it.
func TestClassicLockExcludesOpen(t *testing.T) {
	path := dbPath(t)
	mustCreate(t, path).Close()
	f, err := os.OpenFile(lockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Open(path, testLogger(t)); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open under an ovsdb-server style lock: %v, want ErrLocked", err)
	}
	f.Close()
	reopen(t, path)
}

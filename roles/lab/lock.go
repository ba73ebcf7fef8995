package lab

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// hostLock is the file whose flock makes the lab one per host, whatever
// its state directory: two labs would sweep each other's ovnd-lab-*
// namespaces and fight over br-int. The kernel drops the lock when the
// process dies, so a crashed lab never blocks the next one.
const hostLock = "/run/ovnd-lab.lock"

// lockHost takes the host lock, or says which lab holds it.
func lockHost(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab lock: %w", err)
	}
	if err := tryLock(f); err != nil {
		data, _ := os.ReadFile(path)
		f.Close()
		holder := strings.TrimSpace(string(data))
		if _, perr := strconv.Atoi(holder); perr != nil {
			holder = "unknown"
		}
		return nil, fmt.Errorf("another ovnd lab is running on this host (pid %s; lock %s): stop it first", holder, path)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// unlockHost removes the lock file and releases the lock.
func unlockHost(f *os.File) {
	if f == nil {
		return
	}
	os.Remove(f.Name())
	f.Close()
}

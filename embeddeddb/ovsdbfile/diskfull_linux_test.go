package ovsdbfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// smallDisk mounts a 64 KiB tmpfs and returns its path; it skips the test
// unless it runs as root and may mount.
func smallDisk(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// padded is record i padded to about 1000 bytes.
func padded(i int) []byte { return fmt.Appendf(nil, `{"n":%d,"pad":"%0960d"}`, i, 0) }

// TestDiskFull fills a small disk: Wait returns ENOSPC, the error sticks,
// nothing panics, and Open afterwards finds exactly the acknowledged
// records.
func TestDiskFull(t *testing.T) {
	path := filepath.Join(smallDisk(t), "full.db")
	l := mustCreate(t, path)
	acked, werr := 0, error(nil)
	for i := 1; i <= 200 && werr == nil; i++ {
		if werr = l.Wait(context.Background(), l.Append(padded(i), true)); werr == nil {
			acked = i
		}
	}
	t.Logf("%d records acknowledged before: %v", acked, werr)
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("after %d records: err = %v, want ENOSPC", acked, werr)
	}
	if !errors.Is(l.Err(), syscall.ENOSPC) {
		t.Fatalf("Err() = %v", l.Err())
	}
	if err := l.Wait(context.Background(), l.Append(rec(1), false)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Wait after the failure: %v", err)
	}
	if err := l.Compact(snap(1), 1); err == nil {
		t.Fatal("Compact succeeded on a failed Log")
	}
	if err := l.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v", err)
	}
	var want [][]byte
	for i := 1; i <= acked; i++ {
		want = append(want, padded(i))
	}
	checkRecords(t, reopen(t, path), want)
}

// TestDiskFullCompaction makes compaction fail for lack of space: the old
// file stays in use and writing goes on.
func TestDiskFullCompaction(t *testing.T) {
	dir := smallDisk(t)
	path := filepath.Join(dir, "full.db")
	l := mustCreate(t, path)
	for i := 1; i <= 20; i++ {
		appendWait(t, l, true, padded(i))
	}
	big := fmt.Appendf(nil, `{"upto":20,"pad":"%0*d"}`, 48<<10, 0)
	if err := l.Compact(big, 20); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Compact: %v, want ENOSPC", err)
	}
	if _, err := os.Stat(tempPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	if l.Err() != nil {
		t.Fatalf("failed compaction made the Log fail: %v", l.Err())
	}
	appendWait(t, l, true, padded(21))
	if err := l.Compact(snap(21), 21); err != nil {
		t.Fatal(err)
	}
	l.Close()
	checkRecords(t, reopen(t, path), [][]byte{snap(21)})
}

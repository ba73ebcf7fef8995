//go:build !linux

package ovsdbfile

import "os"

// lockFile is a no-op off Linux: ovnd's embedded database runs on Linux, and
// other platforms only build the package for tests and tools.
func lockFile(f *os.File) error { return nil }

// datasync flushes f to stable storage.
func datasync(f *os.File) error { return f.Sync() }

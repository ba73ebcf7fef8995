//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// The benchmark reads CPU time and RSS from Linux's /proc; elsewhere it
// builds but every measurement fails with errNoProc.
var errNoProc = errors.New("ovsdbbench needs Linux /proc")

func cpuTime(int) (time.Duration, error) { return 0, errNoProc }
func rssBytes(int) (int64, error)        { return 0, errNoProc }
func selfCPU() time.Duration             { return 0 }
func childAttr() *syscall.SysProcAttr    { return nil }

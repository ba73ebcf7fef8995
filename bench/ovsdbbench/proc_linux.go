package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// cpuTime returns the user+system CPU time consumed so far by all threads
// of process pid, from /proc/<pid>/stat (fields 14 and 15).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// rssBytes returns VmRSS of process pid from /proc/<pid>/status.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// childAttr makes a server die with the benchmark even if the benchmark is
// killed without a chance to clean up, and keeps terminal signals (Ctrl-C)
// away from it so that the benchmark stops it in order.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// selfCPU returns the CPU time the benchmark process itself has used, to
// show how much of the shared CPUs the load generator took.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

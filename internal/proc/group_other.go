//go:build !linux

package proc

import (
	"os/exec"
	"syscall"
)

// ownGroup does nothing where Linux's process groups and parent-death
// signal are missing: ctx's end kills the process itself (exec's
// default), not its children.
func ownGroup(*exec.Cmd, syscall.Signal) {}

// signalGroup stops the process cmd runs: there is no group to signal,
// and on Windows no signal but a kill.
func signalGroup(cmd *exec.Cmd, _ int, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	if sig == syscall.SIGKILL {
		return cmd.Process.Kill()
	}
	return cmd.Process.Signal(sig)
}

package proc

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd the leader of a process group of its own, sent sig
// when its parent dies; ctx's end kills the whole group.
func ownGroup(cmd *exec.Cmd, sig syscall.Signal) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: sig}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// signalGroup sends sig to the process group pgid that cmd leads.
func signalGroup(_ *exec.Cmd, pgid int, sig syscall.Signal) error {
	return syscall.Kill(-pgid, sig)
}

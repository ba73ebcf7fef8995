package lab

import (
	"fmt"
	"os"
	"os/exec"
)

// tool is a command the lab runs and the package that installs it.
type tool struct{ cmd, pkg string }

var (
	ovsTools   = []tool{{"ovs-vsctl", "openvswitch-switch"}, {"ovsdb-server", "openvswitch-switch"}, {"ovs-vswitchd", "openvswitch-switch"}, {"ovsdb-tool", "openvswitch-switch"}}
	netTools   = []tool{{"ip", "iproute2"}}
	demoTools  = []tool{{"ping", "iputils-ping"}}
	hookTools  = []tool{{"ovn-controller", "ovn-host"}}
	schemaFile = vswitchSchema
)

// preflight checks what the lab needs before it changes anything, and
// says in one line how to get what is missing.
func preflight(opts Options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("must run as root (it creates network namespaces and configures Open vSwitch): sudo ovnd lab")
	}
	for _, t := range ovsTools {
		if _, err := exec.LookPath(t.cmd); err != nil {
			return fmt.Errorf("Open vSwitch is not installed (no %s): apt-get install openvswitch-switch", t.cmd)
		}
	}
	if _, err := os.Stat(schemaFile); err != nil {
		return fmt.Errorf("Open vSwitch is not installed (no %s): apt-get install openvswitch-switch", schemaFile)
	}
	need := netTools
	if opts.Demo {
		need = append(need, demoTools...)
	}
	if realController() {
		need = append(need, hookTools...)
	}
	for _, t := range need {
		if _, err := exec.LookPath(t.cmd); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install %s", t.cmd, t.pkg)
		}
	}
	return nil
}

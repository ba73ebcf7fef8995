package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Kind says which implementation runs a component.
type Kind string

const (
	// OVN is the reference: the real ovsdb-server, ovn-northd or
	// ovn-controller from the host's OVN packages.
	OVN Kind = "ovn"
	// OVND is this project's binary in the matching role.
	OVND Kind = "ovnd"
)

// Encap is the tunnel type between chassis.
type Encap string

const (
	Geneve Encap = "geneve"
	VXLAN  Encap = "vxlan"
)

// Port is the UDP destination port of the encapsulation.
func (e Encap) Port() int {
	if e == VXLAN {
		return 4789
	}
	return 6081
}

// Config chooses the implementation of every component and the tunnel type.
type Config struct {
	DB          Kind
	Northd      Kind
	Controllers []Kind // one per chassis, reused round-robin when shorter
	Encap       Encap
}

// Controller returns the kind of controller of chassis i (0-based).
func (c Config) Controller(i int) Kind { return c.Controllers[i%len(c.Controllers)] }

// String renders the combination the way the README table names it.
func (c Config) String() string {
	ctl := make([]string, len(c.Controllers))
	for i, k := range c.Controllers {
		ctl[i] = string(k)
	}
	return fmt.Sprintf("db=%s northd=%s controller=%s encap=%s",
		c.DB, c.Northd, strings.Join(ctl, ","), c.Encap)
}

// usesOVND reports whether any component is ovnd.
func (c Config) usesOVND() bool {
	if c.DB == OVND || c.Northd == OVND {
		return true
	}
	for _, k := range c.Controllers {
		if k == OVND {
			return true
		}
	}
	return false
}

// ConfigFromEnv reads OVND_E2E_DB, OVND_E2E_NORTHD, OVND_E2E_CONTROLLER
// (a kind or a comma-separated list, one per chassis) and OVND_E2E_ENCAP.
// Unset means the real OVN over Geneve.
func ConfigFromEnv() (Config, error) {
	c := Config{DB: OVN, Northd: OVN, Controllers: []Kind{OVN}, Encap: Geneve}
	var err error
	if c.DB, err = kindFromEnv("OVND_E2E_DB"); err != nil {
		return c, err
	}
	if c.Northd, err = kindFromEnv("OVND_E2E_NORTHD"); err != nil {
		return c, err
	}
	if v := os.Getenv("OVND_E2E_CONTROLLER"); v != "" {
		c.Controllers = nil
		for _, s := range strings.Split(v, ",") {
			k, err := parseKind("OVND_E2E_CONTROLLER", strings.TrimSpace(s))
			if err != nil {
				return c, err
			}
			c.Controllers = append(c.Controllers, k)
		}
	}
	switch e := Encap(os.Getenv("OVND_E2E_ENCAP")); e {
	case "":
	case Geneve, VXLAN:
		c.Encap = e
	default:
		return c, fmt.Errorf("OVND_E2E_ENCAP=%q: want geneve or vxlan", e)
	}
	return c, nil
}

func kindFromEnv(key string) (Kind, error) {
	v := os.Getenv(key)
	if v == "" {
		return OVN, nil
	}
	return parseKind(key, v)
}

func parseKind(key, v string) (Kind, error) {
	switch k := Kind(v); k {
	case OVN, OVND:
		return k, nil
	}
	return "", fmt.Errorf("%s=%q: want ovn or ovnd", key, v)
}

// requiredTools are the host programs every run needs.
var requiredTools = []string{
	"ip", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl",
	"ovs-appctl", "ovn-nbctl", "ovn-sbctl", "ping", "ethtool", "tcpdump",
}

// toolsFor adds the programs the chosen OVN components need.
func toolsFor(c Config) []string {
	tools := append([]string(nil), requiredTools...)
	if c.Northd == OVN {
		tools = append(tools, "ovn-northd")
	}
	for _, k := range c.Controllers {
		if k == OVN {
			tools = append(tools, "ovn-controller")
		}
	}
	return tools
}

// Require skips the test, with the reason, when this machine cannot run
// the test bed: not root, or a needed program is missing.
func Require(t testing.TB, c Config) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("testbed: needs root (network namespaces, OVS daemons)")
	}
	for _, tool := range toolsFor(c) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("testbed: %s not installed (Debian: openvswitch-switch, ovn-central, ovn-host, iproute2, iputils-ping, ethtool, tcpdump)", tool)
		}
	}
	if _, err := os.Stat(ovsSchema); err != nil {
		t.Skipf("testbed: %s missing", ovsSchema)
	}
}

// RequireTool skips the test when one extra program is missing.
func RequireTool(t testing.TB, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("testbed: %s not installed", tool)
	}
}

// extraOVNArgs are added to the command lines of ovn-northd and
// ovn-controller from $OVND_E2E_OVN_ARGS (space-separated), e.g.
// "-vjsonrpc:file:dbg" to log every OVSDB message they exchange.
func extraOVNArgs() []string { return strings.Fields(os.Getenv("OVND_E2E_OVN_ARGS")) }

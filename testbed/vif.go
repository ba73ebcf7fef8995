package testbed

import (
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// VIFSpec describes a VIF: the logical port it binds to and how its
// interface is configured. No addresses means an unconfigured interface,
// e.g. for DHCP.
type VIFSpec struct {
	Port     string   // logical switch port name, set as iface-id
	MAC      string   // MAC of eth0
	Addrs    []string // CIDRs on eth0: "10.0.0.1/24", "fd00::1/64"
	Gateway  string   // IPv4 default route via this address
	Gateway6 string   // IPv6 default route via this address
	MTU      int      // of eth0; 1400 when zero, to leave room for the tunnel header
}

// VIF is a namespace with one interface, eth0, plugged into br-int of a
// chassis.
type VIF struct {
	tb      *Topology
	Spec    VIFSpec
	Name    string // = Spec.Port
	NS      string
	Chassis *Chassis
	ifname  string // the veth end on br-int

	mu      sync.Mutex // guards daemons, and Spec.Addrs once plugged
	daemons []*daemon  // servers, dhclient: stopped on unplug
}

// Target is something to send packets to.
type Target interface {
	Address() string
}

// IP is a literal address as a Target.
type IP string

// Address returns the address itself.
func (a IP) Address() string { return string(a) }

// Address returns the VIF's first IPv4 address, or its first address.
func (v *VIF) Address() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var first string
	for _, a := range v.Spec.Addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			continue
		}
		if p.Addr().Is4() {
			return p.Addr().String()
		}
		if first == "" {
			first = p.Addr().String()
		}
	}
	return first
}

// Plug creates a VIF on chassis c. Its teardown is registered with t, so a
// VIF made in a sub-test goes away with the sub-test.
func (c *Chassis) Plug(t testing.TB, spec VIFSpec) *VIF {
	t.Helper()
	tb := c.tb
	if err := tb.checkDaemons(); err != nil {
		tb.fail(t, "plug %s: %v", spec.Port, err)
	}
	if spec.MTU == 0 {
		spec.MTU = 1400
	}
	tb.mu.Lock()
	if _, dup := tb.vifs[spec.Port]; dup {
		tb.mu.Unlock()
		t.Fatalf("testbed: VIF %s already plugged", spec.Port)
	}
	tb.nextIf++
	v := &VIF{tb: tb, Spec: spec, Name: spec.Port, NS: tb.Run + "-v-" + spec.Port, Chassis: c,
		ifname: fmt.Sprintf("vif%d", tb.nextIf)}
	tb.vifs[spec.Port] = v
	tb.mu.Unlock()
	t.Cleanup(v.unplug)
	if err := v.create(); err != nil {
		tb.fail(t, "plug %s on %s: %v", spec.Port, c.Name, err)
	}
	return v
}

func (v *VIF) create() error {
	if err := addNetns(v.NS); err != nil {
		return err
	}
	if err := v.Chassis.plug(v.NS, v.ifname, v.Spec.Port); err != nil {
		return err
	}
	cmds := [][]string{
		{"ip", "netns", "exec", v.NS, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0",
			// Resolve neighbours again after 100 ms, not 1 s, so that the
			// time to the first ping measures OVN, not ARP's back-off.
			"net.ipv4.neigh.eth0.retrans_time_ms=100", "net.ipv6.neigh.eth0.retrans_time_ms=100"},
		{"ip", "-n", v.NS, "link", "set", "eth0", "mtu", fmt.Sprint(v.Spec.MTU)},
		// TX checksum offload on a veth feeding the userspace datapath
		// leaves TCP checksums unfilled.
		{"ip", "netns", "exec", v.NS, "ethtool", "-K", "eth0", "tx", "off"},
	}
	if v.Spec.MAC != "" {
		cmds = append(cmds, []string{"ip", "-n", v.NS, "link", "set", "eth0", "address", v.Spec.MAC})
	}
	cmds = append(cmds, []string{"ip", "-n", v.NS, "link", "set", "eth0", "up"})
	if err := runAll(cmds...); err != nil {
		return err
	}
	return v.configure(v.Spec.Addrs, v.Spec.Gateway, v.Spec.Gateway6)
}

// configure puts addrs on eth0 and the default routes.
func (v *VIF) configure(addrs []string, gw, gw6 string) error {
	var cmds [][]string
	for _, a := range addrs {
		cmds = append(cmds, []string{"ip", "-n", v.NS, "addr", "add", a, "dev", "eth0", "nodad"})
	}
	if gw != "" {
		cmds = append(cmds, []string{"ip", "-n", v.NS, "route", "replace", "default", "via", gw})
	}
	if gw6 != "" {
		cmds = append(cmds, []string{"ip", "-n", v.NS, "-6", "route", "replace", "default", "via", gw6})
	}
	return runAll(cmds...)
}

// unplug stops what runs in the VIF and removes it. It is safe to call
// twice.
func (v *VIF) unplug() {
	v.mu.Lock()
	ds := v.daemons
	v.daemons = nil
	v.mu.Unlock()
	for _, d := range ds {
		d.Stop(time.Second)
	}
	v.tb.mu.Lock()
	mine := v.tb.vifs[v.Name] == v
	if mine {
		delete(v.tb.vifs, v.Name)
	}
	v.tb.mu.Unlock()
	if mine {
		v.Chassis.unplug(v.ifname)
		_ = delNetns(v.NS)
	}
}

// own makes d stop when the VIF is unplugged.
func (v *VIF) own(d *daemon) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.daemons = append(v.daemons, d)
}

// SetMAC changes eth0's MAC, e.g. to spoof another one.
func (v *VIF) SetMAC(t testing.TB, mac string) {
	t.Helper()
	if _, err := run("", nil, "ip", "-n", v.NS, "link", "set", "eth0", "address", mac); err != nil {
		v.tb.fail(t, "%s: %v", v.Name, err)
	}
	v.flushNeighbors()
}

// SetAddrs replaces eth0's addresses and default routes.
func (v *VIF) SetAddrs(t testing.TB, gw string, addrs ...string) {
	t.Helper()
	if _, err := run("", nil, "ip", "-n", v.NS, "addr", "flush", "dev", "eth0", "scope", "global"); err != nil {
		v.tb.fail(t, "%s: %v", v.Name, err)
	}
	if err := v.configure(addrs, gw, ""); err != nil {
		v.tb.fail(t, "%s: %v", v.Name, err)
	}
	v.flushNeighbors()
}

func (v *VIF) flushNeighbors() {
	_, _ = run("", nil, "ip", "-n", v.NS, "neigh", "flush", "all")
}

// Ping sends one echo request to dst and reports whether a reply came
// within a second.
func (v *VIF) Ping(dst Target) error {
	out, err := runTimeout(5*time.Second, "", nil, "ip", "netns", "exec", v.NS, "ping", "-c", "1", "-W", "1", "-q", dst.Address())
	if err != nil {
		return fmt.Errorf("%s ping %s: %w %s", v.Name, dst.Address(), err, lastLine(out))
	}
	return nil
}

// MustPing waits, up to 30 seconds, until dst answers a ping from v.
func (v *VIF) MustPing(t testing.TB, dst Target) {
	t.Helper()
	v.tb.WaitFor(t, fmt.Sprintf("%s pings %s", v.Name, dst.Address()), 30*time.Second,
		func() error { return v.Ping(dst) })
}

// MustNotPing sends three pings to dst and fails if any is answered. Call
// Sync first when the NB just changed.
func (v *VIF) MustNotPing(t testing.TB, dst Target) {
	t.Helper()
	out, err := runTimeout(10*time.Second, "", nil, "ip", "netns", "exec", v.NS,
		"ping", "-c", "3", "-i", "0.3", "-W", "1", "-q", dst.Address())
	var exit *exec.ExitError
	switch {
	case err == nil:
		v.tb.fail(t, "%s pings %s, but must not: %s", v.Name, dst.Address(), lastLine(out))
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		// No reply at all: as expected.
	default:
		v.tb.fail(t, "%s ping %s: %v", v.Name, dst.Address(), err)
	}
}

// lastLine returns the last non-empty line of s: ping's summary.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// FirstPing pings dst every 100 ms, each ping waiting 250 ms for its
// reply, and returns when the first reply arrived; it fails the test after
// timeout. It measures how soon a port starts to forward.
func (v *VIF) FirstPing(t testing.TB, dst Target, timeout time.Duration) time.Time {
	t.Helper()
	var at time.Time
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_, err := runTimeout(5*time.Second, "", nil, "ip", "netns", "exec", v.NS,
			"ping", "-c", "1", "-W", "0.25", "-q", dst.Address())
		if err == nil {
			at = time.Now()
			return at
		}
		time.Sleep(100 * time.Millisecond)
	}
	v.tb.fail(t, "%s: no ping reply from %s within %v", v.Name, dst.Address(), timeout)
	return at
}

// MustPingN sends n pings from one ping process, 200 ms apart, and fails
// unless every one is answered. Unlike MustPing it does not retry: use it
// once the path is known to work, e.g. to produce traffic for a capture.
func (v *VIF) MustPingN(t testing.TB, dst Target, n int) {
	t.Helper()
	out, err := runTimeout(time.Duration(n+5)*time.Second, "", nil, "ip", "netns", "exec", v.NS,
		"ping", "-c", fmt.Sprint(n), "-i", "0.2", "-W", "1", "-q", dst.Address())
	if err != nil || !strings.Contains(out, fmt.Sprintf(" %d received", n)) {
		v.tb.fail(t, "%s: %d pings to %s: %v %s", v.Name, n, dst.Address(), err, out)
	}
}

// AddRoute adds a route to dst on eth0, on-link when via is "".
func (v *VIF) AddRoute(t testing.TB, dst, via string) {
	t.Helper()
	argv := []string{"ip", "-n", v.NS, "route", "replace", dst, "dev", "eth0"}
	if via != "" {
		argv = append(argv, "via", via)
	}
	if _, err := run("", nil, argv...); err != nil {
		v.tb.fail(t, "%s: %v", v.Name, err)
	}
}

package lab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// namePrefix starts the name of every namespace, veth and OVS port the lab
// creates, so that a lab can sweep what a crashed one left behind without
// touching anything else.
const namePrefix = "ovnd-lab-"

// vif is a demo virtual machine: a network namespace whose eth0 is one
// end of a veth pair; the other end, named like the namespace, sits on
// br-int with external_ids:iface-id set to the logical port.
type vif struct {
	Port   string // logical switch port, also the short name (vm1)
	Switch string
	MAC    string
	IP     string // with prefix length
}

// ns is the network namespace, and the name of the veth end on br-int
// (at most 15 bytes: the prefix leaves 6 for the port name).
func (v vif) ns() string { return namePrefix + v.Port }

// addr is the IP without the prefix length.
func (v vif) addr() string { a, _, _ := strings.Cut(v.IP, "/"); return a }

// plug creates the namespace and the veth, configures eth0 and adds the
// veth to br-int of o.
func (v vif) plug(o *localOVS) error {
	ns := v.ns()
	err := runAll(
		[]string{"ip", "netns", "add", ns},
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
		[]string{"ip", "link", "add", ns, "type", "veth", "peer", "name", "eth0", "netns", ns},
		[]string{"ip", "-n", ns, "link", "set", "eth0", "address", v.MAC},
		[]string{"ip", "-n", ns, "addr", "add", v.IP, "dev", "eth0"},
		[]string{"ip", "-n", ns, "link", "set", "eth0", "up"},
		[]string{"ip", "link", "set", ns, "up"},
	)
	if err != nil {
		return fmt.Errorf("create %s: %w", v.Port, err)
	}
	if o.datapath == "netdev" {
		// TX checksum offload on a veth leaves TCP checksums for a NIC
		// that the userspace datapath never provides: TCP through it
		// fails while ping works. Best effort: ethtool may be missing.
		if _, err := exec.LookPath("ethtool"); err == nil {
			run(nil, "ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
		}
	}
	_, err = o.vsctl("--may-exist", "add-port", integrationBridge, ns,
		"--", "set", "Interface", ns, "external_ids:iface-id="+v.Port)
	if err != nil {
		return fmt.Errorf("plug %s into %s: %w", v.Port, integrationBridge, err)
	}
	return nil
}

// labNamespaces lists the network namespaces named with the lab's prefix.
func labNamespaces() []string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), namePrefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

// labLinks lists the network devices named with the lab's prefix.
func labLinks() []string {
	paths, _ := filepath.Glob("/sys/class/net/" + namePrefix + "*")
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	return names
}

// sweepVIFs deletes every namespace and veth named with the lab's prefix:
// this lab's and any a crashed lab left.
func sweepVIFs() error {
	var errs []string
	for _, ns := range labNamespaces() {
		if _, err := run(nil, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	// Deleting a namespace deletes its veth end, and the peer with it,
	// but the kernel does that asynchronously.
	for i := 0; i < 20 && len(labLinks()) > 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range labLinks() {
		if _, err := run(nil, "ip", "link", "del", l); err != nil && fileExists("/sys/class/net/"+l) {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove VIFs: %s", strings.Join(errs, "; "))
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

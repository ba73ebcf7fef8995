package chassis

import (
	"slices"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// Datapath types of an OVS bridge.
const (
	DatapathSystem = "system" // the kernel module
	DatapathNetdev = "netdev" // the userspace datapath, also OVS-DPDK's
)

// chooseDatapathType picks the integration bridge's datapath type:
// ovn-bridge-datapath-type when set; otherwise netdev where DPDK is
// initialised or the kernel has no OVS datapath (and ovs-vswitchd offers
// netdev, or has not said yet), system elsewhere.
func chooseDatapathType(cfg Config, root *vswitch.OpenvSwitch, kernel bool) string {
	if cfg.DatapathType != "" {
		return cfg.DatapathType
	}
	if root.DpdkInitialized {
		return DatapathNetdev
	}
	netdevOK := len(root.DatapathTypes) == 0 || slices.Contains(root.DatapathTypes, DatapathNetdev)
	if !kernel && netdevOK {
		return DatapathNetdev
	}
	return DatapathSystem
}

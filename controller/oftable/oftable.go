// Package oftable is the map of br-int that every flow producer of the
// controller shares: OVN 23.03's OpenFlow table numbers (ovn-controller's
// OFTABLE_*), the logical flag bits of reg10 (MLF_*) and the registers
// that hold logical metadata (ovn-architecture(7)). The logical-flow
// compiler, the physical flows and the load-balancer hairpin flows all
// read it, so that they agree on where packets go.
package oftable

// OpenFlow tables of OVN 23.03's pipeline (ovn-controller's OFTABLE_*).
// The logical ingress pipeline occupies IngressBase.. and the egress
// pipeline EgressBase..; the others are filled by controller/physical
// and by the flows that lookups and learns install.
const (
	TablePhysToLog       = 0
	IngressBase          = 8  // logical ingress table N is OpenFlow table 8+N
	TableOutputLarge     = 37 // OFTABLE_OUTPUT_LARGE_PKT_DETECT: where ingress "output;" goes
	TableOutputLargeProc = 38
	TableRemoteOutput    = 39
	TableLocalOutput     = 40
	TableCheckLoopback   = 41
	EgressBase           = 42 // logical egress table N is OpenFlow table 42+N
	TableSaveInport      = 64 // where egress "output;" goes
	TableLogToPhys       = 65
	TableMACBinding      = 66 // get_arp / get_nd: fills eth.dst
	TableMACLookup       = 67 // lookup_arp / lookup_nd: sets flags[LookupMAC]
	TableChkLBHairpin    = 68
	TableChkLBHairpinRep = 69
	TableCTSNATHairpin   = 70
	TableGetFDB          = 71 // get_fdb: fills outport
	TableLookupFDB       = 72 // lookup_fdb: sets flags[LookupFDB]
	TableChkInPortSec    = 73 // check_in_port_sec: sets flags[CheckPortSec] on failure
	TableChkInPortSecND  = 74
	TableChkOutPortSec   = 75 // check_out_port_sec: sets flags[CheckPortSec] on failure
	TableECMPNHMAC       = 76
	TableECMPNH          = 77
	TableChkLBAffinity   = 78

	// MaxLogicalTables is how many tables each logical pipeline may use.
	MaxLogicalTables = TableOutputLarge - IngressBase
)

// Logical flag bits of reg10 (MFF_LOG_FLAGS, ovn-controller's
// MLF_*_BIT). The lookup actions communicate with the tables above
// through them: the compiled action clears the bit, resubmits to the
// table, whose flows (installed by controller/physical or learned) set
// it, and then copies it to the action's result.
const (
	FlagAllowLoopback    = 0
	FlagRcvFromRAMP      = 1
	FlagForceSNATForDNAT = 2
	FlagForceSNATForLB   = 3
	FlagLocalOnly        = 4
	FlagNestedContainer  = 5
	FlagLookupMAC        = 6 // lookup_arp/lookup_nd result, set by table 67
	FlagLookupLBHairpin  = 7 // chk_lb_hairpin result, set by tables 68/69
	FlagLookupFDB        = 8 // lookup_fdb result, set by table 72
	FlagSkipSNATForLB    = 9
	FlagLocalport        = 10
	FlagUseSNATZone      = 11
	FlagCheckPortSec     = 12 // check_*_port_sec result: 1 = port security failed (set by tables 73-75)
)

// Registers holding logical metadata (ovn-architecture(7)).
const (
	RegFlags   = 10 // logical flags
	RegDNAT    = 11 // router DNAT conntrack zone
	RegSNAT    = 12 // router SNAT conntrack zone
	RegCTZone  = 13 // switch port conntrack zone (bits 0..15)
	RegInport  = 14 // logical input port
	RegOutport = 15 // logical output port
)

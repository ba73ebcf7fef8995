package physical

import "github.com/ovnd/ovnd/controller/openflow"

// OpenFlow tables of OVN 23.03 that this package fills or jumps to.
const (
	TablePhyToLog          uint8 = 0  // physical-to-logical: VIF, localnet, tunnel ingress
	TableLogIngress        uint8 = 8  // first table of the logical ingress pipeline
	TableLargePktDetect    uint8 = 37 // output: large packet detection
	TableLargePktProcess   uint8 = 38 // output: large packet processing
	TableRemoteOutput      uint8 = 39 // output to other chassis (tunnels)
	TableLocalOutput       uint8 = 40 // output to this chassis
	TableCheckLoopback     uint8 = 41 // drop a packet going back to its input port
	TableLogEgress         uint8 = 42 // first table of the logical egress pipeline
	TableSaveInport        uint8 = 64 // clear in_port when loopback is allowed
	TableLogToPhy          uint8 = 65 // logical-to-physical: VIF, localnet, patch
	TableMACBinding        uint8 = 66 // get_arp/get_nd: neighbour MAC from MAC_Binding
	TableMACLookup         uint8 = 67 // lookup_arp/lookup_nd
	TableGetFDB            uint8 = 71 // get_fdb: output port from FDB
	TableLookupFDB         uint8 = 72 // lookup_fdb
	TableChkInPortSec      uint8 = 73 // check_in_port_sec(): L2/L3 port security
	TableChkInPortSecND    uint8 = 74 // check_in_port_sec(): ARP and IPv6 ND
	TableChkOutPortSec     uint8 = 75 // check_out_port_sec()
	logicalRegistersToZero       = 10 // reg0..reg9, zeroed between ingress and egress
)

// Logical registers (ovn-architecture(7), "Logical-to-physical").
var (
	fieldMetadata = openflow.F("metadata") // datapath tunnel key
	regInport     = openflow.Reg(14)       // logical input port key
	regOutport    = openflow.Reg(15)       // logical output port key
	regFlags      = openflow.Reg(10)       // logical flags, below
	regCTZone     = openflow.Reg(13)       // conntrack zone of the logical port
	regDNATZone   = openflow.Reg(11)       // DNAT zone of the datapath
	regSNATZone   = openflow.Reg(12)       // SNAT zone of the datapath
	fieldInPort   = openflow.F("in_port")
	fieldTunID    = openflow.F("tun_id")
	fieldTunMD0   = openflow.TunMetadata(0) // the Geneve option: inport << 16 | outport
)

// Logical flag bits in reg10 (OVN 23.03 MLF_*).
const (
	flagAllowLoopback = 1 << 0  // flags.loopback: output may go back to the input port
	flagRcvFromRAMP   = 1 << 1  // received from a VTEP (ramp) switch
	flagLocalOnly     = 1 << 4  // flags.local_only: never leave this chassis
	flagNested        = 1 << 5  // came from a nested container
	flagLocalport     = 1 << 10 // came in on a localport
	flagPortSecFailed = 1 << 12 // set by check_in_port_sec()/check_out_port_sec() on failure
)

// Multicast group keys start here; VXLAN carries only their low 11 bits.
const multicastKeyMin = 0x8000

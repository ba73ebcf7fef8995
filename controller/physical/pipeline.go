package physical

import (
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// logicalRegistersToZero is how many registers (reg0..reg9) are zeroed
// between the ingress and the egress pipeline.
const logicalRegistersToZero = 10

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

// Logical flag bits in reg10 (OVN 23.03 MLF_*), as masks.
const (
	flagAllowLoopback = 1 << oftable.FlagAllowLoopback // flags.loopback: output may go back to the input port
	flagRcvFromRAMP   = 1 << oftable.FlagRcvFromRAMP   // received from a VTEP (ramp) switch
	flagLocalOnly     = 1 << oftable.FlagLocalOnly     // flags.local_only: never leave this chassis
	flagNested        = 1 << oftable.FlagNestedContainer
	flagLocalport     = 1 << oftable.FlagLocalport    // came in on a localport
	flagPortSecFailed = 1 << oftable.FlagCheckPortSec // set by check_in_port_sec()/check_out_port_sec() on failure
)

// Multicast group keys start here; VXLAN carries only their low 11 bits.
const multicastKeyMin = 0x8000

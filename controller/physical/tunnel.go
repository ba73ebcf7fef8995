package physical

import (
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
)

// tunnelFlows decode a packet from another chassis (table 0). The sender
// already ran the ingress pipeline and chose the output port, so the
// packet goes straight to local output (table 40).
//
// Geneve carries the datapath in the VNI and the ports in OVN's option
// (tun_metadata0): bits 16..30 the logical input port, 0..15 the output
// port. VXLAN has only the 24-bit VNI: bits 0..11 the datapath, 12..23 the
// output port, with bit 23 marking a multicast group whose key keeps its
// low 11 bits; the input port is lost.
func tunnelFlows(t Tunnel) []flowtable.Flow {
	in := match(fieldInPort.Exact(uint64(t.OFPort)))
	if t.Type == VXLAN {
		var mc, uc acts
		mc.setMasked(regOutport, multicastKeyMin, multicastKeyMin).
			move(fieldTunID.Sub(12, 11), regOutport.Sub(0, 11)).
			move(fieldTunID.Sub(0, 12), fieldMetadata.Sub(0, 12)).
			resubmit(oftable.TableLocalOutput)
		uc.move(fieldTunID.Sub(12, 12), regOutport.Sub(0, 12)).
			move(fieldTunID.Sub(0, 12), fieldMetadata.Sub(0, 12)).
			resubmit(oftable.TableLocalOutput)
		return []flowtable.Flow{
			flow(oftable.TablePhysToLog, 105, 0, match(fieldTunID.Masked(1<<23, 1<<23), fieldInPort.Exact(uint64(t.OFPort))), mc),
			flow(oftable.TablePhysToLog, 100, 0, in, uc),
		}
	}
	var a acts
	a.move(fieldTunID.Sub(0, 24), fieldMetadata.Sub(0, 24)).
		move(fieldTunMD0.Sub(16, 15), regInport.Sub(0, 15)).
		move(fieldTunMD0.Sub(0, 16), regOutport.Sub(0, 16)).
		resubmit(oftable.TableLocalOutput)
	return []flowtable.Flow{flow(oftable.TablePhysToLog, 100, 0, in, a)}
}

// encapsulate sets the tunnel header for a packet to output port (or
// multicast group) key of datapath dp.
func (a *acts) encapsulate(typ string, dp, key uint32) *acts {
	if typ == VXLAN {
		vni := uint64(dp)&0xfff | uint64(key)&0x7ff<<12
		if key >= multicastKeyMin {
			vni |= 1 << 23
		} else {
			vni = uint64(dp)&0xfff | uint64(key)&0xfff<<12
		}
		return a.setMasked(fieldTunID, vni, 0xffffff)
	}
	return a.setMasked(fieldTunID, uint64(dp), 0xffffff).
		set(fieldTunMD0, uint64(key)).
		move(regInport.Sub(0, 15), fieldTunMD0.Sub(16, 15))
}

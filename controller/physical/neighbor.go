package physical

import (
	"net"
	"net/netip"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// MACBinding is one learned (SB MAC_Binding) or configured (SB
// Static_MAC_Binding) neighbour of a logical port.
type MACBinding struct {
	UUID string // the row's UUID, for the cookie
	Port string // logical_port
	IP   netip.Addr
	MAC  net.HardwareAddr
	// Static marks a Static_MAC_Binding; Override its
	// override_dynamic_mac, which lets it win over a learned binding.
	Static, Override bool
}

// FDB is one learned MAC address of a logical switch port (SB FDB).
type FDB struct {
	UUID     string // the row's UUID, for the cookie
	Datapath uint32 // dp_key
	Port     uint32 // port_key
	MAC      net.HardwareAddr
}

const (
	prefixMAC = "physical/mac/"
	prefixFDB = "physical/fdb/"
	// Logical flags set by the neighbour tables (OVN 23.03 MLF_*).
	flagLookupMAC = 1 << 6 // lookup_arp/lookup_nd found the binding
	flagLookupFDB = 1 << 8 // lookup_fdb found the entry
)

// MACBindingOwner owns the flows of the MAC_Binding or
// Static_MAC_Binding row with this UUID.
func MACBindingOwner(uuid string) string { return prefixMAC + uuid }

// FDBOwner owns the flows of the FDB row with this UUID.
func FDBOwner(uuid string) string { return prefixFDB + uuid }

// macBindingFlows answer get_arp/get_nd (table 66: the neighbour's
// Ethernet address for the output port and next hop in reg0 or xxreg0)
// and lookup_arp/lookup_nd (table 67: whether the sender on the input
// port is a known neighbour). A static binding sits below learned ones
// unless it overrides them.
func (b *Builder) macBindingFlows(mb *MACBinding) []flowtable.Flow {
	p := b.port(mb.Port)
	if p == nil || len(mb.MAC) != 6 || !mb.IP.IsValid() {
		return nil
	}
	prio := uint16(100)
	if mb.Static {
		prio = 50
		if mb.Override {
			prio = 150
		}
	}
	ip := ipRegisters(mb.IP)
	c, eth := cookie(mb.UUID), fEthType.Exact(ethARP)
	var tail []openflow.OXM
	if mb.IP.Is6() {
		eth = fEthType.Exact(ethIPv6)
		tail = []openflow.OXM{fICMP6C.Exact(0)}
	}
	found := acts{&openflow.SetField{OXM: regFlags.Masked(flagLookupMAC, flagLookupMAC)}}
	get := append(match(ip...), onPort(regOutport, p.Datapath, p.Key)...)
	lookup := match(eth)
	if mb.IP.Is6() {
		lookup = append(lookup, fProto.Exact(protoICMPv6))
	}
	lookup = append(append(append(lookup, ip...), onPort(regInport, p.Datapath, p.Key)...), fEthSrc.MAC(mb.MAC))
	return []flowtable.Flow{
		flow(oftable.TableMACBinding, prio, c, get, *new(acts).add(&openflow.SetField{OXM: fEthDst.MAC(mb.MAC)}).add(found...)),
		flow(oftable.TableMACLookup, prio, c, append(lookup, tail...), found),
	}
}

// ipRegisters matches an IPv4 address in reg0, an IPv6 one in xxreg0
// (reg0..reg3).
func ipRegisters(a netip.Addr) []openflow.OXM {
	b := a.AsSlice()
	var out []openflow.OXM
	for i := 0; i < len(b); i += 4 {
		v := uint64(b[i])<<24 | uint64(b[i+1])<<16 | uint64(b[i+2])<<8 | uint64(b[i+3])
		out = append(out, openflow.Reg(i/4).Exact(v))
	}
	return out
}

// fdbFlows answer get_fdb (table 71: the output port for a destination
// MAC) and lookup_fdb (table 72: whether the source MAC was learned on
// the input port).
func (b *Builder) fdbFlows(e *FDB) []flowtable.Flow {
	if _, ok := b.dps[e.Datapath]; !ok || len(e.MAC) != 6 {
		return nil
	}
	c := cookie(e.UUID)
	return []flowtable.Flow{
		flow(oftable.TableGetFDB, 100, c, match(fieldMetadata.Exact(uint64(e.Datapath)), fEthDst.MAC(e.MAC)),
			*new(acts).set(regOutport, uint64(e.Port))),
		flow(oftable.TableLookupFDB, 100, c, append(onPort(regInport, e.Datapath, e.Port), fEthSrc.MAC(e.MAC)),
			acts{&openflow.SetField{OXM: regFlags.Masked(flagLookupFDB, flagLookupFDB)}}),
	}
}

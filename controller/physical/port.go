package physical

import (
	"net"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// portFlows are the flows of one Port_Binding on this chassis.
func (b *Builder) portFlows(p *Port) []flowtable.Flow {
	var out []flowtable.Flow
	here := p.Chassis == b.chassis
	switch {
	case p.Type == TypePatch || p.Type == TypeL3Gateway && here:
		out = b.patchFlows(p)
	case p.Type == TypeChassisRedirect && here:
		out = b.redirectFlows(p)
	case p.Type == TypeExternal && here:
		out = b.viaLocalnet(p)
	case b.ofport(p) != 0 && (p.Type == TypeVIF && (p.Parent == "" || here) || p.Type == TypeLocalport || p.Type == TypeLocalnet):
		out = b.localFlows(p)
	case b.remote(p):
		out = b.remoteFlows(p)
	}
	return sortFlows(out)
}

// ofport is the OpenFlow port of p's traffic: its own, or a nested
// container's parent's.
func (b *Builder) ofport(p *Port) uint32 {
	if p.Parent == "" {
		return p.OFPort
	}
	if parent := b.port(p.Parent); parent != nil && parent.Parent == "" {
		return parent.OFPort
	}
	return 0
}

// remote reports whether p is bound to another chassis, to be reached
// through a tunnel (or the provider network).
func (b *Builder) remote(p *Port) bool {
	switch p.Type {
	case TypeVIF, TypeL3Gateway, TypeChassisRedirect, TypeExternal, TypeVirtual:
		return p.Chassis != "" && p.Chassis != b.chassis
	}
	return false
}

// redirectFlows deliver output to a chassisredirect port on its gateway
// chassis: it becomes output to the distributed port, here.
func (b *Builder) redirectFlows(p *Port) []flowtable.Flow {
	dist := b.port(p.DistributedPort)
	if dist == nil || dist.Datapath != p.Datapath {
		return nil
	}
	var a acts
	// ovn-controller loads the datapath zones only, not the port's own.
	a.set(regOutport, uint64(dist.Key)).zones(0, b.dps[p.Datapath]).resubmit(oftable.TableCheckLoopback)
	return []flowtable.Flow{flow(oftable.TableLocalOutput, 100, cookie(p.UUID), onPort(regOutport, p.Datapath, p.Key), a)}
}

// localFlows are the flows of a port whose packets enter and leave
// through an OpenFlow port of br-int: a VIF, a localport, the patch port
// of a localnet port.
func (b *Builder) localFlows(p *Port) []flowtable.Flow {
	dp, c := b.dps[p.Datapath], cookie(p.UUID)
	out := b.ingressFlows(p, dp)
	if p.Type == TypeLocalport {
		// Whatever enters on a localport never leaves the chassis.
		out = append(out, flow(oftable.TableRemoteOutput, 150, c, onPort(regInport, p.Datapath, p.Key),
			*new(acts).resubmit(oftable.TableLocalOutput)))
	}
	out = append(out,
		flow(oftable.TableLocalOutput, 100, c, onPort(regOutport, p.Datapath, p.Key),
			*new(acts).zones(p.Zone, dp).resubmit(oftable.TableCheckLoopback)))
	out = append(out, loopbackFlows(p)...)
	if parent := b.port(p.Parent); parent != nil {
		// Traffic from a container may go out to its parent, through
		// the same OpenFlow port.
		out = append(out, flow(oftable.TableSaveInport, 100, 0, append(match(regFlags.Masked(flagNested, flagNested)),
			onPort(regOutport, parent.Datapath, parent.Key)...), saveInport()))
	}
	var egress acts
	if p.Tag != 0 && (p.Type == TypeLocalnet || p.Parent != "") {
		egress.add(&openflow.PushVLAN{EtherType: 0x8100}).set(openflow.F("vlan_vid"), 0x1000|uint64(p.Tag)).
			output(b.ofport(p)).add(&openflow.PopVLAN{})
	} else {
		egress.output(p.OFPort)
	}
	out = append(out, flow(oftable.TableLogToPhys, 100, c, onPort(regOutport, p.Datapath, p.Key), egress))
	if p.Type == TypeLocalnet {
		out = append(out, b.externalExceptions(p)...)
		// Neither local-only traffic nor what came in on a localport
		// may leave through the provider network.
		for _, flag := range []uint64{flagLocalOnly, flagLocalport} {
			out = append(out, flow(oftable.TableCheckLoopback, 160, c,
				append(match(regFlags.Masked(flag, flag)), onPort(regOutport, p.Datapath, p.Key)...), nil))
		}
	} else {
		out = append(out, portSecurityFlows(p)...)
	}
	return out
}

// ingressFlows classify what arrives on the port's OpenFlow port (table
// 0): set the logical datapath, input port and zones, then run the
// logical ingress pipeline.
func (b *Builder) ingressFlows(p *Port, dp Datapath) []flowtable.Flow {
	c := cookie(p.UUID)
	load := func(popVLAN bool) acts {
		var a acts
		if p.Parent != "" {
			a.setMasked(regFlags, flagNested, flagNested)
		}
		if popVLAN {
			a.add(&openflow.PopVLAN{})
		}
		a.zones(p.Zone, dp).set(fieldMetadata, uint64(p.Datapath)).set(regInport, uint64(p.Key))
		if p.Type == TypeLocalport {
			a.setMasked(regFlags, flagLocalport, flagLocalport)
		}
		return *a.resubmit(oftable.IngressBase)
	}
	in := fieldInPort.Exact(uint64(b.ofport(p)))
	vid := openflow.F("vlan_vid")
	switch {
	case p.Parent != "":
		return []flowtable.Flow{flow(oftable.TablePhysToLog, 150, c, match(in, vid.Exact(0x1000|uint64(p.Tag))), load(true))}
	case p.Type == TypeLocalnet && p.Tag != 0:
		return []flowtable.Flow{flow(oftable.TablePhysToLog, 150, c, match(in, vid.Exact(0x1000|uint64(p.Tag))), load(true))}
	case p.Type == TypeLocalnet:
		// Untagged, or priority-tagged (VLAN 0) frames.
		return []flowtable.Flow{
			flow(oftable.TablePhysToLog, 100, c, match(in, vid.Exact(0x1000)), load(true)),
			flow(oftable.TablePhysToLog, 100, c, match(in, vid.Masked(0, 0x1000)), load(false)),
		}
	}
	return []flowtable.Flow{flow(oftable.TablePhysToLog, 100, c, match(in), load(false))}
}

// loopbackFlows drop a packet sent back to its input port unless
// flags.loopback allows it (table 41), and for those it allows let the
// packet go out of the port it came in on (table 64: OpenFlow would drop
// an output to in_port).
func loopbackFlows(p *Port) []flowtable.Flow {
	c := cookie(p.UUID)
	save := match(regFlags.Masked(flagAllowLoopback, flagAllowLoopback))
	if p.Parent != "" {
		// Containers share their parent's OpenFlow port: always.
		save = nil
	}
	return []flowtable.Flow{
		flow(oftable.TableCheckLoopback, 100, c, match(regFlags.Masked(0, flagAllowLoopback),
			regInport.Exact(uint64(p.Key)), regOutport.Exact(uint64(p.Key)), fieldMetadata.Exact(uint64(p.Datapath))), nil),
		flow(oftable.TableSaveInport, 100, c, append(save, onPort(regOutport, p.Datapath, p.Key)...), saveInport()),
	}
}

// saveInport outputs through table 65 with in_port cleared, so that the
// packet may leave by the port it came in on.
func saveInport() acts {
	var a acts
	a.add(&openflow.StackPush{Field: fieldInPort.Sub(0, 16)}).set(fieldInPort, 0xffff). // OFPP_NONE
												resubmit(oftable.TableLogToPhys).add(&openflow.StackPop{Field: fieldInPort.Sub(0, 16)})
	return a
}

// remoteFlows send a packet for a port bound to another chassis: through
// the datapath's localnet port when it has one on this chassis, else
// through the tunnel to that chassis.
func (b *Builder) remoteFlows(p *Port) []flowtable.Flow {
	if fs := b.viaLocalnet(p); fs != nil {
		return fs
	}
	c := cookie(p.UUID)
	t, ok := b.tunnels[p.Chassis]
	if !ok {
		return nil
	}
	var a acts
	a.encapsulate(t.Type, p.Datapath, p.Key).output(t.OFPort).resubmit(oftable.TableLocalOutput)
	return []flowtable.Flow{flow(oftable.TableRemoteOutput, 100, c, onPort(regOutport, p.Datapath, p.Key), a)}
}

// viaLocalnet sends output to p out of its datapath's localnet port, if
// that has one on this chassis.
func (b *Builder) viaLocalnet(p *Port) []flowtable.Flow {
	ln := b.localnets[p.Datapath]
	if ln == nil {
		return nil
	}
	return []flowtable.Flow{flow(oftable.TableLocalOutput, 100, cookie(p.UUID), onPort(regOutport, p.Datapath, p.Key),
		*new(acts).set(regOutport, uint64(ln.Key)).resubmit(oftable.TableLocalOutput))}
}

// externalExceptions let what enters on a localport reach, through the
// localnet port, the external ports served here (table 41 drops
// localport traffic to localnet otherwise).
func (b *Builder) externalExceptions(ln *Port) []flowtable.Flow {
	var out []flowtable.Flow
	for _, e := range b.externals[ln.Datapath] {
		for _, entry := range e.MAC {
			mac, err := net.ParseMAC(firstField(entry))
			if err != nil || len(mac) != 6 {
				continue
			}
			m := append(match(regFlags.Masked(flagLocalport, flagLocalport)), onPort(regOutport, ln.Datapath, ln.Key)...)
			out = append(out, flow(oftable.TableCheckLoopback, 170, cookie(ln.UUID), append(m, fEthDst.MAC(mac)), toEgress()))
		}
	}
	return out
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// patchFlows connect a logical patch port (or an l3gateway port on its
// chassis) to its peer: output to the
// port re-enters the peer datapath's ingress pipeline, in a clone so that
// nothing the peer does leaks back.
func (b *Builder) patchFlows(p *Port) []flowtable.Flow {
	peer := b.port(p.Peer)
	if peer == nil || peer.Type != TypePatch && peer.Type != TypeL3Gateway {
		return nil
	}
	dp, peerDP, c := b.dps[p.Datapath], b.dps[peer.Datapath], cookie(p.UUID)
	out := []flowtable.Flow{flow(oftable.TableLocalOutput, 100, c, onPort(regOutport, p.Datapath, p.Key),
		*new(acts).zones(p.Zone, dp).resubmit(oftable.TableCheckLoopback))}
	out = append(out, loopbackFlows(p)...)
	var in acts
	in.add(&openflow.CTClear{}).set(regDNATZone, 0).set(regSNATZone, 0).set(regCTZone, 0).
		zones(peer.Zone, peerDP).set(fieldMetadata, uint64(peer.Datapath)).set(regInport, uint64(peer.Key)).
		set(regFlags, 0).set(regOutport, 0)
	for r := range logicalRegistersToZero {
		in.set(openflow.Reg(r), 0)
	}
	in.resubmit(oftable.IngressBase)
	out = append(out, flow(oftable.TableLogToPhys, 100, c, onPort(regOutport, p.Datapath, p.Key),
		acts{&openflow.Clone{Actions: slices.Clip(in)}}))
	return out
}

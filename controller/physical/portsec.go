package physical

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// Port security, as OVN 23.03 checks it outside the logical pipeline: the
// logical flows call check_in_port_sec() (table 73, with table 74 for ARP
// and neighbour discovery) and check_out_port_sec() (table 75), and
// these tables set flags.port_sec_failed (reg10[12]) when the packet's
// addresses are not among the port's port_security entries, clear it when
// they are.

var (
	fEthType = openflow.F("eth_type")
	fProto   = openflow.F("nw_proto")
	fEthSrc  = openflow.F("eth_src")
	fEthDst  = openflow.F("eth_dst")
	fIPSrc   = openflow.F("ip_src")
	fIPDst   = openflow.F("ip_dst")
	fIP6Src  = openflow.F("ipv6_src")
	fIP6Dst  = openflow.F("ipv6_dst")
	fTTL     = openflow.F("nw_ttl")
	fUDPSrc  = openflow.F("udp_src")
	fUDPDst  = openflow.F("udp_dst")
	fICMP6T  = openflow.F("icmpv6_type")
	fICMP6C  = openflow.F("icmpv6_code")
	fARPSPA  = openflow.F("arp_spa")
	fARPSHA  = openflow.F("arp_sha")
	fNDTgt   = openflow.F("nd_target")
	fNDSLL   = openflow.F("nd_sll")
	fNDTLL   = openflow.F("nd_tll")
)

const (
	ethIPv4, ethIPv6, ethARP = 0x0800, 0x86dd, 0x0806
	protoUDP, protoICMPv6    = 17, 58
	icmp6MLDReport           = 131
	icmp6MLDv2Report         = 143
	icmp6NS, icmp6NA         = 135, 136
	// ndTTL is the hop limit OVN 23.03 matches in its per-address ND
	// flows: 225, where RFC 4861's 255 was surely meant. It is kept so
	// that the tables stay identical to ovn-controller's.
	ndTTL = 225
)

// portSec is one port_security entry: an Ethernet address and the IP
// addresses the port may use with it.
type portSec struct {
	mac  net.HardwareAddr
	ipv4 []netip.Prefix
	ipv6 []netip.Prefix
}

// parsePortSec parses "MAC [IP[/PLEN]]...".
func parsePortSec(s string) (portSec, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return portSec{}, fmt.Errorf("port security entry %q: empty", s)
	}
	mac, err := net.ParseMAC(f[0])
	if err != nil || len(mac) != 6 {
		return portSec{}, fmt.Errorf("port security entry %q: bad Ethernet address %q", s, f[0])
	}
	ps := portSec{mac: mac}
	for _, a := range f[1:] {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip, err2 := netip.ParseAddr(a)
			if err2 != nil {
				return portSec{}, fmt.Errorf("port security entry %q: bad address %q", s, a)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		if p.Addr().Is4() {
			ps.ipv4 = append(ps.ipv4, p)
		} else {
			ps.ipv6 = append(ps.ipv6, p)
		}
	}
	return ps, nil
}

// hostOrNet is what a port-security address allows: the address alone
// when it names a host (full length, or host bits set), else the whole
// network.
func hostOrNet(p netip.Prefix) netip.Prefix {
	if p.Bits() == p.Addr().BitLen() || p.Masked().Addr() != p.Addr() {
		return netip.PrefixFrom(p.Addr(), p.Addr().BitLen())
	}
	return p
}

// addrMatch matches field f against p, exactly for a host.
func addrMatch(f *openflow.Field, p netip.Prefix) openflow.OXM {
	if p.Bits() == p.Addr().BitLen() {
		return f.Addr(p.Addr())
	}
	return f.Prefix(p)
}

// broadcast is the broadcast address of p's network.
func broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		a[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(a)
}

// lla is the IPv6 link-local address derived from mac (EUI-64).
func lla(mac net.HardwareAddr) netip.Prefix {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10], a[11] = mac[0]^0x02, mac[1], mac[2], 0xff
	a[12], a[13], a[14], a[15] = 0xfe, mac[3], mac[4], mac[5]
	return netip.PrefixFrom(netip.AddrFrom16(a), 128)
}

// portSecEntries parses the port's entries, skipping (and reporting)
// the ones that do not parse.
func portSecEntries(p *Port) ([]portSec, []error) {
	var out []portSec
	var errs []error
	for _, s := range p.PortSecurity {
		ps, err := parsePortSec(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("port %s: %w", p.Name, err))
			continue
		}
		out = append(out, ps)
	}
	return out, errs
}

// psFlows builds the flows of one port's port-security tables.
type psFlows struct {
	p   *Port
	c   uint64
	out []flowtable.Flow
}

var (
	psPass = acts{&openflow.SetField{OXM: regFlags.Masked(0, flagPortSecFailed)}}
	psFail = acts{&openflow.SetField{OXM: regFlags.Masked(flagPortSecFailed, flagPortSecFailed)}}
	psND   = acts{openflow.ResubmitTable(oftable.TableChkInPortSecND)}
)

func (b *psFlows) in(table uint8, prio uint16, a acts, oxms ...openflow.OXM) {
	b.add(table, prio, a, regInport, oxms)
}

func (b *psFlows) egress(prio uint16, a acts, oxms ...openflow.OXM) {
	b.add(oftable.TableChkOutPortSec, prio, a, regOutport, oxms)
}

// add puts the eth_type / nw_proto prerequisites first, then the port,
// then the rest.
func (b *psFlows) add(table uint8, prio uint16, a acts, reg *openflow.Field, oxms []openflow.OXM) {
	var m openflow.Match
	i := 0
	for ; i < len(oxms) && (oxms[i].Field == fEthType || oxms[i].Field == fProto); i++ {
		m = append(m, oxms[i])
	}
	m = append(m, onPort(reg, b.p.Datapath, b.p.Key)...)
	m = append(m, oxms[i:]...)
	b.out = append(b.out, flow(table, prio, b.c, m, a))
}

func eth(t uint64) openflow.OXM { return fEthType.Exact(t) }

func portSecurityFlows(p *Port) []flowtable.Flow {
	entries, _ := portSecEntries(p)
	if len(entries) == 0 {
		return nil
	}
	b := &psFlows{p: p, c: cookie(p.UUID)}
	// Defaults: fail unless an entry allows; ARP is judged in table 74,
	// where neighbour solicitations pass and advertisements fail.
	b.in(oftable.TableChkInPortSec, 80, psFail)
	b.in(oftable.TableChkInPortSec, 95, psND, eth(ethARP))
	b.in(oftable.TableChkInPortSecND, 80, psFail, eth(ethARP))
	icmp6 := []openflow.OXM{eth(ethIPv6), fProto.Exact(protoICMPv6)}
	b.in(oftable.TableChkInPortSecND, 80, psFail, append(icmp6, fTTL.Exact(255), fICMP6T.Exact(icmp6NA))...)
	b.in(oftable.TableChkInPortSecND, 80, psPass, append(icmp6, fTTL.Exact(255), fICMP6T.Exact(icmp6NS))...)
	b.egress(80, psFail)
	for _, e := range entries {
		b.inEntry(e)
		b.ndEntry(e)
		b.outEntry(e)
	}
	return b.out
}

// inEntry: packets from the port with the entry's source addresses.
func (b *psFlows) inEntry(e portSec) {
	src := fEthSrc.MAC(e.mac)
	if len(e.ipv4) == 0 && len(e.ipv6) == 0 {
		b.in(oftable.TableChkInPortSec, 90, psND, src)
		return
	}
	if len(e.ipv4) > 0 {
		for _, a := range e.ipv4 {
			b.in(oftable.TableChkInPortSec, 90, psPass, eth(ethIPv4), src, addrMatch(fIPSrc, hostOrNet(a)))
		}
		// DHCP discovery, before the port has an address.
		b.in(oftable.TableChkInPortSec, 90, psPass, eth(ethIPv4), fProto.Exact(protoUDP), src,
			fIPSrc.Addr(netip.IPv4Unspecified()), fIPDst.Addr(netip.AddrFrom4([4]byte{255, 255, 255, 255})),
			fUDPSrc.Exact(68), fUDPDst.Exact(67))
	}
	if len(e.ipv6) > 0 {
		for _, a := range append([]netip.Prefix{lla(e.mac)}, e.ipv6...) {
			b.in(oftable.TableChkInPortSec, 90, psND, eth(ethIPv6), src, addrMatch(fIP6Src, hostOrNet(a)))
		}
		// Duplicate address detection and MLD reports, sent from ::.
		allNodes := netip.MustParsePrefix("ff02::/16")
		for _, typ := range []uint64{icmp6MLDReport, icmp6MLDv2Report, icmp6NS} {
			a := psPass
			if typ == icmp6NS {
				a = psND
			}
			b.in(oftable.TableChkInPortSec, 90, a, eth(ethIPv6), fProto.Exact(protoICMPv6), src,
				fIP6Src.Addr(netip.IPv6Unspecified()), fIP6Dst.Prefix(allNodes), fICMP6T.Exact(typ), fICMP6C.Exact(0))
		}
	}
}

// ndEntry: ARP and neighbour discovery must announce the entry's
// addresses only.
func (b *psFlows) ndEntry(e portSec) {
	src := fEthSrc.MAC(e.mac)
	if len(e.ipv4) == 0 {
		b.in(oftable.TableChkInPortSecND, 90, psPass, eth(ethARP), src, fARPSHA.MAC(e.mac))
	}
	for _, a := range e.ipv4 {
		b.in(oftable.TableChkInPortSecND, 90, psPass, eth(ethARP), src, addrMatch(fARPSPA, hostOrNet(a)), fARPSHA.MAC(e.mac))
	}
	icmp6 := []openflow.OXM{eth(ethIPv6), fProto.Exact(protoICMPv6)}
	zero := net.HardwareAddr{0, 0, 0, 0, 0, 0}
	for _, mac := range []net.HardwareAddr{zero, e.mac} {
		b.in(oftable.TableChkInPortSecND, 90, psPass, append(icmp6, fTTL.Exact(ndTTL), fICMP6T.Exact(icmp6NS),
			fICMP6C.Exact(0), fNDSLL.MAC(mac))...)
	}
	if len(e.ipv6) == 0 {
		for _, mac := range []net.HardwareAddr{zero, e.mac} {
			b.in(oftable.TableChkInPortSecND, 90, psPass, append(icmp6, fTTL.Exact(ndTTL), fICMP6T.Exact(icmp6NA),
				fICMP6C.Exact(0), fNDTLL.MAC(mac))...)
		}
		return
	}
	for _, mac := range []net.HardwareAddr{zero, e.mac} {
		b.in(oftable.TableChkInPortSecND, 90, psPass, append(icmp6, fTTL.Exact(ndTTL), fICMP6T.Exact(icmp6NA),
			fICMP6C.Exact(0), fNDTgt.Addr(lla(e.mac).Addr()), fNDTLL.MAC(mac))...)
		for _, a := range e.ipv6 {
			b.in(oftable.TableChkInPortSecND, 90, psPass, append(icmp6, src, fICMP6T.Exact(icmp6NA),
				fICMP6C.Exact(0), addrMatch(fNDTgt, hostOrNet(a)), fNDTLL.MAC(mac))...)
		}
	}
}

// outEntry: packets to the port for the entry's addresses, broadcast and
// multicast.
func (b *psFlows) outEntry(e portSec) {
	dst := fEthDst.MAC(e.mac)
	b.egress(85, psPass, dst)
	if len(e.ipv4) == 0 && len(e.ipv6) == 0 {
		return
	}
	b.egress(90, psFail, eth(ethIPv4), dst)
	b.egress(90, psFail, eth(ethIPv6), dst)
	if len(e.ipv4) > 0 {
		for _, a := range e.ipv4 {
			n := hostOrNet(a)
			b.egress(95, psPass, eth(ethIPv4), dst, addrMatch(fIPDst, n))
			if a.Bits() < 32 {
				b.egress(95, psPass, eth(ethIPv4), dst, fIPDst.Addr(broadcast(a)))
			}
		}
		b.egress(95, psPass, eth(ethIPv4), dst, fIPDst.Addr(netip.AddrFrom4([4]byte{255, 255, 255, 255})))
		b.egress(95, psPass, eth(ethIPv4), dst, fIPDst.Prefix(netip.MustParsePrefix("224.0.0.0/4")))
	}
	if len(e.ipv6) > 0 {
		for _, a := range append([]netip.Prefix{lla(e.mac)}, e.ipv6...) {
			b.egress(95, psPass, eth(ethIPv6), dst, addrMatch(fIP6Dst, hostOrNet(a)))
		}
		b.egress(95, psPass, eth(ethIPv6), dst, fIP6Dst.Prefix(netip.MustParsePrefix("ff00::/8")))
	}
}

// Package lbhairpin builds the load-balancer hairpin flows that
// ovn-controller derives from the southbound Load_Balancer table rather
// than from logical flows: tables 68 and 69, which chk_lb_hairpin() and
// chk_lb_hairpin_reply() look up, and table 70, which ct_snat_to_vip
// resubmits to. A backend that connects to its own load balancer's VIP
// and is chosen itself gets its packet back with the VIP (or the load
// balancer's hairpin_snat_ip) as source, and its replies are recognised
// on the way back.
//
// Flows is pure: rows in, flows out.
package lbhairpin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// Logical registers the hairpin flows read and set.
var (
	regOrigDIP4  = openflow.Reg(1)      // reg1: a load-balanced packet's original IPv4 destination
	regOrigDIP6  = openflow.F("xxreg1") // xxreg1: the same for IPv6
	regOrigTPDst = openflow.Reg(2)      // reg2[0..15]: its original transport destination port
	regFlags     = openflow.Reg(10)     // MFF_LOG_FLAGS
	regSNATZone  = openflow.Reg(12)     // the datapath's SNAT zone
)

// flagHairpin is the bit of regFlags that chk_lb_hairpin(_reply) reads
// (MLF_LOOKUP_LB_HAIRPIN_BIT).
const flagHairpin = 7

// natted is the bit ct_lb(_mark) sets in ct_mark (or, without
// ct_lb_mark, ct_label) on load-balanced connections.
const natted = 1 << 1

// LB is what the flows need of an SB Load_Balancer row.
type LB struct {
	UUID     string
	Protocol string            // tcp, udp or sctp; empty means tcp
	VIPs     map[string]string // "VIP[:port]" -> "backend[:port],..."
	Options  map[string]string // hairpin_snat_ip, hairpin_orig_tuple
}

// Config is what the flows need of the SB as a whole.
type Config struct {
	// UseCTMark says load-balanced connections carry the natted bit in
	// ct_mark (SB_Global options:lb_hairpin_use_ct_mark, true unless
	// "false"); otherwise in ct_label.
	UseCTMark bool
}

// Flows returns the hairpin flows of each load balancer, by owner
// ("lb/<uuid>"). A VIP or backend that does not parse costs only its
// own flows and is reported in the returned error.
func Flows(lbs []LB, cfg Config) (map[string][]flowtable.Flow, error) {
	out := make(map[string][]flowtable.Flow, len(lbs))
	var errs []error
	for _, lb := range lbs {
		flows, err := lbFlows(lb, cfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("load balancer %s: %w", lb.UUID, err))
		}
		out["lb/"+lb.UUID] = flows
	}
	return out, errors.Join(errs...)
}

// vip is one parsed VIP with its backends.
type vip struct {
	addr     netip.Addr
	port     uint16 // 0: none
	backends []netip.AddrPort
}

func lbFlows(lb LB, cfg Config) ([]flowtable.Flow, error) {
	proto, err := protoNumber(lb.Protocol)
	if err != nil {
		return nil, err
	}
	snat4, snat6, err := snatIPs(lb.Options["hairpin_snat_ip"])
	if err != nil {
		return nil, err
	}
	b := builder{lb: lb, proto: proto, cookie: cookie(lb.UUID), useCTMark: cfg.UseCTMark,
		origTuple: lb.Options["hairpin_orig_tuple"] == "true", snat4: snat4, snat6: snat6}
	var flows []flowtable.Flow
	var errs []error
	for key, backends := range lb.VIPs {
		v, err := parseVIP(key, backends)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, be := range v.backends {
			flows = append(flows, b.hairpin(v, be))
		}
		flows = append(flows, b.snat(v))
	}
	return flows, errors.Join(errs...)
}

type builder struct {
	lb           LB
	proto        uint8
	cookie       uint64
	useCTMark    bool
	origTuple    bool
	snat4, snat6 netip.Addr
}

// snatIP is the source a hairpinned packet of v leaves with.
func (b *builder) snatIP(v vip) netip.Addr {
	if v.addr.Is4() && b.snat4.IsValid() {
		return b.snat4
	}
	if v.addr.Is6() && b.snat6.IsValid() {
		return b.snat6
	}
	return v.addr
}

// origDst matches v as the packet's original destination: from the
// registers northd's pre-stateful stage loaded (hairpin_orig_tuple), or
// from the connection's original tuple.
func (b *builder) origDst(v vip) openflow.Match {
	var m openflow.Match
	if b.origTuple {
		if v.addr.Is4() {
			m = append(m, regOrigDIP4.Addr(v.addr))
		} else {
			m = append(m, regOrigDIP6.Addr(v.addr))
		}
		if v.port != 0 {
			m = append(m, regOrigTPDst.Masked(uint64(v.port), 0xffff))
		}
		return m
	}
	if v.addr.Is4() {
		m = append(m, openflow.F("ct_nw_dst").Addr(v.addr))
	} else {
		m = append(m, openflow.F("ct_ipv6_dst").Addr(v.addr))
	}
	if v.port != 0 {
		m = append(m, openflow.F("ct_nw_proto").Exact(uint64(b.proto)), openflow.F("ct_tp_dst").Exact(uint64(v.port)))
	}
	return m
}

// hairpin is the table 68 flow for backend be of v: a load-balanced
// packet whose source is its own (NATed) destination sets the hairpin
// flag and learns, in table 69, the flow that recognises the replies.
func (b *builder) hairpin(v vip, be netip.AddrPort) flowtable.Flow {
	natField := openflow.F("ct_label")
	if b.useCTMark {
		natField = openflow.F("ct_mark")
	}
	m := openflow.Match{natField.Masked(natted, natted), ethType(v.addr)}
	if be.Port() != 0 {
		m = append(m, openflow.F("nw_proto").Exact(uint64(b.proto)))
	}
	m = append(m, b.origDst(v)...)
	src, dst := ipFields(v.addr)
	m = append(m, src.Addr(be.Addr()), dst.Addr(be.Addr()))
	if be.Port() != 0 {
		m = append(m, l4Field(b.proto, "dst").Exact(uint64(be.Port())))
	}
	specs := []openflow.LearnSpec{
		copySpec(openflow.F("metadata").All(), openflow.F("metadata").All()),
		immSpec(openflow.F("eth_type").All(), u16(ethTypeOf(v.addr))),
		copySpec(src.All(), src.All()),
		immSpec(dst.All(), b.snatIP(v).AsSlice()),
	}
	if be.Port() != 0 {
		specs = append(specs, immSpec(openflow.F("nw_proto").All(), u16(uint16(b.proto))),
			copySpec(l4Field(b.proto, "dst").All(), l4Field(b.proto, "src").All()))
	}
	specs = append(specs, openflow.LearnSpec{Kind: openflow.LearnLoad, Value: u16(1), Dst: regFlags.Sub(flagHairpin, 1)})
	return flowtable.Flow{Table: oftable.TableChkLBHairpin, Priority: 100, Cookie: b.cookie, Match: m,
		Actions: []openflow.Action{
			&openflow.SetField{OXM: regFlags.Masked(1<<flagHairpin, 1<<flagHairpin)},
			&openflow.Learn{Table: oftable.TableChkLBHairpinRep, Priority: 0x8000, Cookie: b.cookie,
				Flags: openflow.LearnDeleteLearned, Specs: specs},
		}}
}

// snat is the table 70 flow of v: a hairpinned packet is committed in
// the SNAT zone with the VIP (or hairpin_snat_ip) as its source.
func (b *builder) snat(v vip) flowtable.Flow {
	m := openflow.Match{ethType(v.addr)}
	if v.port != 0 {
		m = append(m, openflow.F("nw_proto").Exact(uint64(b.proto)))
	}
	m = append(m, b.origDst(v)...)
	return flowtable.Flow{Table: oftable.TableCTSNATHairpin, Priority: 100, Cookie: b.cookie, Match: m,
		Actions: []openflow.Action{&openflow.CT{Flags: openflow.CTCommit, ZoneSrc: regSNATZone.Sub(0, 16),
			Table: openflow.CTNoTable, Actions: []openflow.Action{&openflow.NAT{Flags: openflow.NATSrc, IPMin: b.snatIP(v)}}}}}
}

func copySpec(src, dst openflow.Subfield) openflow.LearnSpec {
	return openflow.LearnSpec{Kind: openflow.LearnMatch, Src: src, Dst: dst}
}

func immSpec(dst openflow.Subfield, v []byte) openflow.LearnSpec {
	return openflow.LearnSpec{Kind: openflow.LearnMatch, Value: v, Dst: dst}
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func ethTypeOf(a netip.Addr) uint16 {
	if a.Is4() {
		return 0x0800
	}
	return 0x86dd
}

func ethType(a netip.Addr) openflow.OXM { return openflow.F("eth_type").Exact(uint64(ethTypeOf(a))) }

func ipFields(a netip.Addr) (src, dst *openflow.Field) {
	if a.Is4() {
		return openflow.F("ip_src"), openflow.F("ip_dst")
	}
	return openflow.F("ipv6_src"), openflow.F("ipv6_dst")
}

func l4Field(proto uint8, dir string) *openflow.Field {
	name := map[uint8]string{6: "tcp", 17: "udp", 132: "sctp"}[proto]
	return openflow.F(name + "_" + dir)
}

func protoNumber(p string) (uint8, error) {
	switch p {
	case "", "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "sctp":
		return 132, nil
	}
	return 0, fmt.Errorf("protocol %q: want tcp, udp or sctp", p)
}

// cookie is the first 32 bits of the row's UUID, as ovn-controller
// marks the flows of an SB row.
func cookie(uuid string) uint64 {
	hex := strings.ReplaceAll(uuid, "-", "")
	if len(hex) < 8 {
		return 0
	}
	v, err := strconv.ParseUint(hex[:8], 16, 32)
	if err != nil {
		return 0
	}
	return v
}

// snatIPs parses hairpin_snat_ip: up to one IPv4 and one IPv6 address,
// separated by spaces.
func snatIPs(s string) (v4, v6 netip.Addr, err error) {
	for _, f := range strings.Fields(s) {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return v4, v6, fmt.Errorf("hairpin_snat_ip %q: %w", s, err)
		}
		if a.Is4() && !v4.IsValid() {
			v4 = a
		} else if a.Is6() && !v6.IsValid() {
			v6 = a
		}
	}
	return v4, v6, nil
}

// parseVIP parses a vips entry: "10.0.0.1", "10.0.0.1:80", "[fd00::1]:80",
// "fd00::1" and its backends "IP[:port],...". Backends of the other
// address family are left out, as ovn-controller does.
func parseVIP(key, backends string) (vip, error) {
	ap, err := parseAddrPort(key)
	if err != nil {
		return vip{}, fmt.Errorf("vip %q: %w", key, err)
	}
	v := vip{addr: ap.Addr(), port: ap.Port()}
	for _, s := range strings.Split(backends, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		be, err := parseAddrPort(s)
		if err != nil {
			return vip{}, fmt.Errorf("vip %q: backend %q: %w", key, s, err)
		}
		if be.Addr().Is4() == v.addr.Is4() {
			v.backends = append(v.backends, be)
		}
	}
	return v, nil
}

func parseAddrPort(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 0), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

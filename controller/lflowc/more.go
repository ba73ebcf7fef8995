package lflowc

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// This file holds the actions of router and QoS features: MTU checks,
// meters and queues, load-balancer affinity, router advertisements,
// controller events and virtual ports.

// FlagLBAffinity is the logical flag chk_lb_aff's table 78 sets.
const FlagLBAffinity = 14

// fragMTU compiles icmp4.frag_mtu = N / icmp6.frag_mtu = N inside
// icmp4_error / icmp6_error: a nested controller action (with pause)
// that tells pinctrl the MTU to put in the ICMP message.
func (ac *actionCompiler) fragMTU(a lflow.Assign) ([]openflow.Action, error) {
	if a.Src.Kind != lflow.ConstValue || a.Src.Const.IsStr {
		return nil, fmt.Errorf("%s must be set to a number", a.Dst)
	}
	v := a.Src.Const.Value.Lo
	switch a.Dst.Sym.Name {
	case "icmp4.frag_mtu":
		b := binary.BigEndian.AppendUint16(nil, uint16(v))
		return []openflow.Action{ac.plainControllerOp(OpPutICMP4FragMTU, true, b)}, nil
	case "icmp6.frag_mtu":
		b := binary.BigEndian.AppendUint32(nil, uint32(v))
		return []openflow.Action{ac.plainControllerOp(OpPutICMP6FragMTU, true, b)}, nil
	}
	return nil, fmt.Errorf("field %s cannot be assigned", a.Dst)
}

// plainControllerOp is controllerOp without the lflow's meter, as the
// frag_mtu actions nested in a userdata carry none.
func (ac *actionCompiler) plainControllerOp(op Opcode, pause bool, payload []byte) *openflow.Controller {
	c := ac.controllerOp(op, pause, payload)
	c.MeterID = 0
	return c
}

// checkPktLarger: R = check_pkt_larger(L).
func (ac *actionCompiler) checkPktLarger(o lflow.Op) ([]openflow.Action, error) {
	if len(o.Args) != 1 {
		return nil, fmt.Errorf("want one packet length")
	}
	n, err := argInt(o.Args[0].Value)
	if err != nil {
		return nil, err
	}
	dst, err := subfield(*o.Result)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{&openflow.CheckPktLarger{PktLen: uint16(n), Dst: dst}}, nil
}

func (ac *actionCompiler) setQueue(o lflow.Op) ([]openflow.Action, error) {
	if len(o.Args) != 1 {
		return nil, fmt.Errorf("want one queue number")
	}
	n, err := argInt(o.Args[0].Value)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{&openflow.SetQueue{ID: uint32(n)}}, nil
}

// setMeter: set_meter(rate[, burst]) meters the packet through a meter
// named after its configuration, as ovn-controller names it: the name
// after "__string: " is the meter in ovs-ofctl syntax, which is what the
// caller's Env.Meter must install under the id it returns. An id of 0
// (no meter) leaves the packet unmetered.
func (ac *actionCompiler) setMeter(o lflow.Op) ([]openflow.Action, error) {
	if len(o.Args) < 1 || len(o.Args) > 2 {
		return nil, fmt.Errorf("want a rate and an optional burst")
	}
	var vals []uint64
	for _, a := range o.Args {
		if a.Value.Kind != lflow.ConstValue || a.Value.Const.IsStr || a.Value.Const.Value.Hi != 0 {
			return nil, fmt.Errorf("%s is not a number", a.Value)
		}
		vals = append(vals, a.Value.Const.Value.Lo)
	}
	name := fmt.Sprintf("__string: kbps stats bands=type=drop rate=%d", vals[0])
	if len(vals) == 2 {
		name = fmt.Sprintf("__string: kbps burst stats bands=type=drop rate=%d burst_size=%d", vals[0], vals[1])
	}
	ac.refs.meters.add(name)
	id := ac.env.Meter(name)
	if id == 0 {
		return nil, nil // no meter (yet): the packet goes on unmetered
	}
	return []openflow.Action{&openflow.Meter{ID: id}}, nil
}

// chkLBAff: R = chk_lb_aff(); table 78 (learned by commit_lb_aff) sets
// the flag for connections with an affinity.
func (ac *actionCompiler) chkLBAff(o lflow.Op) ([]openflow.Action, error) {
	return ac.flagLookup(o, FlagLBAffinity, oftable.TableChkLBAffinity, nil, false)
}

// lookupMACIP: R = lookup_arp_ip(port, ip) / lookup_nd_ip(port, ip):
// whether table 66 knows a binding for ip on port, whatever the MAC
// (eth.dst is saved around the lookup, which loads it).
func (ac *actionCompiler) lookupMACIP(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, outportField, ipArg(o.Name == "lookup_nd_ip"))
	if err != nil {
		return nil, err
	}
	dst, err := subfield(*o.Result)
	if err != nil {
		return nil, err
	}
	acts := append(setupArgs(args), &openflow.StackPush{Field: ethDstField}, loadUint(flagBit(oftable.FlagLookupMAC), 0),
		openflow.ResubmitTable(oftable.TableMACBinding), &openflow.Move{Src: flagBit(oftable.FlagLookupMAC), Dst: dst},
		&openflow.StackPop{Field: ethDstField})
	return append(acts, restoreArgs(args)...), nil
}

// bindVport: bind_vport(vport, port) asks the controller to bind
// virtual port vport to the port the packet came from; the userdata
// holds vport's tunnel key.
func (ac *actionCompiler) bindVport(o lflow.Op) ([]openflow.Action, error) {
	if len(o.Args) != 2 || o.Args[0].Value.Kind != lflow.ConstValue || !o.Args[0].Value.Const.IsStr {
		return nil, fmt.Errorf(`want ("vport", port)`)
	}
	src := lflow.Op{Args: o.Args[1:]}
	args, err := opArgs(src, inportField)
	if err != nil {
		return nil, err
	}
	name := o.Args[0].Value.Const.Str
	key, ok := ac.portKey(ac.dp, name)
	if !ok {
		return nil, nil // ovn-controller drops the action when the port is unknown
	}
	acts := append(setupArgs(args), ac.controllerOp(OpBindVport, false, binary.BigEndian.AppendUint32(nil, key)))
	return append(acts, restoreArgs(args)...), nil
}

// Controller events trigger_event raises (enum ovn_controller_event)
// and the codes of their options.
var (
	controllerEvents = map[string]uint32{"empty_lb_backends": 0}
	eventOptions     = map[string]uint16{"vip": 1, "protocol": 2, "load_balancer": 3}
)

// triggerEvent: trigger_event(event = "name", meter = "m", opt = "v",
// ...): the event number, then each option as code, length, value.
func (ac *actionCompiler) triggerEvent(o lflow.Op) ([]openflow.Action, error) {
	var event *uint32
	var opts []byte
	meter := ac.ctrlMeter
	for _, a := range o.Args {
		if a.Key == nil || a.Value.Kind != lflow.ConstValue || !a.Value.Const.IsStr {
			return nil, fmt.Errorf("argument %s: want name = \"value\"", a)
		}
		k, v := a.Key.Word, a.Value.Const.Str
		switch code, isOpt := eventOptions[k]; {
		case k == "event":
			e, ok := controllerEvents[v]
			if !ok {
				return nil, fmt.Errorf("unknown event %q", v)
			}
			event = &e
		case k == "meter":
			ac.refs.meters.add(v)
			meter = ac.env.Meter(v)
		case isOpt:
			opts = binary.BigEndian.AppendUint16(opts, code)
			opts = binary.BigEndian.AppendUint16(opts, uint16(len(v)))
			opts = append(opts, v...)
		default:
			return nil, fmt.Errorf("unknown option %s", k)
		}
	}
	if event == nil {
		return nil, fmt.Errorf("event is required")
	}
	c := ac.controllerOp(OpEvent, false, append(binary.BigEndian.AppendUint32(nil, *event), opts...))
	c.MeterID = meter
	return []openflow.Action{c}, nil
}

// ND router advertisement constants (RFC 4861) as put_nd_ra_opts uses
// them.
const (
	raCurHopLimit    = 255
	raLifetime       = 0xffff
	raManaged        = 0x80
	raOther          = 0x40
	prefixOnLink     = 0x80
	prefixAutonomous = 0x40
)

// putNDRAOpts: R = put_nd_ra_opts(addr_mode = "...", slla = MAC,
// prefix = P/len, mtu = N, ...): the result field, then the router
// advertisement pinctrl sends, with its options in the order written.
func (ac *actionCompiler) putNDRAOpts(o lflow.Op) ([]openflow.Action, error) {
	b, err := resultHeader(*o.Result)
	if err != nil {
		return nil, err
	}
	ra := []byte{134, 0, 0, 0, raCurHopLimit, 0, raLifetime >> 8, raLifetime & 0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	la := byte(prefixOnLink | prefixAutonomous)
	seen := map[string]bool{}
	for _, a := range o.Args {
		if a.Key == nil {
			return nil, fmt.Errorf("option %s needs a name", a.Value)
		}
		seen[a.Key.Word] = true
		if a.Key.Word != "addr_mode" {
			continue
		}
		switch a.Value.Const.Str {
		case "dhcpv6_stateful":
			ra[5], la = raManaged, prefixOnLink
		case "dhcpv6_stateless":
			ra[5] = raOther
		case "slaac":
		default:
			return nil, fmt.Errorf(`invalid value for "addr_mode" option`)
		}
	}
	// ovn-controller's checks.
	switch {
	case !seen["addr_mode"]:
		return nil, fmt.Errorf("addr_mode option not present")
	case !seen["slla"]:
		return nil, fmt.Errorf("slla option not present")
	case ra[5] != raManaged && !seen["prefix"]:
		return nil, fmt.Errorf("prefix option needs to be set when address mode is slaac/dhcpv6_stateless")
	}
	for _, a := range o.Args {
		vals, err := optionValues(a.Value)
		if err != nil || len(vals) != 1 {
			return nil, fmt.Errorf(`invalid value for "%s" option`, a.Key)
		}
		switch a.Key.Word {
		case "addr_mode":
		case "slla":
			ra = append(append(ra, 1, 1), u128Bytes(vals[0].Value, 6)...)
		case "mtu":
			ra = binary.BigEndian.AppendUint32(append(ra, 5, 1, 0, 0), uint32(vals[0].Value.Lo))
		case "prefix":
			p := vals[0]
			plen := 128
			if p.Masked {
				plen = p.Mask.OnesCount()
			}
			ra = append(ra, 3, 4, byte(plen), la, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0)
			ra = append(ra, u128Bytes(p.Value, 16)...)
		default:
			return nil, fmt.Errorf("option %s is not supported", a.Key)
		}
	}
	return []openflow.Action{ac.controllerOp(OpPutNDRAOpts, true, append(b, ra...))}, nil
}

// FlagECMPNH is the logical flag chk_ecmp_nh and chk_ecmp_nh_mac read
// from tables 77 and 76 (learned by commit_ecmp_nh).
const FlagECMPNH = 13

// chkECMPNH: R = chk_ecmp_nh() / chk_ecmp_nh_mac().
func (ac *actionCompiler) chkECMPNH(o lflow.Op) ([]openflow.Action, error) {
	table := uint8(oftable.TableECMPNH)
	if o.Name == "chk_ecmp_nh_mac" {
		table = oftable.TableECMPNHMAC
	}
	return ac.flagLookup(o, FlagECMPNH, table, nil, false)
}

// selectGroup: R = select(v1[=w1], v2[=w2], ...) loads one of the
// values into R, chosen by a dp_hash select group whose buckets (weight
// 100 unless given) each load their value and go on to the next table,
// as ovn-controller builds it.
func (ac *actionCompiler) selectGroup(o lflow.Op) ([]openflow.Action, error) {
	if ac.groups == nil {
		return nil, fmt.Errorf("needs a Compiler's group table")
	}
	dst, err := subfield(*o.Result)
	if err != nil {
		return nil, err
	}
	mod := &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeSelect,
		CommandBucketID: openflow.BucketAll, Selection: &openflow.Selection{Method: "dp_hash", Param: 1 << 32}}
	for i, a := range o.Args {
		val, weight := a.Value, lflow.Value{Kind: lflow.ConstValue, Const: lflow.IntConst(lflow.U128{Lo: 100}, lflow.Decimal)}
		if a.Key != nil {
			val, weight = *a.Key, a.Value
		}
		v, err := argInt(val)
		if err != nil {
			return nil, err
		}
		w, err := argInt(weight)
		if err != nil {
			return nil, err
		}
		mod.Buckets = append(mod.Buckets, openflow.Bucket{ID: uint32(i), Weight: uint16(w),
			Actions: []openflow.Action{loadUint(dst, uint64(v)), openflow.ResubmitTable(ac.nextTable())}})
	}
	if len(mod.Buckets) == 0 {
		return nil, fmt.Errorf("no values")
	}
	return []openflow.Action{&openflow.Group{ID: ac.groups.ref(ac.lf.UUID, mod)}}, nil
}

// fwdGroup: fwd_group(childports = "p1", "p2", ...) outputs to one of
// the ports through a dp_hash select group. liveness=true needs the
// tunnels' bfd state, which ovnd does not track yet.
func (ac *actionCompiler) fwdGroup(o lflow.Op) ([]openflow.Action, error) {
	mod := &openflow.GroupMod{Command: openflow.GroupAdd, GroupType: openflow.GroupTypeSelect,
		CommandBucketID: openflow.BucketAll, Selection: &openflow.Selection{Method: "dp_hash"}}
	for _, a := range o.Args {
		if a.Value.Kind != lflow.ConstValue || !a.Value.Const.IsStr {
			return nil, fmt.Errorf("argument %s is not a string", a)
		}
		if a.Key != nil && a.Key.Word == "liveness" {
			if a.Value.Const.Str == "true" {
				return nil, fmt.Errorf("liveness is not supported")
			}
			continue
		}
		if a.Key != nil && a.Key.Word != "childports" {
			return nil, fmt.Errorf("unknown argument %s", a.Key)
		}
		key, ok := ac.portKey(ac.dp, a.Value.Const.Str)
		if !ok {
			continue
		}
		mod.Buckets = append(mod.Buckets, openflow.Bucket{ID: uint32(len(mod.Buckets)),
			Actions: []openflow.Action{loadUint(outportField.Field.Sub(0, 16), uint64(key)), openflow.ResubmitTable(oftable.TableOutputLarge)}})
	}
	switch {
	case len(mod.Buckets) == 0:
		return nil, nil
	case ac.groups == nil:
		return nil, fmt.Errorf("needs a Compiler's group table")
	}
	return []openflow.Action{&openflow.Group{ID: ac.groups.ref(ac.lf.UUID, mod)}}, nil
}

// commitLBAff: commit_lb_aff(vip = "IP:port", backend = "IP:port",
// proto = P, timeout = T) learns a flow in table 78 that, for T seconds
// of idleness, sends the client (datapath, source address) to the same
// backend: it sets flags[14] and loads the backend into reg4 (IPv4) or
// xxreg0 (IPv6) and its port into reg8[0..15], which the load balancer
// flows then use.
func (ac *actionCompiler) commitLBAff(o lflow.Op) ([]openflow.Action, error) {
	var vip, backend netip.AddrPort
	var proto uint8
	var timeout int
	for _, a := range o.Args {
		if a.Key == nil {
			return nil, fmt.Errorf("argument %s needs a name", a.Value)
		}
		var err error
		switch a.Key.Word {
		case "vip":
			vip, err = addrPort(a.Value)
		case "backend":
			backend, err = addrPort(a.Value)
		case "proto":
			proto, err = protoNumber(a.Value)
		case "timeout":
			timeout, err = argInt(a.Value)
		default:
			err = fmt.Errorf("unknown argument %s", a.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if !vip.IsValid() || !backend.IsValid() || vip.Addr().Is4() != backend.Addr().Is4() {
		return nil, fmt.Errorf("vip and backend must be addresses of one family")
	}
	v4 := vip.Addr().Is4()
	ethType, src, dst, backendReg := []byte{0x08, 0x00}, "ip_src", "ip_dst", openflow.Reg(4).All()
	if !v4 {
		ethType, src, dst, backendReg = []byte{0x86, 0xdd}, "ipv6_src", "ipv6_dst", xxreg0Field
	}
	meta, ipSrc := openflow.F("metadata").All(), openflow.F(src).All()
	specs := []openflow.LearnSpec{
		learnCopy(meta, meta),
		learnImm(openflow.F("eth_type"), ethType),
		learnCopy(ipSrc, ipSrc),
		learnImm(openflow.F(dst), vip.Addr().AsSlice()),
	}
	if proto != 0 {
		specs = append(specs, learnImm(openflow.F("nw_proto"), []byte{0, proto}))
	}
	if proto != 0 && vip.Port() != 0 {
		specs = append(specs, learnImm(l4Field(proto, "dst"), binary.BigEndian.AppendUint16(nil, vip.Port())))
	}
	specs = append(specs,
		openflow.LearnSpec{Kind: openflow.LearnLoad, Value: []byte{0, 1}, Dst: flagBit(FlagLBAffinity)},
		openflow.LearnSpec{Kind: openflow.LearnLoad, Value: backend.Addr().AsSlice(), Dst: backendReg})
	if backend.Port() != 0 {
		specs = append(specs, openflow.LearnSpec{Kind: openflow.LearnLoad,
			Value: binary.BigEndian.AppendUint16(nil, backend.Port()), Dst: openflow.Reg(8).Sub(0, 16)})
	}
	return []openflow.Action{&openflow.Learn{Table: oftable.TableChkLBAffinity, IdleTimeout: uint16(timeout), Priority: 0x8000,
		Flags: openflow.LearnDeleteLearned, Specs: specs}}, nil
}

// ECMP symmetric reply timeouts ovn-controller gives the learned flows.
const (
	ecmpIdleTimeout = 20
	ecmpHardTimeout = 30
)

// commitECMPNH: commit_ecmp_nh(ipv6 = B, proto = P) learns, for the
// connection's 5-tuple, that it came through this next hop: a flow in
// table 76 on the source MAC and the tuple, and one in table 77 on the
// reversed tuple, both setting flags[13] (chk_ecmp_nh_mac /
// chk_ecmp_nh read them).
func (ac *actionCompiler) commitECMPNH(o lflow.Op) ([]openflow.Action, error) {
	v6, proto := false, uint8(0)
	for _, a := range o.Args {
		if a.Key == nil {
			return nil, fmt.Errorf("argument %s needs a name", a.Value)
		}
		var err error
		switch a.Key.Word {
		case "ipv6":
			switch a.Value.Word {
			case "true":
				v6 = true
			case "false":
			default:
				err = fmt.Errorf("ipv6 must be true or false")
			}
		case "proto":
			proto, err = protoNumber(a.Value)
		default:
			err = fmt.Errorf("unknown argument %s", a.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	if proto == 0 {
		return nil, fmt.Errorf("proto is required")
	}
	ethType, srcName, dstName := []byte{0x08, 0x00}, "ip_src", "ip_dst"
	if v6 {
		ethType, srcName, dstName = []byte{0x86, 0xdd}, "ipv6_src", "ipv6_dst"
	}
	meta, ethSrc := openflow.F("metadata").All(), ethSrcField
	ipSrc, ipDst := openflow.F(srcName).All(), openflow.F(dstName).All()
	l4Src, l4Dst := l4Field(proto, "src").All(), l4Field(proto, "dst").All()
	flag := openflow.LearnSpec{Kind: openflow.LearnLoad, Value: []byte{0, 1}, Dst: flagBit(FlagECMPNH)}
	learn := func(table uint8, specs ...openflow.LearnSpec) *openflow.Learn {
		return &openflow.Learn{Table: table, IdleTimeout: ecmpIdleTimeout, HardTimeout: ecmpHardTimeout, Priority: 0x8000,
			Flags: openflow.LearnDeleteLearned, Specs: append(specs, flag)}
	}
	eth, nw := learnImm(openflow.F("eth_type"), ethType), learnImm(openflow.F("nw_proto"), []byte{0, proto})
	return []openflow.Action{
		learn(oftable.TableECMPNHMAC, learnCopy(meta, meta), learnCopy(ethSrc, ethSrc), eth, learnCopy(ipSrc, ipSrc),
			learnCopy(ipDst, ipDst), nw, learnCopy(l4Src, l4Src), learnCopy(l4Dst, l4Dst)),
		learn(oftable.TableECMPNH, learnCopy(meta, meta), eth, learnCopy(ipDst, ipSrc), learnCopy(ipSrc, ipDst), nw,
			learnCopy(l4Dst, l4Src), learnCopy(l4Src, l4Dst)),
	}, nil
}

// learnCopy is a learned match on dst with the value of src in the
// packet; learnImm one on all of f with an immediate value.
func learnCopy(src, dst openflow.Subfield) openflow.LearnSpec {
	return openflow.LearnSpec{Kind: openflow.LearnMatch, Src: src, Dst: dst}
}

func learnImm(f *openflow.Field, v []byte) openflow.LearnSpec {
	return openflow.LearnSpec{Kind: openflow.LearnMatch, Value: v, Dst: f.All()}
}

func protoNumber(v lflow.Value) (uint8, error) {
	p, ok := map[string]uint8{"tcp": 6, "udp": 17, "sctp": 132}[v.Word]
	if !ok {
		return 0, fmt.Errorf("unknown proto %s", v)
	}
	return p, nil
}

// l4Field is the transport port field of an IP protocol.
func l4Field(proto uint8, which string) *openflow.Field {
	return openflow.F(map[uint8]string{6: "tcp_", 17: "udp_", 132: "sctp_"}[proto] + which)
}

// addrPort reads "IP" or "IP:port" (IPv6 as "[IP]:port").
func addrPort(v lflow.Value) (netip.AddrPort, error) {
	if v.Kind != lflow.ConstValue || !v.Const.IsStr {
		return netip.AddrPort{}, fmt.Errorf("%s is not a string", v)
	}
	if ap, err := netip.ParseAddrPort(v.Const.Str); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(v.Const.Str)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not an address[:port]", v.Const.Str)
	}
	return netip.AddrPortFrom(a, 0), nil
}

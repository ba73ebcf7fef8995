package lflowc

import (
	"encoding/binary"
	"fmt"

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
// caller's Env.Meter must install under the id it returns.
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
	ac.refs.meters[name] = true
	return []openflow.Action{&openflow.Meter{ID: ac.env.Meter(name)}}, nil
}

// chkLBAff: R = chk_lb_aff(); table 78 (learned by commit_lb_aff) sets
// the flag for connections with an affinity.
func (ac *actionCompiler) chkLBAff(o lflow.Op) ([]openflow.Action, error) {
	return ac.flagLookup(o, FlagLBAffinity, TableChkLBAffinity, nil, false)
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
	acts := append(setupArgs(args), &openflow.StackPush{Field: ethDstField}, loadUint(flagBit(FlagLookupMAC), 0),
		openflow.ResubmitTable(TableMACBinding), &openflow.Move{Src: flagBit(FlagLookupMAC), Dst: dst},
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
			ac.refs.meters[v] = true
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

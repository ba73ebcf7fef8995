package lflowc

import (
	"fmt"

	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// actionCompiler compiles the actions of one lflow on one datapath.
type actionCompiler struct {
	*compiler
	dp     uint32
	router bool
}

// actions compiles a list of actions. top is false inside the bodies of
// nested actions (arp { ... }), which pinctrl runs on a new packet.
func (ac *actionCompiler) actions(acts []lflow.Action, top bool) ([]openflow.Action, error) {
	out := make([]openflow.Action, 0, len(acts))
	for _, a := range acts {
		var got []openflow.Action
		var err error
		switch a := a.(type) {
		case lflow.Assign:
			if !a.Dst.Sym.ActionOnly {
				// The common case, one action, without a slice for it.
				one, err := ac.assignOne(a)
				if err != nil {
					return nil, err
				}
				out = append(out, one)
				continue
			}
			got, err = ac.assign(a)
		case lflow.Exchange:
			got, err = exchange(a)
		case lflow.Decrement:
			got = []openflow.Action{&openflow.DecTTLIDs{}}
		case lflow.Op:
			got, err = ac.op(a)
		default:
			err = fmt.Errorf("unknown action %T", a)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// subfield is the OpenFlow home of a logical field reference: the base
// field (xxreg0 for reg0, reg10 for flags...) and the bits within it.
func subfield(r lflow.Ref) (openflow.Subfield, error) {
	if r.Sym.String {
		return regFields[portReg(r.Sym.Name)].All(), nil
	}
	base, lo, hi := lflow.Symbols.Base(r.Sym)
	if r.Sliced {
		lo, hi = lo+r.Lo, lo+r.Hi
	}
	f := openflow.FieldByName(base.OF)
	if base.OF == "" || f == nil || f.Width == 0 {
		return openflow.Subfield{}, fmt.Errorf("field %s cannot be used in actions", r.Sym.Name)
	}
	return f.Sub(lo, hi-lo+1), nil
}

// fieldBits is the number of bits of f a whole-field set_field covers.
func fieldBits(f *openflow.Field) int {
	if f.Bits != 0 {
		return f.Bits
	}
	return 8 * f.Width
}

// load sets subfield sf to v: set_field, with a mask unless sf is the
// whole field.
func load(sf openflow.Subfield, v lflow.U128) openflow.Action {
	n := sf.Field.Width
	masked := sf.Ofs != 0 || sf.NBits != fieldBits(sf.Field)
	buf := make([]byte, n, 2*n) // the value, then the mask if any
	putU128(buf, v.And(lflow.Ones(sf.NBits)).Lsh(sf.Ofs))
	o := openflow.OXM{Field: sf.Field, Value: buf[:n:n]}
	if masked {
		o.Mask = buf[n : 2*n : 2*n]
		putU128(o.Mask, lflow.BitRange(sf.Ofs, sf.Ofs+sf.NBits-1))
	}
	return &openflow.SetField{OXM: o}
}

func loadUint(sf openflow.Subfield, v uint64) openflow.Action { return load(sf, lflow.U128{Lo: v}) }

// flagBit is bit b of the logical flags register.
func flagBit(b int) openflow.Subfield { return openflow.Reg(oftable.RegFlags).Sub(b, 1) }

// putU128 writes the low len(b) bytes of v into b, big-endian.
func putU128(b []byte, v lflow.U128) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v.Lo)
		v = v.Rsh(8)
	}
}

func (ac *actionCompiler) assign(a lflow.Assign) ([]openflow.Action, error) {
	if a.Dst.Sym.ActionOnly {
		return ac.fragMTU(a)
	}
	one, err := ac.assignOne(a)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{one}, nil
}

// assignOne compiles an assignment to a field that is not ActionOnly.
func (ac *actionCompiler) assignOne(a lflow.Assign) (openflow.Action, error) {
	dst, err := subfield(a.Dst)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Src.Kind == lflow.RefValue:
		src, err := subfield(a.Src.Ref)
		if err != nil {
			return nil, err
		}
		return &openflow.Move{Src: src, Dst: dst}, nil
	case a.Src.Kind != lflow.ConstValue:
		return nil, fmt.Errorf("cannot assign %s to %s", a.Src, a.Dst)
	case a.Src.Const.IsStr:
		// A port name: its tunnel key on this datapath, 0 (no port) if
		// there is none, as ovn-controller loads.
		key, _ := ac.portKey(ac.dp, a.Src.Const.Str)
		return loadUint(dst, uint64(key)), nil
	}
	return load(dst, a.Src.Const.Value), nil
}

// exchange swaps two fields through the stack, as ovn-controller does.
func exchange(x lflow.Exchange) ([]openflow.Action, error) {
	a, err := subfield(x.A)
	if err != nil {
		return nil, err
	}
	b, err := subfield(x.B)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{&openflow.StackPush{Field: b}, &openflow.StackPush{Field: a},
		&openflow.StackPop{Field: b}, &openflow.StackPop{Field: a}}, nil
}

// opFuncs compiles each named action ovnd supports.
var opFuncs map[string]func(*actionCompiler, lflow.Op) ([]openflow.Action, error)

func init() {
	opFuncs = map[string]func(*actionCompiler, lflow.Op) ([]openflow.Action, error){
		"drop":          func(*actionCompiler, lflow.Op) ([]openflow.Action, error) { return nil, nil },
		"next":          (*actionCompiler).next,
		"output":        (*actionCompiler).output,
		"ct_next":       (*actionCompiler).ctNext,
		"ct_commit":     (*actionCompiler).ctCommit,
		"ct_commit_nat": (*actionCompiler).ctCommitNAT,
		"ct_clear": func(*actionCompiler, lflow.Op) ([]openflow.Action, error) {
			return []openflow.Action{&openflow.CTClear{}}, nil
		},
		"ct_lb":              (*actionCompiler).ctLB,
		"ct_lb_mark":         (*actionCompiler).ctLB,
		"ct_dnat":            (*actionCompiler).ctNAT,
		"ct_snat":            (*actionCompiler).ctNAT,
		"ct_dnat_in_czone":   (*actionCompiler).ctNAT,
		"ct_snat_in_czone":   (*actionCompiler).ctNAT,
		"check_in_port_sec":  (*actionCompiler).checkPortSec,
		"check_out_port_sec": (*actionCompiler).checkPortSec,
		"lookup_fdb":         (*actionCompiler).lookupFDB,
		"get_fdb":            (*actionCompiler).getFDB,
		"put_fdb":            (*actionCompiler).putFDB,
		"lookup_arp":         (*actionCompiler).lookupMAC,
		"lookup_nd":          (*actionCompiler).lookupMAC,
		"get_arp":            (*actionCompiler).getMAC,
		"get_nd":             (*actionCompiler).getMAC,
		"put_arp":            (*actionCompiler).putMAC,
		"put_nd":             (*actionCompiler).putMAC,
		"log":                (*actionCompiler).log,
		"handle_svc_check":   (*actionCompiler).handleSvcCheck,
		"arp":                (*actionCompiler).nested,
		"nd_ns":              (*actionCompiler).nested,
		"nd_na":              (*actionCompiler).nested,
		"nd_na_router":       (*actionCompiler).nested,
		"icmp4":              (*actionCompiler).nested,
		"icmp6":              (*actionCompiler).nested,
		"icmp4_error":        (*actionCompiler).nested,
		"icmp6_error":        (*actionCompiler).nested,
		"tcp_reset":          (*actionCompiler).nested,
		"reject":             (*actionCompiler).nested,
		"sctp_abort":         (*actionCompiler).nested,
		"clone":              (*actionCompiler).clone,
		"handle_dhcpv6_reply": func(ac *actionCompiler, _ lflow.Op) ([]openflow.Action, error) {
			return []openflow.Action{ac.controllerOp(OpHandleDHCP6Reply, false, nil)}, nil
		},
		"chk_lb_hairpin":       (*actionCompiler).chkLBHairpin,
		"chk_lb_hairpin_reply": (*actionCompiler).chkLBHairpin,
		"ct_snat_to_vip": func(*actionCompiler, lflow.Op) ([]openflow.Action, error) {
			return []openflow.Action{openflow.ResubmitTable(oftable.TableCTSNATHairpin)}, nil
		},
		"check_pkt_larger": (*actionCompiler).checkPktLarger,
		"set_queue":        (*actionCompiler).setQueue,
		"set_meter":        (*actionCompiler).setMeter,
		"chk_lb_aff":       (*actionCompiler).chkLBAff,
		"lookup_arp_ip":    (*actionCompiler).lookupMACIP,
		"lookup_nd_ip":     (*actionCompiler).lookupMACIP,
		"put_nd_ra_opts":   (*actionCompiler).putNDRAOpts,
		"trigger_event":    (*actionCompiler).triggerEvent,
		"bind_vport":       (*actionCompiler).bindVport,
		"chk_ecmp_nh":      (*actionCompiler).chkECMPNH,
		"chk_ecmp_nh_mac":  (*actionCompiler).chkECMPNH,
		"select":           (*actionCompiler).selectGroup,
		"commit_lb_aff":    (*actionCompiler).commitLBAff,
		"commit_ecmp_nh":   (*actionCompiler).commitECMPNH,
		"fwd_group":        (*actionCompiler).fwdGroup,
		// ovn-controller 23.03 parses sample() and emits nothing for it.
		"sample":          func(*actionCompiler, lflow.Op) ([]openflow.Action, error) { return nil, nil },
		"igmp":            (*actionCompiler).igmp,
		"put_dhcp_opts":   (*actionCompiler).putDHCPOpts,
		"put_dhcpv6_opts": (*actionCompiler).putDHCPv6Opts,
		"dns_lookup":      (*actionCompiler).dnsLookup,
	}
}

func (ac *actionCompiler) op(o lflow.Op) ([]openflow.Action, error) {
	f, ok := opFuncs[o.Name]
	if !ok {
		return nil, fmt.Errorf("action %s is not supported", o.Name)
	}
	acts, err := f(ac, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Name, err)
	}
	return acts, nil
}

// argInt returns the integer value of an argument.
func argInt(v lflow.Value) (int, error) {
	if v.Kind != lflow.ConstValue || v.Const.IsStr || v.Const.Value.Hi != 0 || v.Const.Value.Lo > 0xffff {
		return 0, fmt.Errorf("%s is not a small integer", v)
	}
	return int(v.Const.Value.Lo), nil
}

// next is resubmit to the next logical table, or to next(N) /
// next(pipeline=P, table=N).
func (ac *actionCompiler) next(o lflow.Op) ([]openflow.Action, error) {
	ingress, table := ac.ingress, ac.lf.TableID+1
	for _, a := range o.Args {
		key := "table"
		if a.Key != nil {
			key = a.Key.Word
		}
		switch key {
		case "table":
			n, err := argInt(a.Value)
			if err != nil {
				return nil, err
			}
			table = n
		case "pipeline":
			switch a.Value.Word {
			case "ingress":
				ingress = true
			case "egress":
				ingress = false
			default:
				return nil, fmt.Errorf("unknown pipeline %s", a.Value)
			}
		default:
			return nil, fmt.Errorf("unknown argument %s", key)
		}
	}
	if table < 0 || table >= oftable.MaxLogicalTables {
		return nil, fmt.Errorf("table %d out of range", table)
	}
	base := oftable.EgressBase
	if ingress {
		base = oftable.IngressBase
	}
	return []openflow.Action{openflow.ResubmitTable(uint8(base + table))}, nil
}

// output is resubmit to the output stage: large-packet detection after
// the ingress pipeline, the save-inport table after egress.
func (ac *actionCompiler) output(lflow.Op) ([]openflow.Action, error) {
	if ac.ingress {
		return []openflow.Action{openflow.ResubmitTable(oftable.TableOutputLarge)}, nil
	}
	return []openflow.Action{openflow.ResubmitTable(oftable.TableSaveInport)}, nil
}

// checkPortSec: clear the flag, let table 73 (in) or 75 (out) set it on
// failure, copy it to the result. controller/physical fills those
// tables from Port_Binding port_security.
func (ac *actionCompiler) checkPortSec(o lflow.Op) ([]openflow.Action, error) {
	table := uint8(oftable.TableChkInPortSec)
	if o.Name == "check_out_port_sec" {
		table = oftable.TableChkOutPortSec
	}
	return ac.flagLookup(o, oftable.FlagCheckPortSec, table, nil, false)
}

// flagLookup is the shape of every lookup action: set up arguments,
// clear a flag, resubmit to the lookup table, then restore the
// arguments and copy the flag to the result, in the order
// ovn-controller does for that action (lookup_arp and lookup_nd copy
// first).
func (ac *actionCompiler) flagLookup(o lflow.Op, flag int, table uint8, args []arg, copyFirst bool) ([]openflow.Action, error) {
	dst, err := subfield(*o.Result)
	if err != nil {
		return nil, err
	}
	acts := setupArgs(args)
	acts = append(acts, loadUint(flagBit(flag), 0), openflow.ResubmitTable(table))
	move := &openflow.Move{Src: flagBit(flag), Dst: dst}
	if copyFirst {
		return append(append(acts, move), restoreArgs(args)...), nil
	}
	return append(append(acts, restoreArgs(args)...), move), nil
}

// clone runs the body on a copy of the packet (NXAST_CLONE); the
// original goes on unchanged.
func (ac *actionCompiler) clone(o lflow.Op) ([]openflow.Action, error) {
	body, err := ac.actions(o.Body, false)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{&openflow.Clone{Actions: body}}, nil
}

// chkLBHairpin: R = chk_lb_hairpin() / chk_lb_hairpin_reply(): tables
// 68 and 69 (filled from SB Load_Balancer rows) set the hairpin flag.
func (ac *actionCompiler) chkLBHairpin(o lflow.Op) ([]openflow.Action, error) {
	table := uint8(oftable.TableChkLBHairpin)
	if o.Name == "chk_lb_hairpin_reply" {
		table = oftable.TableChkLBHairpinRep
	}
	return ac.flagLookup(o, oftable.FlagLookupLBHairpin, table, nil, false)
}

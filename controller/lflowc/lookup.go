package lflowc

import (
	"fmt"

	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// arg is one argument of a lookup action: the field the lflow names and
// the fixed field the lookup table reads it from.
type arg struct {
	src, dst openflow.Subfield
}

func (a arg) moves() bool { return a.src != a.dst }

// setupArgs saves every destination that the arguments overwrite, then
// moves the sources into place through the stack (so that arguments may
// swap), as ovn-controller does.
func setupArgs(args []arg) []openflow.Action {
	var acts []openflow.Action
	for _, a := range args {
		if a.moves() {
			acts = append(acts, &openflow.StackPush{Field: a.dst})
		}
	}
	for i := len(args) - 1; i >= 0; i-- {
		if args[i].moves() {
			acts = append(acts, &openflow.StackPush{Field: args[i].src})
		}
	}
	for _, a := range args {
		if a.moves() {
			acts = append(acts, &openflow.StackPop{Field: a.dst})
		}
	}
	return acts
}

// restoreArgs puts back what setupArgs saved.
func restoreArgs(args []arg) []openflow.Action {
	var acts []openflow.Action
	for i := len(args) - 1; i >= 0; i-- {
		if args[i].moves() {
			acts = append(acts, &openflow.StackPop{Field: args[i].dst})
		}
	}
	return acts
}

// args builds the arguments of o: each positional argument must be a
// field of the width of its fixed destination.
func opArgs(o lflow.Op, dsts ...openflow.Subfield) ([]arg, error) {
	if len(o.Args) != len(dsts) {
		return nil, fmt.Errorf("want %d arguments, got %d", len(dsts), len(o.Args))
	}
	out := make([]arg, len(dsts))
	for i, a := range o.Args {
		if a.Key != nil || a.Value.Kind != lflow.RefValue {
			return nil, fmt.Errorf("argument %d (%s) is not a field", i+1, a.Value)
		}
		src, err := subfield(a.Value.Ref)
		if err != nil {
			return nil, err
		}
		if src.NBits != dsts[i].NBits {
			return nil, fmt.Errorf("argument %d (%s) is %d bits, want %d", i+1, a.Value, src.NBits, dsts[i].NBits)
		}
		out[i] = arg{src, dsts[i]}
	}
	return out, nil
}

var (
	inportField  = openflow.Reg(oftable.RegInport).All()
	outportField = openflow.Reg(oftable.RegOutport).All()
	ethSrcField  = openflow.F("eth_src").All()
	ethDstField  = openflow.F("eth_dst").All()
	reg0Field    = openflow.Reg(0).All()
	xxreg0Field  = openflow.F("xxreg0").All()
)

// ipArg is where lookups take an IPv4 (reg0) or IPv6 (xxreg0) address.
func ipArg(v6 bool) openflow.Subfield {
	if v6 {
		return xxreg0Field
	}
	return reg0Field
}

// lookupFDB: R = lookup_fdb(port, mac), flag set by table 72.
func (ac *actionCompiler) lookupFDB(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, inportField, ethSrcField)
	if err != nil {
		return nil, err
	}
	return ac.flagLookup(o, oftable.FlagLookupFDB, oftable.TableLookupFDB, args, false)
}

// getFDB: R = get_fdb(mac); table 71 loads the port into outport.
func (ac *actionCompiler) getFDB(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, ethDstField)
	if err != nil {
		return nil, err
	}
	dst, err := subfield(*o.Result)
	if err != nil {
		return nil, err
	}
	acts := append(setupArgs(args), loadUint(outportField, 0), openflow.ResubmitTable(oftable.TableGetFDB))
	acts = append(acts, restoreArgs(args)...)
	if dst != outportField {
		acts = append(acts, &openflow.Move{Src: outportField, Dst: dst})
	}
	return acts, nil
}

// putFDB: put_fdb(port, mac) hands the binding to the controller.
func (ac *actionCompiler) putFDB(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, inportField, ethSrcField)
	if err != nil {
		return nil, err
	}
	acts := append(setupArgs(args), ac.controllerOp(OpPutFDB, false, nil))
	return append(acts, restoreArgs(args)...), nil
}

// lookupMAC: R = lookup_arp(port, ip, mac) / lookup_nd(...), flag set
// by table 67.
func (ac *actionCompiler) lookupMAC(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, inportField, ipArg(o.Name == "lookup_nd"), ethSrcField)
	if err != nil {
		return nil, err
	}
	return ac.flagLookup(o, oftable.FlagLookupMAC, oftable.TableMACLookup, args, true)
}

// getMAC: get_arp(port, ip) / get_nd(port, ip); table 66 loads eth.dst.
func (ac *actionCompiler) getMAC(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, outportField, ipArg(o.Name == "get_nd"))
	if err != nil {
		return nil, err
	}
	acts := append(setupArgs(args), loadUint(ethDstField, 0), openflow.ResubmitTable(oftable.TableMACBinding))
	return append(acts, restoreArgs(args)...), nil
}

// putMAC: put_arp(port, ip, mac) / put_nd(...) hands the binding to the
// controller.
func (ac *actionCompiler) putMAC(o lflow.Op) ([]openflow.Action, error) {
	v6 := o.Name == "put_nd"
	args, err := opArgs(o, inportField, ipArg(v6), ethSrcField)
	if err != nil {
		return nil, err
	}
	op := OpPutARP
	if v6 {
		op = OpPutND
	}
	acts := append(setupArgs(args), ac.controllerOp(op, false, nil))
	return append(acts, restoreArgs(args)...), nil
}

// handleSvcCheck: handle_svc_check(port) hands service-monitor replies
// to the controller.
func (ac *actionCompiler) handleSvcCheck(o lflow.Op) ([]openflow.Action, error) {
	args, err := opArgs(o, inportField)
	if err != nil {
		return nil, err
	}
	acts := append(setupArgs(args), ac.controllerOp(OpHandleSvcCheck, false, nil))
	return append(acts, restoreArgs(args)...), nil
}

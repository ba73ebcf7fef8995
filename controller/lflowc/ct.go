package lflowc

import (
	"fmt"
	"net/netip"

	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// zone is where the conntrack zone of a ct action comes from: the
// logical port's zone (reg13) on a switch, the router's DNAT (reg11) or
// SNAT (reg12) zone on a router.
func (ac *actionCompiler) zone(snat bool) openflow.Subfield {
	switch {
	case !ac.router:
		return openflow.Reg(oftable.RegCTZone).Sub(0, 16)
	case snat:
		return openflow.Reg(oftable.RegSNAT).Sub(0, 16)
	}
	return openflow.Reg(oftable.RegDNAT).Sub(0, 16)
}

// nextTable is the OpenFlow table of the next logical table, where ct
// actions recirculate to.
func (ac *actionCompiler) nextTable() uint8 { return ac.table(ac.lf.TableID + 1) }

// ctNext sends the packet through conntrack and on to the next table.
func (ac *actionCompiler) ctNext(lflow.Op) ([]openflow.Action, error) {
	return []openflow.Action{&openflow.CT{ZoneSrc: ac.zone(false), Table: ac.nextTable()}}, nil
}

// ctCommit commits the connection, setting ct_mark and ct_label as the
// body says. Like ovn-controller on a datapath with all-zero SNAT
// support (the userspace datapath and current kernels), it adds
// nat(src) so that committed and NATed connections do not collide.
func (ac *actionCompiler) ctCommit(o lflow.Op) ([]openflow.Action, error) {
	body, err := ac.actions(o.Body, false)
	if err != nil {
		return nil, err
	}
	args, err := ctCommitArgs(o.Args)
	if err != nil {
		return nil, err
	}
	body = append(args, body...)
	for _, a := range body {
		switch a := a.(type) {
		case *openflow.SetField:
			if n := a.Field.Name; n == "ct_mark" || n == "ct_label" {
				continue
			}
		case *openflow.Move:
			if n := a.Dst.Field.Name; n == "ct_mark" || n == "ct_label" {
				continue
			}
		}
		return nil, fmt.Errorf("only ct_mark and ct_label may be set in ct_commit, not %s", a)
	}
	acts := append([]openflow.Action{&openflow.NAT{Flags: openflow.NATSrc}}, body...)
	return []openflow.Action{&openflow.CT{Flags: openflow.CTCommit, ZoneSrc: ac.zone(false), Table: openflow.CTNoTable, Actions: acts}}, nil
}

// ctCommitNAT commits a related connection with the NAT of its master
// and continues in the next table.
func (ac *actionCompiler) ctCommitNAT(lflow.Op) ([]openflow.Action, error) {
	return []openflow.Action{&openflow.CT{Flags: openflow.CTCommit, ZoneSrc: ac.zone(false), Table: ac.nextTable(),
		Actions: []openflow.Action{&openflow.NAT{}}}}, nil
}

// ctLB without backends un-NATs established load-balanced traffic:
// ct(nat) into the next table; with backends it picks one through a
// select group (group.go).
func (ac *actionCompiler) ctLB(o lflow.Op) ([]openflow.Action, error) {
	if o.LB != nil && len(o.LB.Backends) > 0 {
		return ac.ctLBGroup(o)
	}
	return []openflow.Action{&openflow.CT{ZoneSrc: ac.zone(false), Table: ac.nextTable(),
		Actions: []openflow.Action{&openflow.NAT{}}}}, nil
}

// ctNAT compiles ct_dnat / ct_snat (and the _in_czone forms, which
// both use the router's common zone, its DNAT zone): without an address
// it un-NATs, with one it commits the translation. Unlike the other ct
// actions they use the DNAT (reg11) and SNAT (reg12) zones on switches
// too.
func (ac *actionCompiler) ctNAT(o lflow.Op) ([]openflow.Action, error) {
	snat := o.Name == "ct_snat" || o.Name == "ct_snat_in_czone"
	zone := openflow.Reg(oftable.RegDNAT).Sub(0, 16)
	if o.Name == "ct_snat" {
		zone = openflow.Reg(oftable.RegSNAT).Sub(0, 16)
	}
	ct := &openflow.CT{ZoneSrc: zone, Table: ac.nextTable()}
	nat := &openflow.NAT{}
	if len(o.Args) > 0 {
		ct.Flags = openflow.CTCommit
		nat.Flags = openflow.NATDst
		if snat {
			nat.Flags = openflow.NATSrc
		}
		if err := natRange(nat, o.Args); err != nil {
			return nil, err
		}
	}
	ct.Actions = []openflow.Action{nat}
	return []openflow.Action{ct}, nil
}

// natRange reads "(ip)" or "(ip, lo-hi)" into nat.
func natRange(nat *openflow.NAT, args []lflow.Arg) error {
	v := args[0].Value
	if v.Kind != lflow.ConstValue || v.Const.IsStr || (v.Const.Format != lflow.IPv4 && v.Const.Format != lflow.IPv6) {
		return fmt.Errorf("%s is not an IP address", v)
	}
	nat.IPMin = constAddr(v.Const)
	if len(args) < 2 {
		return nil
	}
	r := args[1].Value
	if r.Kind != lflow.RangeValue || len(args) > 2 {
		return fmt.Errorf("only a port range may follow the address")
	}
	nat.ProtoMin, nat.ProtoMax = uint16(r.Const.Value.Lo), uint16(r.High.Value.Lo)
	return nil
}

// constAddr is an IPv4 or IPv6 constant as an address.
func constAddr(c lflow.Const) netip.Addr {
	if c.Format == lflow.IPv4 {
		return netip.AddrFrom4([4]byte(u128Bytes(c.Value, 4)))
	}
	return netip.AddrFrom16([16]byte(u128Bytes(c.Value, 16)))
}

// ctCommitArgs reads the older form ct_commit(ct_mark=V[/M],
// ct_label=V[/M]) into set_field actions.
func ctCommitArgs(args []lflow.Arg) ([]openflow.Action, error) {
	var out []openflow.Action
	for _, a := range args {
		if a.Key == nil || a.Key.Kind != lflow.RefValue || a.Value.Kind != lflow.ConstValue || a.Value.Const.IsStr {
			return nil, fmt.Errorf("argument %s: want ct_mark=value or ct_label=value", a)
		}
		name := a.Key.Ref.Sym.Name
		if name != "ct_mark" && name != "ct_label" {
			return nil, fmt.Errorf("argument %s: only ct_mark and ct_label may be set", a)
		}
		f := openflow.F(name)
		c := a.Value.Const
		o := openflow.OXM{Field: f, Value: u128Bytes(c.Value, f.Width)}
		if c.Masked {
			o.Value = u128Bytes(c.Value.And(c.Mask), f.Width)
			o.Mask = u128Bytes(c.Mask, f.Width)
		}
		out = append(out, &openflow.SetField{OXM: o})
	}
	return out, nil
}

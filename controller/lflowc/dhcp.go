package lflowc

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// dhcpOption is one row of the SB DHCP_Options / DHCPv6_Options tables:
// the option's code and how its value is encoded. ovn-northd 23.03
// always writes the same rows; these are they.
type dhcpOption struct {
	code uint16
	typ  string
}

var dhcpV4Options = map[string]dhcpOption{
	"offerip": {0, "ipv4"}, "netmask": {1, "ipv4"}, "router": {3, "ipv4"}, "dns_server": {6, "ipv4"},
	"log_server": {7, "ipv4"}, "lpr_server": {9, "ipv4"}, "hostname": {12, "str"}, "domain_name": {15, "str"},
	"swap_server": {16, "ipv4"}, "ip_forward_enable": {19, "bool"}, "policy_filter": {21, "ipv4"},
	"default_ttl": {23, "uint8"}, "mtu": {26, "uint16"}, "broadcast_address": {28, "ipv4"},
	"router_discovery": {31, "bool"}, "router_solicitation": {32, "ipv4"}, "arp_cache_timeout": {35, "uint32"},
	"ethernet_encap": {36, "bool"}, "tcp_ttl": {37, "uint8"}, "tcp_keepalive_interval": {38, "uint32"},
	"nis_server": {41, "ipv4"}, "ntp_server": {42, "ipv4"}, "netbios_name_server": {44, "ipv4"},
	"netbios_node_type": {46, "uint8"}, "lease_time": {51, "uint32"}, "server_id": {54, "ipv4"},
	"T1": {58, "uint32"}, "T2": {59, "uint32"}, "tftp_server": {66, "host_id"}, "bootfile_name": {67, "str"},
	"domain_search_list": {119, "domains"}, "classless_static_route": {121, "static_routes"},
	"tftp_server_address": {150, "ipv4"}, "path_prefix": {210, "str"}, "ms_classless_static_route": {249, "static_routes"},
	"wpad": {252, "str"}, "next_server": {253, "ipv4"}, "bootfile_name_alt": {254, "str"},
}

var dhcpV6Options = map[string]dhcpOption{
	"server_id": {2, "mac"}, "ia_addr": {5, "ipv6"}, "dns_server": {23, "ipv6"}, "domain_search": {24, "str"},
}

// optionValues flattens an option's value: one constant or a braced
// list of them.
func optionValues(v lflow.Value) ([]lflow.Const, error) {
	switch v.Kind {
	case lflow.ConstValue:
		return []lflow.Const{v.Const}, nil
	case lflow.ListValue:
		out := make([]lflow.Const, 0, len(v.List))
		for _, x := range v.List {
			if x.Kind != lflow.ConstValue {
				return nil, fmt.Errorf("%s is not a constant", x)
			}
			out = append(out, x.Const)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not a constant", v)
}

type namedOption struct {
	name   string
	opt    dhcpOption
	values []lflow.Const
}

func options(o lflow.Op, table map[string]dhcpOption) ([]namedOption, error) {
	out := make([]namedOption, 0, len(o.Args))
	for _, a := range o.Args {
		if a.Key == nil {
			return nil, fmt.Errorf("option %s needs a name", a.Value)
		}
		opt, ok := table[a.Key.Word]
		if !ok {
			return nil, fmt.Errorf("unknown option %s", a.Key)
		}
		vals, err := optionValues(a.Value)
		if err != nil {
			return nil, fmt.Errorf("option %s: %w", a.Key, err)
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("option %s has no value", a.Key)
		}
		out = append(out, namedOption{a.Key.Word, opt, vals})
	}
	return out, nil
}

// putDHCPOpts: R = put_dhcp_opts(offerip = IP, option = value, ...).
// The userdata holds the result field, the offered address, then each
// other option as code, length, value: bootfile_name, bootfile_name_alt
// and next_server first, the rest in the order written.
func (ac *actionCompiler) putDHCPOpts(o lflow.Op) ([]openflow.Action, error) {
	opts, err := options(o, dhcpV4Options)
	if err != nil {
		return nil, err
	}
	b, err := resultHeader(*o.Result)
	if err != nil {
		return nil, err
	}
	var offer *namedOption
	for i := range opts {
		if opts[i].opt.code == 0 {
			offer = &opts[i]
		}
	}
	if offer == nil {
		return nil, fmt.Errorf("offerip is missing")
	}
	b = append(b, u128Bytes(offer.values[0].Value, 4)...)
	// bootfile_name, bootfile_name_alt and next_server come next, in
	// that order (pinctrl looks for the first two at the start), then
	// the others as written: ovn-controller 23.03's layout.
	first := []string{"bootfile_name", "bootfile_name_alt", "next_server"}
	for _, name := range first {
		for i := range opts {
			if opts[i].name == name {
				if b, err = appendDHCPv4Option(b, opts[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	for i := range opts {
		if opts[i].opt.code == 0 || slices.Contains(first, opts[i].name) {
			continue
		}
		if b, err = appendDHCPv4Option(b, opts[i]); err != nil {
			return nil, err
		}
	}
	return []openflow.Action{ac.controllerOp(OpPutDHCPOpts, true, b)}, nil
}

func appendDHCPv4Option(b []byte, o namedOption) ([]byte, error) {
	var v []byte
	c := o.values[0]
	switch o.opt.typ {
	case "bool", "uint8":
		v = []byte{byte(c.Value.Lo)}
	case "uint16":
		v = binary.BigEndian.AppendUint16(nil, uint16(c.Value.Lo))
	case "uint32":
		v = binary.BigEndian.AppendUint32(nil, uint32(c.Value.Lo))
	case "ipv4":
		for _, x := range o.values {
			v = append(v, u128Bytes(x.Value, 4)...)
		}
	case "static_routes":
		v = staticRoutes(o.values)
	case "domains":
		var err error
		if v, err = domainNames(c.Str); err != nil {
			return nil, fmt.Errorf("option %s: %w", o.name, err)
		}
	case "str", "host_id":
		if !c.IsStr && o.opt.typ == "host_id" {
			v = u128Bytes(c.Value, 4)
		} else {
			v = []byte(c.Str)
		}
	default:
		return nil, fmt.Errorf("option %s: unknown type %s", o.name, o.opt.typ)
	}
	if len(v) > 255 {
		return nil, fmt.Errorf("option %s: value of %d bytes is too long", o.name, len(v))
	}
	return append(append(b, byte(o.opt.code), byte(len(v))), v...), nil
}

// domainNames encodes a comma-separated domain list (domain_search_list,
// option 119) as ovn-controller 23.03 does: each domain as RFC 1035
// labels ending in the root label, uncompressed.
func domainNames(list string) ([]byte, error) {
	var v []byte
	for _, d := range strings.Split(list, ",") {
		for _, l := range strings.Split(d, ".") {
			if len(l) > 63 {
				return nil, fmt.Errorf("label %q is longer than 63 bytes", l)
			}
			if l != "" {
				v = append(append(v, byte(len(l))), l...)
			}
		}
		v = append(v, 0)
	}
	return v, nil
}

// staticRoutes encodes classless static routes (RFC 3442): pairs of
// destination prefix and router, each prefix as its length and the
// significant bytes.
func staticRoutes(vals []lflow.Const) []byte {
	var v []byte
	for i := 0; i+1 < len(vals); i += 2 {
		plen := 32
		if vals[i].Masked {
			plen = bits.OnesCount32(uint32(vals[i].Mask.Lo))
		}
		v = append(v, byte(plen))
		v = append(v, u128Bytes(vals[i].Value, 4)[:(plen+7)/8]...)
		v = append(v, u128Bytes(vals[i+1].Value, 4)...)
	}
	return v
}

// putDHCPv6Opts: R = put_dhcpv6_opts(option = value, ...): the result
// field, then each option as 16-bit code, 16-bit length, value.
func (ac *actionCompiler) putDHCPv6Opts(o lflow.Op) ([]openflow.Action, error) {
	opts, err := options(o, dhcpV6Options)
	if err != nil {
		return nil, err
	}
	b, err := resultHeader(*o.Result)
	if err != nil {
		return nil, err
	}
	for _, opt := range opts {
		var v []byte
		switch opt.opt.typ {
		case "ipv6":
			for _, x := range opt.values {
				v = append(v, u128Bytes(x.Value, 16)...)
			}
		case "mac":
			v = u128Bytes(opt.values[0].Value, 6)
		case "str":
			v = []byte(opt.values[0].Str)
		}
		b = binary.BigEndian.AppendUint16(b, opt.opt.code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	return []openflow.Action{ac.controllerOp(OpPutDHCPv6Opts, true, b)}, nil
}

package lflowc

import (
	"encoding/binary"
	"fmt"

	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/lflow"
)

// Opcode is what a controller action asks the controller to do: the
// first 32 bits of its userdata, ovn-controller's enum action_opcode.
type Opcode uint32

// The opcodes of OVN 23.03.
const (
	OpARP              Opcode = 0  // arp { ... }: payload is nested actions
	OpPutARP           Opcode = 1  // put_arp: no payload
	OpPutDHCPOpts      Opcode = 2  // put_dhcp_opts: result field, offer IP, options (pause)
	OpNDNA             Opcode = 3  // nd_na { ... }
	OpPutND            Opcode = 4  // put_nd
	OpPutDHCPv6Opts    Opcode = 5  // put_dhcpv6_opts: result field, options (pause)
	OpDNSLookup        Opcode = 6  // dns_lookup: result field (pause)
	OpLog              Opcode = 7  // log(...): verdict, severity, name
	OpPutNDRAOpts      Opcode = 8  // put_nd_ra_opts (pause)
	OpNDNS             Opcode = 9  // nd_ns { ... }
	OpICMP             Opcode = 10 // icmp4 { ... } / icmp6 { ... }
	OpTCPReset         Opcode = 11 // tcp_reset { ... }
	OpNDNARouter       Opcode = 12 // nd_na_router { ... }
	OpPutICMP4FragMTU  Opcode = 13 // icmp4.frag_mtu = N inside icmp4_error
	OpICMP4Error       Opcode = 14 // icmp4_error { ... }
	OpEvent            Opcode = 15 // trigger_event
	OpIGMP             Opcode = 16 // igmp
	OpBindVport        Opcode = 17 // bind_vport
	OpHandleSvcCheck   Opcode = 18 // handle_svc_check
	OpHandleDHCP6Reply Opcode = 19 // handle_dhcpv6_reply
	OpICMP6Error       Opcode = 20 // icmp6_error { ... }
	OpPutICMP6FragMTU  Opcode = 21 // icmp6.frag_mtu = N inside icmp6_error
	OpReject           Opcode = 22 // reject { ... }
	OpBFDMsg           Opcode = 23 // BFD packets (not a logical-flow action)
	OpSCTPAbort        Opcode = 24 // sctp_abort { ... }
	OpPutFDB           Opcode = 25 // put_fdb
)

// nestedOps are the actions whose body pinctrl runs on a packet it
// builds; the body travels as OpenFlow actions in the userdata.
var nestedOps = map[string]Opcode{
	"arp": OpARP, "nd_ns": OpNDNS, "nd_na": OpNDNA, "nd_na_router": OpNDNARouter,
	"icmp4": OpICMP, "icmp6": OpICMP, "icmp4_error": OpICMP4Error, "icmp6_error": OpICMP6Error,
	"tcp_reset": OpTCPReset, "sctp_abort": OpSCTPAbort, "reject": OpReject,
}

// userdataHeader is the opcode and 4 bytes of padding.
const userdataHeader = 8

// controllerOp is the controller action carrying opcode op and payload,
// sending the whole packet; pause makes the switch keep the rest of the
// pipeline as a continuation the controller resumes.
func (ac *actionCompiler) controllerOp(op Opcode, pause bool, payload []byte) *openflow.Controller {
	ud := make([]byte, userdataHeader, userdataHeader+len(payload))
	binary.BigEndian.PutUint32(ud, uint32(op))
	return &openflow.Controller{MaxLen: 0xffff, Reason: openflow.ReasonAction, Userdata: append(ud, payload...), Pause: pause,
		MeterID: ac.ctrlMeter}
}

// nested compiles arp { ... } and its kind: the body in the userdata.
func (ac *actionCompiler) nested(o lflow.Op) ([]openflow.Action, error) {
	body, err := ac.actions(o.Body, false)
	if err != nil {
		return nil, err
	}
	b, err := openflow.MarshalActions(body)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{ac.controllerOp(nestedOps[o.Name], false, b)}, nil
}

func (ac *actionCompiler) igmp(lflow.Op) ([]openflow.Action, error) {
	return []openflow.Action{ac.controllerOp(OpIGMP, false, nil)}, nil
}

// Log verdicts and severities (syslog levels) as log() encodes them.
var (
	logVerdicts   = map[string]byte{"allow": 0, "drop": 1, "reject": 2}
	logSeverities = map[string]byte{"alert": 1, "warning": 4, "notice": 5, "info": 6, "debug": 7}
)

// log compiles log(name=..., severity=..., verdict=..., meter=...):
// verdict, severity and the name in the userdata, the meter on the
// controller action.
func (ac *actionCompiler) log(o lflow.Op) ([]openflow.Action, error) {
	verdict, severity, name := byte(0), byte(6), ""
	hasVerdict := false
	var meter uint32
	for _, a := range o.Args {
		if a.Key == nil {
			return nil, fmt.Errorf("argument %s needs a name", a.Value)
		}
		s := a.Value.Word
		if a.Value.Kind == lflow.ConstValue && a.Value.Const.IsStr {
			s = a.Value.Const.Str
		}
		var ok bool
		switch a.Key.Word {
		case "name":
			name, ok = s, true
		case "verdict":
			verdict, ok = logVerdicts[s]
			hasVerdict = true
		case "severity":
			severity, ok = logSeverities[s]
		case "meter":
			ac.refs.meters.add(s)
			meter, ok = ac.env.Meter(s), true
		}
		if !ok {
			return nil, fmt.Errorf("bad argument %s", a)
		}
	}
	if !hasVerdict {
		return nil, fmt.Errorf("verdict is required") // as ovn-controller's parser says
	}
	payload := append([]byte{verdict, severity}, name...)
	c := ac.controllerOp(OpLog, false, payload)
	c.MeterID = meter
	return []openflow.Action{c}, nil
}

// resultHeader encodes where a paused action's result goes: the
// result's field as an NXM/OXM header and the bit offset.
func resultHeader(r lflow.Ref) ([]byte, error) {
	sf, err := subfield(r)
	if err != nil {
		return nil, err
	}
	f := sf.Field
	b := binary.BigEndian.AppendUint32(nil, uint32(f.Class)<<16|uint32(f.Code)<<9|uint32(f.Width))
	return binary.BigEndian.AppendUint32(b, uint32(sf.Ofs)), nil
}

// dnsLookup: R = dns_lookup(); the controller answers and resumes.
func (ac *actionCompiler) dnsLookup(o lflow.Op) ([]openflow.Action, error) {
	b, err := resultHeader(*o.Result)
	if err != nil {
		return nil, err
	}
	return []openflow.Action{ac.controllerOp(OpDNSLookup, true, b)}, nil
}

// Userdata is a decoded controller action userdata.
type Userdata struct {
	Op      Opcode
	Payload []byte // after the 8-byte header
}

// ParseUserdata splits controller userdata into opcode and payload.
func ParseUserdata(b []byte) (Userdata, error) {
	if len(b) < userdataHeader {
		return Userdata{}, fmt.Errorf("controller userdata of %d bytes is shorter than its header", len(b))
	}
	return Userdata{Op: Opcode(binary.BigEndian.Uint32(b)), Payload: b[userdataHeader:]}, nil
}

// Actions decodes the nested actions of arp { }, nd_na { }, reject { }
// and the other nested opcodes.
func (u Userdata) Actions() ([]openflow.Action, error) {
	return openflow.UnmarshalActions(u.Payload)
}

// LogInfo decodes a log() payload.
func (u Userdata) LogInfo() (verdict, severity byte, name string, err error) {
	if u.Op != OpLog || len(u.Payload) < 2 {
		return 0, 0, "", fmt.Errorf("not a log userdata")
	}
	return u.Payload[0], u.Payload[1], string(u.Payload[2:]), nil
}

// Result decodes where a paused action (put_dhcp_opts, dns_lookup...)
// stores its result, and returns the rest of the payload.
func (u Userdata) Result() (openflow.Subfield, []byte, error) {
	if len(u.Payload) < 8 {
		return openflow.Subfield{}, nil, fmt.Errorf("userdata too short for a result field")
	}
	h := binary.BigEndian.Uint32(u.Payload)
	f := fieldByHeader(uint16(h>>16), uint8(h>>9)&0x7f)
	if f == nil {
		return openflow.Subfield{}, nil, fmt.Errorf("unknown result field header 0x%08x", h)
	}
	return f.Sub(int(binary.BigEndian.Uint32(u.Payload[4:])), 1), u.Payload[8:], nil
}

// fieldByHeader finds the registers a result may name.
func fieldByHeader(class uint16, code uint8) *openflow.Field {
	for _, n := range []string{"xxreg0", "xxreg1", "xxreg2", "xxreg3", "xreg0", "xreg1", "xreg2", "xreg3", "xreg4",
		"reg0", "reg1", "reg2", "reg3", "reg4", "reg5", "reg6", "reg7", "reg8", "reg9", "reg10"} {
		if f := openflow.F(n); f.Class == class && f.Code == code {
			return f
		}
	}
	return nil
}

package pinctrl

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
	"github.com/ovnd/ovnd/dhcp"
)

// ErrUnhandled is returned (wrapped) for a packet-in whose opcode ovnd
// does not handle.
var ErrUnhandled = errors.New("unhandled controller action")

// Result is what one packet-in calls for.
type Result struct {
	Op   lflowc.Opcode
	Msgs []openflow.Message // to send to the switch, in order
	Info string             // what was answered, for the log ("" for nothing)
	// Learned is the neighbor put_arp or put_nd learned, LearnedFDB the
	// MAC location put_fdb learned, for the caller to record.
	Learned    *Neighbor
	LearnedFDB *FDBEntry
	// Hold is the packet arp { } or nd_ns { } asked for, to send on
	// once its next hop resolves.
	Hold *Held
	// Log is the line log() asks for.
	Log *ACLLog
	Err error // why the packet was not answered, or nil
}

// Handler answers packet-ins. DNS may be nil: dns_lookup then never
// answers.
type Handler struct {
	DNS DNS
}

// Handle runs the controller action of one packet-in with no DNS
// records.
func Handle(p *openflow.PacketIn2) Result { return Handler{}.Handle(p) }

// Handle runs the controller action of one packet-in. It does no I/O
// besides reading DNS records: the caller sends Result.Msgs and records
// Result.Learned.
func (h Handler) Handle(p *openflow.PacketIn2) Result {
	u, err := lflowc.ParseUserdata(p.Userdata)
	if err != nil {
		return Result{Err: err}
	}
	r := Result{Op: u.Op}
	switch u.Op {
	case lflowc.OpPutDHCPOpts:
		r.Msgs, r.Info, r.Err = putDHCPOpts(p, u)
	case lflowc.OpPutDHCPv6Opts:
		r.Msgs, r.Info, r.Err = putDHCPv6Opts(p, u)
	case lflowc.OpPutICMP4FragMTU, lflowc.OpPutICMP6FragMTU:
		r.Msgs, r.Info, r.Err = putFragMTU(p, u)
	case lflowc.OpPutARP, lflowc.OpPutND:
		n, err := putMAC(p, u.Op)
		if r.Err = err; err == nil {
			r.Learned, r.Info = &n, n.String()
		}
	case lflowc.OpLog:
		r.Log, r.Err = aclLog(p, u)
	case lflowc.OpPutFDB:
		f, err := putFDB(p)
		if r.Err = err; err == nil {
			r.LearnedFDB, r.Info = &f, f.String()
		}
	case lflowc.OpDNSLookup:
		r.Msgs, r.Info, r.Err = dnsLookup(p, u, h.DNS)
		if errors.Is(r.Err, errNoRecord) {
			r.Err = nil
		}
	case lflowc.OpPutNDRAOpts:
		r.Msgs, r.Info, r.Err = putNDRAOpts(p, u)
	default:
		if build, ok := nested[u.Op]; ok {
			r.Msgs, r.Info, r.Err = runNested(p, u, build)
			if r.Err == nil && (u.Op == lflowc.OpARP || u.Op == lflowc.OpNDNS) {
				r.Hold = hold(p, u.Op)
			}
			break
		}
		r.Err = fmt.Errorf("%w: opcode %d", ErrUnhandled, u.Op)
	}
	return r
}

// putDHCPOpts answers put_dhcp_opts: the userdata holds the result
// field, the offered address and the options.
func putDHCPOpts(p *openflow.PacketIn2, u lflowc.Userdata) ([]openflow.Message, string, error) {
	sf, rest, err := u.Result()
	if err != nil {
		return nil, "", fmt.Errorf("put_dhcp_opts: %w", err)
	}
	if len(rest) < 4 {
		return nil, "", fmt.Errorf("put_dhcp_opts: no offer address in the userdata")
	}
	offer := netip.AddrFrom4([4]byte(rest[:4]))
	reply, err := dhcp.ReplyV4(p.Packet, offer, rest[4:])
	return resumeDHCP(p, sf, reply, err, fmt.Sprintf("%s %s", reply.Type, offer))
}

// putDHCPv6Opts answers put_dhcpv6_opts: the userdata holds the result
// field and the options.
func putDHCPv6Opts(p *openflow.PacketIn2, u lflowc.Userdata) ([]openflow.Message, string, error) {
	sf, rest, err := u.Result()
	if err != nil {
		return nil, "", fmt.Errorf("put_dhcpv6_opts: %w", err)
	}
	reply, err := dhcp.ReplyV6(p.Packet, rest)
	return resumeDHCP(p, sf, reply, err, reply.Type)
}

// resumeDHCP resumes the pipeline with the reply and the result bit set,
// or, when there is no reply, with the request and the bit clear, as
// ovn-controller does.
func resumeDHCP(p *openflow.PacketIn2, sf openflow.Subfield, reply dhcp.Reply, err error, info string) ([]openflow.Message, string, error) {
	res := openflow.ResumeFrom(p)
	md, werr := setBit(p.Metadata, sf, err == nil)
	if werr != nil {
		return nil, "", werr
	}
	res.Metadata = md
	if err != nil {
		if errors.Is(err, dhcp.ErrNoReply) {
			return []openflow.Message{res}, reply.Request + " (no reply)", nil
		}
		return []openflow.Message{res}, "", err
	}
	res.Packet = reply.Frame
	return []openflow.Message{res}, fmt.Sprintf("%s %s: %s", reply.Request, ethSrc(p.Packet), info), nil
}

func ethSrc(b []byte) string {
	if len(b) < 12 {
		return "?"
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[6], b[7], b[8], b[9], b[10], b[11])
}

// hold is the packet-in kept for when the next hop arp { } (reg0) or
// nd_ns { } (xxreg0) asks for resolves.
func hold(p *openflow.PacketIn2, op lflowc.Opcode) *Held {
	o, ok := p.Metadata.Get("metadata")
	if !ok || len(p.Packet) < 14 {
		return nil
	}
	h := &Held{Datapath: uint32(o.Uint()), Packet: p.Packet, Metadata: p.Metadata}
	var regs [4]uint32
	for i := range regs {
		regs[i], _, _ = p.Metadata.Reg(i)
	}
	if op == lflowc.OpARP {
		h.IP = netip.AddrFrom4([4]byte{byte(regs[0] >> 24), byte(regs[0] >> 16), byte(regs[0] >> 8), byte(regs[0])})
		return h
	}
	var a [16]byte
	for i, v := range regs {
		a[4*i], a[4*i+1], a[4*i+2], a[4*i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	h.IP = netip.AddrFrom16(a)
	return h
}

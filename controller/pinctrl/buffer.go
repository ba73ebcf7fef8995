package pinctrl

import (
	"net"
	"net/netip"
	"time"

	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// Held is a packet arp { } or nd_ns { } was sent for: it waits for the
// MAC of IP (the next hop the router resolves, reg0 or xxreg0) on
// datapath Datapath, and then goes on to output, as ovn-controller's
// buffered packets do.
type Held struct {
	Datapath uint32
	IP       netip.Addr
	Packet   []byte
	Metadata openflow.Match
}

// MACs finds a neighbor's MAC in the SB MAC_Binding table: SB
// implements it.
type MACs interface {
	MAC(dp uint32, ip netip.Addr) (net.HardwareAddr, bool)
}

// Limits of the held packets, ovn-controller's.
const (
	holdPerIP   = 4    // packets per next hop; the oldest go first
	holdIPs     = 1000 // next hops
	holdTimeout = 10 * time.Second
)

type holdKey struct {
	dp uint32
	ip netip.Addr
}

type heldPacket struct {
	Held
	at time.Time
}

// holder keeps held packets until their neighbor resolves or they
// expire. Only Serve's goroutine uses it.
type holder struct {
	m map[holdKey][]heldPacket
}

func (h *holder) push(p Held, now time.Time) bool {
	if h.m == nil {
		h.m = map[holdKey][]heldPacket{}
	}
	k := holdKey{p.Datapath, p.IP}
	q, ok := h.m[k]
	if !ok && len(h.m) >= holdIPs {
		return false
	}
	if len(q) >= holdPerIP {
		q = q[1:]
	}
	h.m[k] = append(q, heldPacket{p, now})
	return true
}

// release returns the packet-outs of the packets whose neighbor now has
// a MAC, and forgets those that waited too long.
func (h *holder) release(macs MACs, now time.Time) []openflow.Message {
	var out []openflow.Message
	for k, q := range h.m {
		if mac, ok := macs.MAC(k.dp, k.ip); ok {
			for _, p := range q {
				out = append(out, p.packetOut(mac))
			}
			delete(h.m, k)
			continue
		}
		for len(q) > 0 && now.Sub(q[0].at) >= holdTimeout {
			q = q[1:]
		}
		if len(q) == 0 {
			delete(h.m, k)
		} else {
			h.m[k] = q
		}
	}
	return out
}

func (h *holder) empty() bool { return len(h.m) == 0 }

// packetOut sends a held packet to mac: from its original in_port, with
// its logical metadata and registers restored, straight to the output
// tables.
func (p Held) packetOut(mac net.HardwareAddr) *openflow.PacketOut {
	pkt := append([]byte(nil), p.Packet...)
	copy(pkt[0:6], mac)
	inPort := openflow.F("in_port_oxm").Exact(openflow.PortController)
	if o, ok := p.Metadata.Get("in_port_oxm"); ok {
		inPort = o
	}
	acts := reloads(p.Metadata)
	acts = append(acts, openflow.ResubmitTable(oftable.TableRemoteOutput))
	return &openflow.PacketOut{BufferID: openflow.NoBuffer, Match: openflow.Match{inPort}, Actions: acts, Data: pkt}
}

// reloads are the loads that restore a packet-in's logical metadata and
// registers (ovn-controller's reload_metadata).
func reloads(md openflow.Match) []openflow.Action {
	var acts []openflow.Action
	for _, o := range md {
		if _, _, ok := regSpan(o.Field); ok || o.Field.Name == "metadata" {
			acts = append(acts, &openflow.SetField{OXM: o})
		}
	}
	return acts
}

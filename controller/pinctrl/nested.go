package pinctrl

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/openflow"
)

// builder makes the packet a nested action (arp { ... } and its kind)
// runs its body on, from the packet that triggered it.
type builder func(in []byte) ([]byte, error)

// nested are the nested actions pinctrl runs, by opcode.
var nested = map[lflowc.Opcode]builder{
	lflowc.OpARP:        buildARP,
	lflowc.OpNDNA:       buildNDNA,
	lflowc.OpNDNARouter: buildNDNARouter,
	lflowc.OpNDNS:       buildNDNS,
	lflowc.OpICMP:       icmpBuilder(true, false),
	lflowc.OpICMP4Error: icmpBuilder(false, false),
	lflowc.OpICMP6Error: icmpBuilder(false, false),
	lflowc.OpTCPReset:   tcpResetBuilder(false),
	lflowc.OpReject:     buildReject,
	lflowc.OpSCTPAbort:  sctpAbortBuilder(false),
}

// runNested builds the packet and sends it out through the nested
// actions, after loads that restore the packet-in's logical metadata and
// registers (ovn-controller's reload_metadata), from in_port CONTROLLER.
func runNested(p *openflow.PacketIn2, u lflowc.Userdata, build builder) ([]openflow.Message, string, error) {
	body, err := u.Actions()
	if err != nil {
		return nil, "", fmt.Errorf("nested actions: %w", err)
	}
	pkt, err := build(p.Packet)
	if err != nil {
		return nil, "", err
	}
	acts := reloads(p.Metadata)
	out := &openflow.PacketOut{BufferID: openflow.NoBuffer,
		Match:   openflow.Match{openflow.F("in_port_oxm").Exact(openflow.PortController)},
		Actions: append(acts, body...), Data: pkt}
	return []openflow.Message{out}, strings.TrimSpace(fmt.Sprintf("opcode %d: %d-byte packet", u.Op, len(pkt))), nil
}

// l2 splits an Ethernet frame into its header (VLAN tags included) and
// its ethertype and payload.
func l2(in []byte) (hdr []byte, typ uint16, payload []byte, err error) {
	off := 12
	for {
		if len(in) < off+2 {
			return nil, 0, nil, fmt.Errorf("short ethernet frame of %d bytes", len(in))
		}
		typ = binary.BigEndian.Uint16(in[off:])
		if typ != 0x8100 && typ != 0x88a8 {
			return in[:off], typ, in[off+2:], nil
		}
		off += 4
	}
}

// buildARP is arp { }: an ARP request for the IPv4 destination of the
// packet, with the packet's Ethernet addresses; the nested actions
// rewrite them (eth.dst = ff:ff:ff:ff:ff:ff, arp.spa, arp.tpa...).
// Unlike ovn-controller, the packet that triggered it is not held back
// to be sent once the address resolves.
func buildARP(in []byte) ([]byte, error) {
	hdr, typ, payload, err := l2(in)
	if err != nil {
		return nil, err
	}
	if typ != 0x0800 || len(payload) < 20 {
		return nil, fmt.Errorf("arp action on a packet that is not ipv4 (ethertype 0x%04x)", typ)
	}
	b := make([]byte, 0, 64)
	b = append(b, hdr...) // MACs and VLAN tags
	b = binary.BigEndian.AppendUint16(b, 0x0806)
	b = append(b, 0, 1, 8, 0, 6, 4, 0, 1) // Ethernet, IPv4, request
	b = append(b, hdr[6:12]...)
	b = append(b, payload[12:16]...)
	b = append(b, 0, 0, 0, 0, 0, 0)
	return append(b, payload[16:20]...), nil
}

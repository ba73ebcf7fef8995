package flowtable

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/ovnd/ovnd/controller/openflow"
)

// controllerShaped is a desired table shaped like the one the controller
// computes for the benchmark's 10,000-port topology (500 switches of 20
// ports behind one router, a port group of every port with stateful
// ACLs), scaled to about n flows.
type controllerShaped struct {
	owners []string // in the order Set is called
	flows  map[string][]Flow
	n      int
}

// Sizes of the shaped topology.
const (
	shapedDatapaths = 500
	shapedPorts     = 20 // per datapath
)

// newControllerShaped builds about n flows: lflows applied to every
// datapath through a datapath group (one owner, one flow per datapath),
// per-port lflows (one or two flows each), two ACLs sharing the clause
// flows of one port group (their conjunction actions merge), and the
// physical flows of every port (tunnel output for remote ports, VIF
// ingress and egress for the local ones).
func newControllerShaped(n int) *controllerShaped {
	s := &controllerShaped{flows: map[string][]Flow{}}
	ports := shapedDatapaths * shapedPorts
	s.addACLs()
	for p := range ports {
		s.addPortLflows(p)
		s.addPhysical(p)
	}
	for i := 0; s.n < n; i++ {
		s.addDatapathGroupLflow(i)
	}
	return s
}

func (s *controllerShaped) add(owner string, fs ...Flow) {
	if _, ok := s.flows[owner]; !ok {
		s.owners = append(s.owners, owner)
	}
	s.flows[owner] = append(s.flows[owner], fs...)
	s.n += len(fs)
}

// lflowUUID is a UUID-shaped owner name and the cookie ovn-controller
// derives from it (its first 32 bits).
func lflowUUID(kind, i int) (string, uint64) {
	c := uint64(kind)<<24 | uint64(i)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", c, i&0xffff, kind, i&0xfff, uint64(i)*7919), c
}

var (
	fMetadata = openflow.F("metadata")
	fEthType  = openflow.F("eth_type")
	fEthSrc   = openflow.F("eth_src")
	fEthDst   = openflow.F("eth_dst")
	fIPSrc    = openflow.F("ip_src")
	fArpTPA   = openflow.F("arp_tpa")
	fArpOp    = openflow.F("arp_op")
	fCTState  = openflow.F("ct_state")
	fCTMark   = openflow.F("ct_mark")
	fConjID   = openflow.F("conj_id")
	fInPort   = openflow.F("in_port")
	fTunID    = openflow.F("tun_id")
	fTunMeta0 = openflow.TunMetadata(0)
)

func shapedMAC(p int) []byte { return []byte{0x0a, 0, 0, byte(p >> 16), byte(p >> 8), byte(p)} }

func shapedIP(p int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(p >> 16), byte(p >> 8), byte(p)})
}

func dpOf(p int) uint64   { return uint64(p/shapedPorts + 1) }
func portOf(p int) uint64 { return uint64(p%shapedPorts + 1) }

func setReg(n int, v uint64) openflow.Action {
	return &openflow.SetField{OXM: openflow.Reg(n).Exact(v)}
}

// ctCommit is ct(commit,zone=NXM_NX_REG13[0..15],exec(set_field:0/0x1->ct_mark)).
var ctCommit = &openflow.CT{Flags: 1, ZoneSrc: openflow.Reg(13).Sub(0, 16), Table: 0xff,
	Actions: []openflow.Action{&openflow.SetField{OXM: fCTMark.Masked(0, 1)}}}

// addDatapathGroupLflow adds lflow i as ovn-controller expands a
// datapath-group lflow: the same match and actions on every datapath.
func (s *controllerShaped) addDatapathGroupLflow(i int) {
	owner, cookie := lflowUUID(1, i)
	table := uint8(8 + i%40)
	prio := []uint16{0, 50, 100, 110, 1000}[i%5] + uint16(i/40) // one key per lflow and datapath
	for dp := range uint64(shapedDatapaths) {
		dp++
		m := openflow.Match{fMetadata.Exact(dp)}
		acts := []openflow.Action{openflow.ResubmitTable(table + 1)}
		switch i % 5 {
		case 1:
			m = openflow.Match{fEthType.Exact(0x800), fMetadata.Exact(dp)}
			acts = []openflow.Action{&openflow.SetField{OXM: openflow.Reg(0).Masked(1, 1)}, openflow.ResubmitTable(table + 1)}
		case 2:
			m = openflow.Match{fCTState.Masked(0x22, 0x26), fCTMark.Masked(0, 1), fMetadata.Exact(dp)}
		case 3:
			m = openflow.Match{fEthType.Exact(0x800), openflow.Reg(0).Masked(8, 8), fMetadata.Exact(dp)}
			acts = []openflow.Action{ctCommit, openflow.ResubmitTable(table + 1)}
		case 4:
			m = openflow.Match{fMetadata.Exact(dp), fEthDst.Bytes([]byte{1, 0, 0, 0, 0, 0}, []byte{1, 0, 0, 0, 0, 0})}
			acts = []openflow.Action{setReg(15, 0x8000), openflow.ResubmitTable(37)}
		}
		s.add(owner, Flow{Table: table, Priority: prio, Match: m, Actions: acts, Cookie: cookie})
	}
}

// addPortLflows adds the per-port lflows of port p: port security,
// L2 lookup, ARP responder, egress port security.
func (s *controllerShaped) addPortLflows(p int) {
	dp, port, mac := dpOf(p), portOf(p), shapedMAC(p)
	o, c := lflowUUID(2, p)
	s.add(o, Flow{Table: 8, Priority: 50, Cookie: c,
		Match:   openflow.Match{openflow.Reg(14).Exact(port), fMetadata.Exact(dp), fEthSrc.MAC(mac)},
		Actions: []openflow.Action{openflow.ResubmitTable(9)}})
	o, c = lflowUUID(3, p)
	s.add(o, Flow{Table: 27, Priority: 50, Cookie: c,
		Match:   openflow.Match{fMetadata.Exact(dp), fEthDst.MAC(mac)},
		Actions: []openflow.Action{setReg(15, port), openflow.ResubmitTable(28)}})
	o, c = lflowUUID(4, p)
	s.add(o, Flow{Table: 24, Priority: 50, Cookie: c,
		Match: openflow.Match{fEthType.Exact(0x806), fMetadata.Exact(dp), fArpTPA.Addr(shapedIP(p)), fArpOp.Exact(1)},
		Actions: []openflow.Action{
			&openflow.Move{Src: fEthSrc.All(), Dst: fEthDst.All()},
			&openflow.SetField{OXM: fEthSrc.MAC(mac)},
			&openflow.SetField{OXM: fArpOp.Exact(2)},
			setReg(15, port), openflow.ResubmitTable(37)}},
		Flow{Table: 24, Priority: 50, Cookie: c,
			Match:   openflow.Match{fEthType.Exact(0x806), fMetadata.Exact(dp), fArpTPA.Addr(shapedIP(p)), fArpOp.Exact(1), openflow.Reg(14).Exact(port)},
			Actions: []openflow.Action{openflow.ResubmitTable(25)}})
	o, c = lflowUUID(5, p)
	s.add(o, Flow{Table: 48, Priority: 50, Cookie: c,
		Match:   openflow.Match{openflow.Reg(15).Exact(port), fMetadata.Exact(dp), fEthDst.MAC(mac)},
		Actions: []openflow.Action{openflow.ResubmitTable(49)}})
}

// addACLs adds two ACLs at one priority on the port group of every
// port: "inport == @pg && ip4.src == $asN" for two address sets of 10
// addresses. Their first clause (the port) is the same flow for both,
// which carries both conjunction actions.
func (s *controllerShaped) addACLs() {
	for acl := range 2 {
		o, c := lflowUUID(6, acl)
		id := uint32(acl + 1)
		for p := range shapedDatapaths * shapedPorts {
			s.add(o, Flow{Table: 44, Priority: 2001,
				Match:   openflow.Match{fEthType.Exact(0x800), openflow.Reg(14).Exact(portOf(p)), fMetadata.Exact(dpOf(p))},
				Actions: []openflow.Action{&openflow.Conjunction{ID: id, Clause: 0, NClauses: 2}}})
		}
		for dp := range uint64(shapedDatapaths) {
			dp++
			for a := range 4 {
				s.add(o, Flow{Table: 44, Priority: 2001,
					Match:   openflow.Match{fEthType.Exact(0x800), fMetadata.Exact(dp), fIPSrc.Addr(shapedIP(1<<20 | acl<<8 | a))},
					Actions: []openflow.Action{&openflow.Conjunction{ID: id, Clause: 1, NClauses: 2}}})
			}
			s.add(o, Flow{Table: 44, Priority: 2001, Cookie: c,
				Match:   openflow.Match{fConjID.Exact(uint64(id)), fEthType.Exact(0x800), fMetadata.Exact(dp)},
				Actions: []openflow.Action{setReg(0, 2), ctCommit, openflow.ResubmitTable(45)}})
		}
	}
}

// addPhysical adds port p's physical flows: the first 50 ports are
// local VIFs, the others sit behind a tunnel.
func (s *controllerShaped) addPhysical(p int) {
	dp, port := dpOf(p), portOf(p)
	owner := fmt.Sprintf("port/%d", p)
	if p >= 50 {
		s.add(owner, Flow{Table: 38, Priority: 100,
			Match: openflow.Match{openflow.Reg(15).Exact(port), fMetadata.Exact(dp)},
			Actions: []openflow.Action{&openflow.SetField{OXM: fTunID.Masked(dp, 0xffffff)},
				&openflow.SetField{OXM: fTunMeta0.Exact(port)},
				&openflow.Move{Src: openflow.Reg(14).Sub(0, 15), Dst: fTunMeta0.Sub(16, 15)},
				&openflow.Output{Port: uint32(p%7 + 100)}}})
		return
	}
	ofport := uint64(p + 10)
	s.add(owner, Flow{Table: 0, Priority: 100,
		Match: openflow.Match{fInPort.Exact(ofport)},
		Actions: []openflow.Action{setReg(13, uint64(p+1)), setReg(11, 1), setReg(12, 2),
			&openflow.SetField{OXM: fMetadata.Exact(dp)}, setReg(14, port), openflow.ResubmitTable(8)}},
		Flow{Table: 65, Priority: 100,
			Match:   openflow.Match{openflow.Reg(15).Exact(port), fMetadata.Exact(dp)},
			Actions: []openflow.Action{&openflow.Output{Port: uint32(ofport)}}})
}

// set puts every owner's flows into d.
func (s *controllerShaped) set(d *Desired) {
	for _, o := range s.owners {
		d.Set(o, s.flows[o])
	}
}

// discardSwitch builds every message of a bundle, as a connection
// encodes them, and keeps nothing: the installer's own memory is what a
// benchmark measures.
type discardSwitch struct {
	fakeSwitch
	onBundle func() // called as a bundle starts, when set
}

func newDiscardSwitch() *discardSwitch { return &discardSwitch{fakeSwitch: *newFakeSwitch()} }

func (s *discardSwitch) BundleFunc(_ context.Context, _ uint32, n int, msg func(int) (openflow.Message, error)) error {
	if s.onBundle != nil {
		s.onBundle()
	}
	for i := range n {
		if _, err := msg(i); err != nil {
			return err
		}
	}
	return nil
}

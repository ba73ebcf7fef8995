package physical

import (
	"github.com/ovnd/ovnd/controller/flowtable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// acts accumulates the actions of one flow.
type acts []openflow.Action

func (a *acts) set(f *openflow.Field, v uint64) *acts {
	*a = append(*a, &openflow.SetField{OXM: f.Exact(v)})
	return a
}

func (a *acts) setMasked(f *openflow.Field, v, m uint64) *acts {
	*a = append(*a, &openflow.SetField{OXM: f.Masked(v, m)})
	return a
}

func (a *acts) move(src, dst openflow.Subfield) *acts {
	*a = append(*a, &openflow.Move{Src: src, Dst: dst})
	return a
}

func (a *acts) resubmit(table uint8) *acts {
	*a = append(*a, openflow.ResubmitTable(table))
	return a
}

func (a *acts) output(port uint32) *acts {
	*a = append(*a, &openflow.Output{Port: port})
	return a
}

func (a *acts) add(more ...openflow.Action) *acts {
	*a = append(*a, more...)
	return a
}

// zones loads the conntrack zones that are allocated (ovn-controller's
// put_zones_ofpacts): the port's own zone, then the datapath's DNAT and
// SNAT zones.
func (a *acts) zones(ct uint16, dp Datapath) *acts {
	if ct != 0 {
		a.set(regCTZone, uint64(ct))
	}
	if dp.DNATZone != 0 {
		a.set(regDNATZone, uint64(dp.DNATZone))
	}
	if dp.SNATZone != 0 {
		a.set(regSNATZone, uint64(dp.SNATZone))
	}
	return a
}

// match builds a match from OXMs in prerequisite order.
func match(oxms ...openflow.OXM) openflow.Match { return openflow.Match(oxms) }

// onPort matches a logical port of a datapath: reg, metadata.
func onPort(reg *openflow.Field, dp, key uint32) openflow.Match {
	return match(reg.Exact(uint64(key)), fieldMetadata.Exact(uint64(dp)))
}

func flow(table uint8, prio uint16, cookie uint64, m openflow.Match, a acts) flowtable.Flow {
	return flowtable.Flow{Table: table, Priority: prio, Match: m, Actions: []openflow.Action(a), Cookie: cookie}
}

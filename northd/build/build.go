// Package build is northd's pure NB→SB translation: from a snapshot of
// OVN_Northbound and the few Southbound facts that must stay stable (tunnel
// keys), it computes the Southbound rows ovn-northd 23.03 would write. It
// does no I/O, starts no goroutines and reads no clock; northd's loop feeds
// it and applies the result.
//
// Where it knowingly differs from ovn-northd 23.03: an ACL whose match does
// not parse (lflow.ParseExpr) is reported in Result.Problems and left out,
// where ovn-northd writes it to SB and leaves ovn-controller to reject it.
//
// Build recomputes everything from scratch. Engine (engine.go) is its
// incremental form: it keeps each switch's and each port group's outputs
// and, told which NB rows changed, recomputes only those owners and
// returns the SB difference; a test checks on random change sequences
// that it always equals Build.
package build

import (
	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// NB is a snapshot of the Northbound tables the build reads, keyed by UUID.
type NB struct {
	Global      nbdb.NBGlobal
	Switches    map[string]nbdb.LogicalSwitch
	Ports       map[string]nbdb.LogicalSwitchPort
	PortGroups  map[string]nbdb.PortGroup
	AddressSets map[string]nbdb.AddressSet
	ACLs        map[string]nbdb.ACL
	DHCPOptions map[string]nbdb.DHCPOptions
	DNS         map[string]nbdb.DNS
	QoS         map[string]nbdb.QoS
	LBs         map[string]nbdb.LoadBalancer
	LBGroups    map[string]nbdb.LoadBalancerGroup
}

// SB is the Southbound state the build keeps stable: existing tunnel keys.
type SB struct {
	Datapaths    []sbdb.DatapathBinding
	PortBindings []sbdb.PortBinding
}

// Result is the desired Southbound content. Rows refer to each other by
// datapath tunnel key and logical port name, never by UUID.
type Result struct {
	Global      Global
	Datapaths   []Datapath
	Ports       []Port
	MCGroups    []MCGroup
	PortGroups  []NamedSet
	AddressSets []NamedSet
	DNS         []DNS
	LBs         []LB
	Flows       []Flow
	// Tags are the tags of container ports by NB port UUID, which
	// northd writes back to Logical_Switch_Port.tag.
	Tags map[string]int
	// Problems are NB rows that were skipped, one line each.
	Problems []string
}

// Global is SB_Global's managed columns.
type Global struct {
	NbCfg   int
	Options map[string]string
}

// Datapath is one Datapath_Binding.
type Datapath struct {
	Key         int
	Name        string
	ExternalIDs map[string]string
}

// Port is one Port_Binding.
type Port struct {
	Name         string
	Datapath     int
	Key          int
	Type         string
	Options      map[string]string
	MAC          []string
	PortSecurity []string
	ExternalIDs  map[string]string
	ParentPort   *string
	Tag          *int
}

// MCGroup is one Multicast_Group; Ports are logical port names.
type MCGroup struct {
	Datapath int
	Name     string
	Key      int
	Ports    []string
}

// NamedSet is a Port_Group or Address_Set row: a name and its members.
type NamedSet struct {
	Name    string
	Members []string
}

// Options that ovn-northd 23.03 publishes in SB_Global beyond NB_Global's.
const (
	maxTunID        = "16711680"
	internalVersion = "23.03.1-20.27.0-70.6"
)

// Build computes the desired Southbound content from nb and the stable
// parts of sb.
func Build(nb *NB, sb *SB) *Result {
	r := &Result{Global: global(nb), Tags: map[string]int{}}
	sws := switches(nb, sb)
	r.Datapaths = datapaths(sws)
	for _, sw := range sws {
		r.Ports = append(r.Ports, sw.bindings()...)
		r.MCGroups = append(r.MCGroups, sw.mcGroups()...)
		for _, p := range sw.ports {
			if t := p.tag(); t != nil && p.nb.ParentName != nil {
				r.Tags[p.nb.UUID] = *t
			}
		}
	}
	for _, sw := range sws {
		r.Problems = append(r.Problems, sw.problems...)
	}
	r.PortGroups, r.AddressSets = groups(nb, sws)
	r.DNS = dnsRows(nb, sws)
	r.LBs = lbRows(nb, sws)
	r.Flows = switchFlows(nb, sws, r)
	return r
}

func global(nb *NB) Global {
	opts := map[string]string{}
	for k, v := range nb.Global.Options {
		opts[k] = v
	}
	opts["max_tunid"] = maxTunID
	opts["northd_internal_version"] = internalVersion
	return Global{NbCfg: nb.Global.NbCfg, Options: opts}
}

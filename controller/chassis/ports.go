package chassis

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// LocalnetKey is the Port external_ids key ovn-controller marks the patch
// ports of a localnet port with; its value is the localnet logical port.
const LocalnetKey = "ovn-localnet-port"

// LocalnetPort is the patch port pair that connects br-int to the bridge
// a localnet port's physical network maps to.
type LocalnetPort struct {
	Name     string // localnet logical port
	Network  string // options:network_name
	Bridge   string // the physical bridge, from ovn-bridge-mappings
	Port     string // the patch port on br-int, "patch-br-int-to-<port>"
	Datapath string // Datapath_Binding UUID
	OFPort   int32  // of the br-int side; 0 until ovs-vswitchd assigned one
	Tag      int    // VLAN tag of the localnet port, 0 for none
	PortKey  int64
	Zone     int
}

// newPort adds to t an interface and its port on bridge br.
func newPort(t *txn, br *vswitch.Bridge, name, typ string, options, portIDs map[string]string) {
	t.seq++
	ifName, portName := fmt.Sprintf("newiface%d", t.seq), fmt.Sprintf("newport%d", t.seq)
	t.create(&vswitch.Interface{UUID: ifName, Name: name, Type: typ, Options: options})
	t.create(&vswitch.Port{UUID: portName, Name: name, Interfaces: []string{ifName}, ExternalIDs: portIDs})
	row := &vswitch.Bridge{UUID: br.UUID}
	t.mutate(row, model.Mutation{Field: &row.Ports, Mutator: ovsdb.MutateOperationInsert, Value: []string{portName}})
}

// delPort adds to t the removal of port p from bridge br; OVS collects the
// port and its interfaces.
func delPort(t *txn, br *vswitch.Bridge, p *vswitch.Port) {
	row := &vswitch.Bridge{UUID: br.UUID}
	t.mutate(row, model.Mutation{Field: &row.Ports, Mutator: ovsdb.MutateOperationDelete, Value: []string{p.UUID}})
}

// tunnelSpec is a tunnel port as it should be.
type tunnelSpec struct {
	Chassis, Type, IP string
	Options           map[string]string
}

func (s tunnelSpec) id() string { return s.Chassis + "@" + s.IP }

// desiredTunnels returns the tunnel to every other chassis this chassis
// shares an encapsulation and a transport zone with, by chassis name.
func desiredTunnels(sb *sbView, cfg Config) map[string]tunnelSpec {
	out := map[string]tunnelSpec{}
	for name, ch := range sb.chassis {
		if name == cfg.SystemID || !zonesOverlap(cfg.TransportZones, ch.TransportZones) {
			continue
		}
		encaps := sb.chassisEncaps(ch)
		var types []string
		for _, e := range encaps {
			types = append(types, e.Type)
		}
		typ, ok := preferredEncap(cfg.EncapTypes, types)
		if !ok {
			continue
		}
		for _, e := range encaps {
			if e.Type == typ {
				out[name] = tunnelSpec{Chassis: name, Type: typ, IP: e.IP, Options: tunnelOptions(e, cfg)}
				break
			}
		}
	}
	return out
}

// tunnelOptions are the interface options ovn-controller gives a tunnel
// to the peer encap e: the peer's IP, the VNI from the flow, the peer's
// checksum and UDP port choices, and this chassis' TOS and DF settings.
func tunnelOptions(e *sbdb.Encap, cfg Config) map[string]string {
	o := map[string]string{"remote_ip": e.IP, "key": "flow"}
	if c := e.Options["csum"]; c == "true" || c == "false" {
		o["csum"] = c
	}
	if p := e.Options["dst_port"]; p != "" {
		o["dst_port"] = p
	}
	if cfg.EncapTOS != "" {
		o["tos"] = cfg.EncapTOS
	}
	if cfg.EncapDFDefault != "" {
		o["df_default"] = cfg.EncapDFDefault
	}
	return o
}

// tunnelOps adds the tunnel port changes on br to t: ports whose
// ovn-chassis-id is no longer wanted go, wanted ones missing are added
// with a fresh name, kept ones get their type and options fixed.
func tunnelOps(t *txn, ovs *ovsView, br *vswitch.Bridge, want map[string]tunnelSpec) error {
	byID := map[string]tunnelSpec{}
	for _, s := range want {
		byID[s.id()] = s
	}
	taken := map[string]bool{}
	have := map[string]bool{}
	for _, p := range ovs.bridgePorts(br.Name) {
		taken[p.Name] = true
		id, ok := p.ExternalIDs[ChassisIDKey]
		if !ok {
			continue
		}
		s, wanted := byID[id]
		ifaces := ovs.portIfaces(p)
		if !wanted || have[id] || len(ifaces) != 1 {
			delPort(t, br, p)
			continue
		}
		have[id] = true
		f := ifaces[0]
		if f.Type != s.Type || !equalMaps(f.Options, s.Options) {
			row := &vswitch.Interface{UUID: f.UUID, Type: s.Type, Options: s.Options}
			t.update(row, &row.Type, &row.Options)
		}
	}
	for _, id := range sortedKeys(byID) {
		if have[id] {
			continue
		}
		s := byID[id]
		name, err := tunnelPortName(s.Chassis, taken)
		if err != nil {
			return err
		}
		taken[name] = true
		newPort(t, br, name, s.Type, s.Options, map[string]string{ChassisIDKey: id})
	}
	return nil
}

// patchSpec is one side of a localnet patch pair.
type patchSpec struct {
	Bridge, Name, Peer, Localnet string
}

func patchName(src, dst string) string { return "patch-" + src + "-to-" + dst }

// desiredPatches returns both sides of the patch pair of every localnet
// port whose network maps to an existing bridge, keyed by port name.
func desiredPatches(ovs *ovsView, cfg Config, localnets []*sbdb.PortBinding) map[string]patchSpec {
	out := map[string]patchSpec{}
	for _, pb := range localnets {
		phys, ok := cfg.BridgeMappings[pb.Options["network_name"]]
		if !ok || ovs.bridges[phys] == nil || phys == cfg.Bridge {
			continue
		}
		in, ex := patchName(cfg.Bridge, pb.LogicalPort), patchName(pb.LogicalPort, cfg.Bridge)
		out[in] = patchSpec{Bridge: cfg.Bridge, Name: in, Peer: ex, Localnet: pb.LogicalPort}
		out[ex] = patchSpec{Bridge: phys, Name: ex, Peer: in, Localnet: pb.LogicalPort}
	}
	return out
}

// patchOps adds the localnet patch port changes on every bridge to t.
func patchOps(t *txn, ovs *ovsView, want map[string]patchSpec) {
	have := map[string]bool{}
	for _, brName := range sortedKeys(ovs.bridges) {
		br := ovs.bridges[brName]
		for _, p := range ovs.bridgePorts(brName) {
			ln, ok := p.ExternalIDs[LocalnetKey]
			if !ok {
				continue
			}
			s, wanted := want[p.Name]
			ifaces := ovs.portIfaces(p)
			if !wanted || s.Bridge != brName || s.Localnet != ln || len(ifaces) != 1 ||
				ifaces[0].Type != "patch" || ifaces[0].Options["peer"] != s.Peer {
				delPort(t, br, p)
				continue
			}
			have[p.Name] = true
		}
	}
	for _, name := range sortedKeys(want) {
		if have[name] {
			continue
		}
		s := want[name]
		newPort(t, ovs.bridges[s.Bridge], s.Name, "patch", map[string]string{"peer": s.Peer},
			map[string]string{LocalnetKey: s.Localnet})
	}
}

// zoneOps persists zones in br's external_ids, touching only the
// ct-zone-* keys that changed.
func zoneOps(t *txn, br *vswitch.Bridge, zones map[string]int) {
	// Only the keys that differ are handed to setKeys: the bridge holds
	// a key per port and two per local datapath, over 1,000 of them,
	// which every Reconcile used to render, merge and sort.
	want := map[string]string{}
	var managed []string
	for n, z := range zones {
		k, v := ZoneKeyPrefix+n, strconv.Itoa(z)
		if have, ok := br.ExternalIDs[k]; !ok || have != v {
			want[k] = v
			managed = append(managed, k)
		}
	}
	for k := range br.ExternalIDs {
		if name, ok := strings.CutPrefix(k, ZoneKeyPrefix); ok {
			if _, keep := zones[name]; !keep {
				managed = append(managed, k)
			}
		}
	}
	if len(managed) == 0 {
		return
	}
	slices.Sort(managed)
	row := &vswitch.Bridge{UUID: br.UUID}
	t.setKeys(row, &row.ExternalIDs, br.ExternalIDs, want, managed)
}

// installedOps sets or clears ovn-installed on the interfaces: those in
// set get it (with the time, ms), every other interface in ifaces loses it.
func installedOps(t *txn, ifaces []*vswitch.Interface, set map[string]bool, nowMS string) {
	keys := []string{OVNInstalledKey, OVNInstalledTSKey}
	sort.Slice(ifaces, func(i, j int) bool { return ifaces[i].Name < ifaces[j].Name })
	for _, f := range ifaces {
		row := &vswitch.Interface{UUID: f.UUID}
		switch {
		case set[f.UUID] && !hasInstalled(f):
			t.setKeys(row, &row.ExternalIDs, f.ExternalIDs,
				map[string]string{OVNInstalledKey: "true", OVNInstalledTSKey: nowMS}, keys)
		case !set[f.UUID] && (f.ExternalIDs[OVNInstalledKey] != "" || f.ExternalIDs[OVNInstalledTSKey] != ""):
			t.setKeys(row, &row.ExternalIDs, f.ExternalIDs, nil, keys)
		}
	}
}

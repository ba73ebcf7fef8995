package chassis

import (
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// buildState renders the local view from the OVS view read after the
// writes.
func buildState(ov *ovsView, sbv *sbView, cfg Config, b *binding, chUUID string, zones map[string]int,
	tunnels map[string]tunnelSpec, localnets []*sbdb.PortBinding, patches map[string]patchSpec) *State {
	br := ov.bridges[cfg.Bridge]
	st := &State{Config: cfg, Chassis: cfg.SystemID, ChassisUUID: chUUID, Bridge: cfg.Bridge,
		BridgeUUID: br.UUID, DatapathType: br.DatapathType, Zones: zones,
		LocalPorts: map[string]LocalPort{}, Tunnels: map[string]Tunnel{}, Gateways: map[string]GatewayPort{},
		Localnet: map[string]LocalnetPort{}, LocalDatapaths: map[string]LocalDatapath{}}
	ofports := portOFPorts(ov, cfg.Bridge)
	for name, lp := range b.local {
		l := *lp
		l.Zone = zones[name]
		st.LocalPorts[name] = l
	}
	for name, pb := range b.gateway {
		g := GatewayPort{Name: name, Type: pb.Type, Datapath: pb.Datapath, PortKey: int64(pb.TunnelKey),
			Zone: zones[name]}
		if dp := sbv.dps[pb.Datapath]; dp != nil {
			g.DatapathKey = int64(dp.TunnelKey)
		}
		st.Gateways[name] = g
	}
	byID := map[string]string{} // ovn-chassis-id -> port name
	for _, p := range ov.bridgePorts(cfg.Bridge) {
		if id, ok := p.ExternalIDs[ChassisIDKey]; ok {
			byID[id] = p.Name
		}
	}
	for name, s := range tunnels {
		port, ok := byID[s.id()]
		if !ok {
			continue
		}
		st.Tunnels[name] = Tunnel{Chassis: name, Port: port, Type: s.Type, RemoteIP: s.IP,
			Options: s.Options, OFPort: ofports[port]}
	}
	for _, pb := range localnets {
		port := patchName(cfg.Bridge, pb.LogicalPort)
		s, ok := patches[port]
		if !ok {
			continue
		}
		ln := LocalnetPort{Name: pb.LogicalPort, Network: pb.Options["network_name"],
			Bridge: patches[s.Peer].Bridge, Port: port, Datapath: pb.Datapath,
			OFPort: ofports[port], PortKey: int64(pb.TunnelKey), Zone: zones[pb.LogicalPort]}
		if pb.Tag != nil {
			ln.Tag = *pb.Tag
		}
		st.Localnet[pb.LogicalPort] = ln
	}
	for dp := range b.datapath {
		ld := LocalDatapath{UUID: dp, DNATZone: zones[dnatZoneName(dp)], SNATZone: zones[snatZoneName(dp)]}
		if row := sbv.dps[dp]; row != nil {
			ld.Key = int64(row.TunnelKey)
			ld.Name = row.ExternalIDs["name"]
		}
		st.LocalDatapaths[dp] = ld
	}
	return st
}

// portOFPorts maps the names of the single-interface ports on bridge br
// to their OpenFlow port numbers (0 when not assigned yet).
func portOFPorts(ov *ovsView, br string) map[string]int32 {
	out := map[string]int32{}
	for _, p := range ov.bridgePorts(br) {
		for _, f := range ov.portIfaces(p) {
			if f.Name == p.Name && f.Ofport != nil && *f.Ofport > 0 {
				out[p.Name] = int32(*f.Ofport)
			}
		}
	}
	return out
}

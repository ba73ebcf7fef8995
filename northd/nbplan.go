package northd

import (
	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/nbdb"
	"github.com/ovnd/ovnd/ovnschema/sbdb"
)

// nbFeedback is what northd reports back to NB after SB has been written.
type nbFeedback struct {
	// sbCfg is the nb_cfg that SB now reflects.
	sbCfg int
	// chassis is the SB Chassis_Private rows, for hv_cfg; hosts is the
	// SB Chassis rows they point to.
	chassis []sbdb.ChassisPrivate
	hosts   []sbdb.Chassis
	// up is whether each logical port is up, by name (see portsUp).
	up map[string]bool
	// now is the loop's clock in ms, for sb_cfg_timestamp.
	now int
	// tags are container port tags by NB port UUID.
	tags map[string]int
	// defaults are NB_Global options to set when missing.
	defaults map[string]string
}

// portUpNotif is the Chassis other_config feature flag of an
// ovn-controller that reports Port_Binding.up itself.
const portUpNotif = "port-up-notif"

// portsUp is Logical_Switch_Port.up by port name, as ovn-northd 23.03
// derives it: a bound port is up once its chassis says so, or as soon as
// it is bound when its chassis does not report up (no port-up-notif);
// an unbound port is down.
func portsUp(sb *sbState) map[string]bool {
	notif := map[string]bool{}
	for _, c := range sb.chassis {
		notif[c.UUID] = c.OtherConfig[portUpNotif] == "true"
	}
	up := make(map[string]bool, len(sb.ports))
	for _, pb := range sb.ports {
		switch {
		case pb.Chassis == nil:
		case notif[*pb.Chassis]:
			up[pb.LogicalPort] = pb.Up != nil && *pb.Up
		default:
			up[pb.LogicalPort] = true
		}
	}
	return up
}

// hvCfg is the nb_cfg every chassis has caught up with and when the last
// of them did: the minimum Chassis_Private.nb_cfg (starting from sbCfg)
// and the latest timestamp among the chassis at that minimum. As in
// ovn-northd, Chassis_Private rows without a Chassis and remote chassis
// (other_config:is-remote) do not count; with no chassis the timestamp
// is 0.
func (f *nbFeedback) hvCfg() (cfg, ts int) {
	remote := map[string]bool{}
	for _, c := range f.hosts {
		remote[c.UUID] = c.OtherConfig["is-remote"] == "true"
	}
	cfg = f.sbCfg
	for _, c := range f.chassis {
		if c.Chassis == nil || remote[*c.Chassis] {
			continue
		}
		switch {
		case c.NbCfg < cfg:
			cfg, ts = c.NbCfg, c.NbCfgTimestamp
		case c.NbCfg == cfg:
			ts = max(ts, c.NbCfgTimestamp)
		}
	}
	return cfg, ts
}

// planNB returns the NB operations for f: NB_Global's sb_cfg, hv_cfg and
// missing options (global), and Logical_Switch_Port.up and tag (ports).
// Without an NB_Global row, global creates one and ports is empty.
func planNB(api client.Client, nb *nbState, f *nbFeedback) (global, ports []ovsdb.Operation, err error) {
	if !nb.hasGlobal {
		global, err = api.Create(&nbdb.NBGlobal{UUID: "nbglobal", Options: f.defaults})
		return global, nil, err
	}
	g := nb.Global
	opts, changed := withDefaults(g.Options, f.defaults)
	hv, hvTS := f.hvCfg()
	if changed || g.SbCfg != f.sbCfg || g.HvCfg != hv || g.HvCfgTimestamp != hvTS {
		fields := []any{&g.Options, &g.SbCfg, &g.HvCfg, &g.HvCfgTimestamp}
		if g.SbCfg != f.sbCfg {
			g.SbCfgTimestamp = f.now
			fields = append(fields, &g.SbCfgTimestamp)
		}
		g.Options, g.SbCfg, g.HvCfg, g.HvCfgTimestamp = opts, f.sbCfg, hv, hvTS
		if global, err = api.Where(&g).Update(&g, fields...); err != nil {
			return nil, nil, err
		}
	}
	for _, p := range nb.Ports {
		// Router ports have no chassis to claim them: ovn-northd
		// reports them up.
		up := f.up[p.Name] || p.Type == "router"
		var fields []any
		if p.Up == nil || *p.Up != up {
			p.Up = &up
			fields = append(fields, &p.Up)
		}
		if tag, ok := f.tags[p.UUID]; ok && (p.Tag == nil || *p.Tag != tag) {
			p.Tag = &tag
			fields = append(fields, &p.Tag)
		}
		if len(fields) > 0 {
			o, err := api.Where(&p).Update(&p, fields...)
			if err != nil {
				return nil, nil, err
			}
			ports = append(ports, o...)
		}
	}
	return global, ports, nil
}

func withDefaults(opts, defaults map[string]string) (map[string]string, bool) {
	out := make(map[string]string, len(opts)+len(defaults))
	changed := false
	for k, v := range opts {
		out[k] = v
	}
	for k, v := range defaults {
		if _, ok := out[k]; !ok {
			out[k], changed = v, true
		}
	}
	return out, changed
}

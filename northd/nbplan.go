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
	// chassis is the SB Chassis_Private rows, for hv_cfg.
	chassis []sbdb.ChassisPrivate
	// up is SB Port_Binding.up by logical port.
	up map[string]bool
	// now is the loop's clock in ms, for sb_cfg_timestamp.
	now int
	// tags are container port tags by NB port UUID.
	tags map[string]int
	// defaults are NB_Global options to set when missing.
	defaults map[string]string
}

// hvCfg is the nb_cfg every chassis has caught up with: the minimum over
// Chassis_Private, or sbCfg when there are no chassis.
func (f *nbFeedback) hvCfg() int {
	hv := f.sbCfg
	for _, c := range f.chassis {
		hv = min(hv, c.NbCfg)
	}
	return hv
}

// hvCfgTimestamp is when the last chassis caught up: the latest
// Chassis_Private.nb_cfg_timestamp, or now when there are no chassis.
func (f *nbFeedback) hvCfgTimestamp() int {
	if len(f.chassis) == 0 {
		return f.now
	}
	ts := 0
	for _, c := range f.chassis {
		ts = max(ts, c.NbCfgTimestamp)
	}
	return ts
}

// planNB returns the NB operations for f: NB_Global's sb_cfg, hv_cfg and
// missing options, and Logical_Switch_Port.up.
func planNB(api client.Client, nb *nbState, f *nbFeedback) ([]ovsdb.Operation, error) {
	var ops []ovsdb.Operation
	add := func(o []ovsdb.Operation, err error) error {
		ops = append(ops, o...)
		return err
	}
	if !nb.hasGlobal {
		return nil, add(api.Create(&nbdb.NBGlobal{UUID: "nbglobal", Options: f.defaults}))
	}
	g := nb.Global
	opts, changed := withDefaults(g.Options, f.defaults)
	if changed || g.SbCfg != f.sbCfg || g.HvCfg != f.hvCfg() {
		fields := []any{&g.Options, &g.SbCfg, &g.HvCfg}
		if g.SbCfg != f.sbCfg {
			g.SbCfgTimestamp = f.now
			fields = append(fields, &g.SbCfgTimestamp)
		}
		if g.HvCfg != f.hvCfg() {
			g.HvCfgTimestamp = f.hvCfgTimestamp()
			fields = append(fields, &g.HvCfgTimestamp)
		}
		g.Options, g.SbCfg, g.HvCfg = opts, f.sbCfg, f.hvCfg()
		if err := add(api.Where(&g).Update(&g, fields...)); err != nil {
			return nil, err
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
			if err := add(api.Where(&p).Update(&p, fields...)); err != nil {
				return nil, err
			}
		}
	}
	return ops, nil
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

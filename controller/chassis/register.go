package chassis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// encapSpec is one Encap row this chassis publishes.
type encapSpec struct {
	Type, IP string
	Options  map[string]string
}

// desiredEncaps returns the Encap rows cfg asks for, one per type.
func desiredEncaps(cfg Config) []encapSpec {
	csum := "false"
	if cfg.EncapCsum {
		csum = "true"
	}
	var out []encapSpec
	for _, t := range cfg.EncapTypes {
		out = append(out, encapSpec{Type: t, IP: cfg.EncapIP, Options: map[string]string{"csum": csum}})
	}
	return out
}

// chassisOtherConfig is what ovn-controller 23.03 writes to
// Chassis.other_config. The feature flags (ct-no-masked-label,
// ovn-ct-lb-related, mac-binding-timestamp, port-up-notif) tell ovn-northd
// which flows this controller understands; ovnd's flow compiler honours
// the same set.
func chassisOtherConfig(cfg Config, ovs *vswitch.OpenvSwitch, dpType string) map[string]string {
	oc := map[string]string{
		"ct-no-masked-label":    "true",
		"datapath-type":         dpType,
		"iface-types":           strings.Join(sortedCopy(ovs.IfaceTypes), ","),
		"is-interconn":          "false",
		"mac-binding-timestamp": "true",
		"ovn-bridge-mappings":   ovs.ExternalIDs["ovn-bridge-mappings"],
		"ovn-ct-lb-related":     "true",
		"port-up-notif":         "true",
	}
	if ovs.ExternalIDs["ovn-is-interconn"] == "true" {
		oc["is-interconn"] = "true"
	}
	for k, v := range cfg.Passthrough {
		oc[k] = v
	}
	return oc
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// registerChassis adds to t what makes the SB hold this chassis: the
// Chassis row (created, or taken over when a previous run left one with
// the same name), its Encap rows and its Chassis_Private row. Only
// differences are written. Other chassis' rows are never touched.
func registerChassis(t *txn, sb *sbView, cfg Config, otherConfig map[string]string) {
	ch := sb.chassis[cfg.SystemID]
	want := desiredEncaps(cfg)
	chUUID := "newchassis"
	if ch == nil {
		encaps := createEncaps(t, cfg, want)
		t.create(&sbdb.Chassis{UUID: chUUID, Name: cfg.SystemID, Hostname: cfg.Hostname,
			Encaps: encaps, OtherConfig: otherConfig, ExternalIDs: map[string]string{},
			TransportZones: sortedCopy(cfg.TransportZones)})
	} else {
		chUUID = ch.UUID
		updateChassis(t, sb, ch, cfg, want, otherConfig)
	}
	priv := sb.privates[cfg.SystemID]
	if priv == nil {
		t.create(&sbdb.ChassisPrivate{UUID: "newprivate", Name: cfg.SystemID, Chassis: &chUUID,
			ExternalIDs: map[string]string{}})
		return
	}
	if priv.Chassis == nil || *priv.Chassis != chUUID {
		p := &sbdb.ChassisPrivate{UUID: priv.UUID, Chassis: &chUUID}
		t.update(p, &p.Chassis)
	}
}

// encapConflict returns an error naming the chassis that holds an Encap
// with the (type, ip) this chassis wants, which the SB's index would
// refuse: typically this host under a previous system-id. ignore is a
// chassis whose rows go in the same transaction.
func encapConflict(sb *sbView, cfg Config, ignore string) error {
	for _, e := range desiredEncaps(cfg) {
		for _, have := range sb.encaps {
			if have.Type != e.Type || have.IP != e.IP || have.ChassisName == cfg.SystemID || have.ChassisName == ignore {
				continue
			}
			return fmt.Errorf("%w: %s %s is registered by chassis %q (remove it with ovn-sbctl chassis-del, or change ovn-encap-ip)",
				ErrEncapInUse, e.Type, e.IP, have.ChassisName)
		}
	}
	return nil
}

// updateChassis brings an existing Chassis row and its encaps in line.
func updateChassis(t *txn, sb *sbView, ch *sbdb.Chassis, cfg Config, want []encapSpec, otherConfig map[string]string) {
	row := &sbdb.Chassis{UUID: ch.UUID}
	if ch.Hostname != cfg.Hostname {
		row.Hostname = cfg.Hostname
		t.update(row, &row.Hostname)
	}
	if tz := sortedCopy(cfg.TransportZones); !slices.Equal(sortedCopy(ch.TransportZones), tz) {
		row.TransportZones = tz
		t.update(row, &row.TransportZones)
	}
	t.setKeys(row, &row.OtherConfig, ch.OtherConfig, otherConfig, sortedKeys(otherConfig))
	have := sb.chassisEncaps(ch)
	if sameEncapKeys(have, want) {
		for _, e := range have {
			w := findEncap(want, e.Type, e.IP)
			// Only the columns that differ: under the SB's RBAC an
			// ovn-controller role may not rewrite chassis_name.
			r := &sbdb.Encap{UUID: e.UUID, Options: w.Options, ChassisName: cfg.SystemID}
			var fields []any
			if !equalMaps(e.Options, w.Options) {
				fields = append(fields, &r.Options)
			}
			if e.ChassisName != cfg.SystemID {
				fields = append(fields, &r.ChassisName)
			}
			if len(fields) > 0 {
				t.update(r, fields...)
			}
		}
		return
	}
	// Encap rows are not root: the ones no longer referenced go with the
	// commit, before the (type, ip) index is checked.
	row.Encaps = createEncaps(t, cfg, want)
	t.update(row, &row.Encaps)
}

// createEncaps adds the Encap rows to t and returns their named UUIDs.
func createEncaps(t *txn, cfg Config, want []encapSpec) []string {
	var names []string
	for i, e := range want {
		name := fmt.Sprintf("newencap%d", i)
		t.create(&sbdb.Encap{UUID: name, ChassisName: cfg.SystemID, Type: e.Type, IP: e.IP, Options: e.Options})
		names = append(names, name)
	}
	return names
}

func sameEncapKeys(have []*sbdb.Encap, want []encapSpec) bool {
	if len(have) != len(want) {
		return false
	}
	for _, e := range have {
		if findEncap(want, e.Type, e.IP) == nil {
			return false
		}
	}
	return true
}

func findEncap(want []encapSpec, typ, ip string) *encapSpec {
	for i := range want {
		if want[i].Type == typ && want[i].IP == ip {
			return &want[i]
		}
	}
	return nil
}

// equalMaps treats nil and empty as equal.
func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

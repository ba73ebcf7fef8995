package chassis

import (
	"crypto/rand"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// Keys ovn-controller writes to the Open_vSwitch row's other_config.
const (
	chassisIdxPrefix = "ovn-chassis-idx-" // + system-id: "" for the only controller on the host
	vlanLimitKey     = "vlan-limit"       // "0": no limit on VLAN headers matched
)

// rootOtherConfig is what this controller keeps in Open_vSwitch
// other_config.
func rootOtherConfig(cfg Config) map[string]string {
	return map[string]string{chassisIdxPrefix + cfg.SystemID: "", vlanLimitKey: "0"}
}

// createBridge adds to t the integration bridge with its internal port,
// as ovn-controller creates it: fail_mode secure, in-band off, a random
// hardware address so the bridge's MAC does not follow its ports.
func createBridge(t *txn, root *vswitch.OpenvSwitch, cfg Config, dpType string) error {
	mac, err := randomMAC()
	if err != nil {
		return err
	}
	secure := vswitch.BridgeFailModeSecure
	t.create(&vswitch.Interface{UUID: "newbriface", Name: cfg.Bridge, Type: "internal"})
	t.create(&vswitch.Port{UUID: "newbrport", Name: cfg.Bridge, Interfaces: []string{"newbriface"}})
	t.create(&vswitch.Bridge{UUID: "newbridge", Name: cfg.Bridge, Ports: []string{"newbrport"},
		FailMode: &secure, DatapathType: dpType,
		OtherConfig: map[string]string{"disable-in-band": "true", "hwaddr": mac}})
	r := &vswitch.OpenvSwitch{UUID: root.UUID}
	t.mutate(r, model.Mutation{Field: &r.Bridges, Mutator: ovsdb.MutateOperationInsert, Value: []string{"newbridge"}})
	return nil
}

// updateBridge keeps an existing integration bridge as ovn-controller
// does: the configured datapath type (only when configured: a bridge
// someone made by hand keeps its type otherwise), fail_mode secure, and
// ovn-startup-ts in external_ids. Like ovn-controller it leaves
// other_config (disable-in-band, hwaddr) as it finds it.
func updateBridge(t *txn, br *vswitch.Bridge, cfg Config, startupTS string) {
	row := &vswitch.Bridge{UUID: br.UUID}
	var fields []any
	if cfg.DatapathType != "" && br.DatapathType != cfg.DatapathType {
		row.DatapathType = cfg.DatapathType
		fields = append(fields, &row.DatapathType)
	}
	if br.FailMode == nil || *br.FailMode != vswitch.BridgeFailModeSecure {
		secure := vswitch.BridgeFailModeSecure
		row.FailMode = &secure
		fields = append(fields, &row.FailMode)
	}
	if len(fields) > 0 {
		t.update(row, fields...)
	}
	ts := map[string]string{startupTSKey: startupTS}
	t.setKeys(row, &row.ExternalIDs, br.ExternalIDs, ts, []string{startupTSKey})
}

// startupTSKey is the bridge external_ids key holding when the controller
// started, in ms since the epoch; CMSes compare it with ovn-installed-ts.
const startupTSKey = "ovn-startup-ts"

// randomMAC returns a random unicast, locally administered MAC.
func randomMAC() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random mac: %w", err)
	}
	b[0] = b[0]&^1 | 2
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]), nil
}

package chassis

import (
	"context"
	"fmt"

	"github.com/ovn-kubernetes/libovsdb/client"

	"github.com/ovnd/ovnd/ovnschema/sbdb"
	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// OVSMonitorOptions are the Open_vSwitch tables the manager reads, all
// columns: Open_vSwitch, Bridge, Port, Interface. Add them to the
// caller's own monitor, or use MonitorOVS.
func OVSMonitorOptions() []client.MonitorOption {
	return []client.MonitorOption{
		client.WithTable(&vswitch.OpenvSwitch{}),
		client.WithTable(&vswitch.Bridge{}),
		client.WithTable(&vswitch.Port{}),
		client.WithTable(&vswitch.Interface{}),
	}
}

// SBMonitorOptions are the SB tables the manager reads, all columns:
// Chassis, Encap, Chassis_Private, Port_Binding, Datapath_Binding,
// HA_Chassis_Group, HA_Chassis.
func SBMonitorOptions() []client.MonitorOption {
	return []client.MonitorOption{
		client.WithTable(&sbdb.Chassis{}),
		client.WithTable(&sbdb.Encap{}),
		client.WithTable(&sbdb.ChassisPrivate{}),
		client.WithTable(&sbdb.PortBinding{}),
		client.WithTable(&sbdb.DatapathBinding{}),
		client.WithTable(&sbdb.HAChassisGroup{}),
		client.WithTable(&sbdb.HAChassis{}),
	}
}

// MonitorOVS starts the monitor of OVSMonitorOptions on c.
func MonitorOVS(ctx context.Context, c client.Client) error {
	if _, err := c.Monitor(ctx, c.NewMonitor(OVSMonitorOptions()...)); err != nil {
		return fmt.Errorf("monitor ovs: %w", err)
	}
	return nil
}

// MonitorSB starts the monitor of SBMonitorOptions on c.
func MonitorSB(ctx context.Context, c client.Client) error {
	if _, err := c.Monitor(ctx, c.NewMonitor(SBMonitorOptions()...)); err != nil {
		return fmt.Errorf("monitor sb: %w", err)
	}
	return nil
}

// LoadConfig reads the configuration from c's cached Open_vSwitch row
// (see ReadConfig); the loop uses it to find the SB before it has a
// Manager.
func LoadConfig(_ context.Context, c client.Client, systemIDFile string) (Config, error) {
	roots, err := rows[vswitch.OpenvSwitch](c, vswitch.OpenvSwitchTable)
	if err != nil {
		return Config{}, fmt.Errorf("read ovs cache: %w", err)
	}
	if len(roots) != 1 {
		return Config{}, fmt.Errorf("read ovs cache: %d Open_vSwitch rows, want 1", len(roots))
	}
	return ReadConfig(roots[0], systemIDFile)
}

package chassis

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ovnd/ovnd/ovnschema/vswitch"
)

// DefaultSystemIDFile is where OVS keeps the system-id when external_ids
// lacks one, as ovn-controller reads it.
const DefaultSystemIDFile = "/etc/openvswitch/system-id.conf"

// DefaultProbeInterval is ovn-controller's default for
// ovn-remote-probe-interval.
const DefaultProbeInterval = 5 * time.Second

// Encapsulation types ovnd can build tunnels for.
const (
	EncapGeneve = "geneve"
	EncapVXLAN  = "vxlan"
)

// ErrNoSystemID is returned by ReadConfig when neither
// external_ids:system-id nor the system-id file names the chassis.
var ErrNoSystemID = errors.New("no external_ids:system-id and no system-id file")

// Config is the chassis configuration ovn-controller reads from the
// Open_vSwitch row's external_ids. Every field but SystemID, Remote,
// EncapTypes and EncapIP has ovn-controller's default when the key is
// missing.
type Config struct {
	SystemID string // system-id, or the first line of the system-id file
	Remote   string // ovn-remote: the SB, e.g. "unix:/run/ovn/ovnsb_db.sock"
	Hostname string // hostname, or the host's name
	// Bridge is ovn-bridge, default "br-int".
	Bridge string
	// DatapathType is ovn-bridge-datapath-type; "" lets the manager pick
	// from what the host offers.
	DatapathType string
	// EncapTypes is ovn-encap-type, a comma list, in the order given.
	EncapTypes []string
	EncapIP    string // ovn-encap-ip
	// EncapCsum is ovn-encap-csum (default true): published in the Encap
	// rows' options:csum so that peers checksum the tunnels they send here.
	EncapCsum bool
	// EncapTOS is ovn-encap-tos: the tunnels' options:tos ("" unset,
	// a number or "inherit").
	EncapTOS string
	// EncapDFDefault is ovn-encap-df_default: the tunnels'
	// options:df_default ("" unset, "true" or "false").
	EncapDFDefault string
	// BridgeMappings is ovn-bridge-mappings: physical network -> bridge.
	BridgeMappings map[string]string
	// ProbeInterval is ovn-remote-probe-interval (milliseconds in OVS);
	// 0 disables probing.
	ProbeInterval time.Duration
	// TransportZones is ovn-transport-zones: tunnels are built only to
	// chassis sharing a zone; chassis with none form the default zone.
	TransportZones []string
	// Passthrough holds the keys ovn-controller copies to
	// Chassis.other_config verbatim (ovn-cms-options,
	// ovn-chassis-mac-mappings, ...), with ovn-controller's defaults.
	Passthrough map[string]string
}

// passthroughKeys are the external_ids ovn-controller 23.03 copies to
// Chassis.other_config, with the value it writes when the key is absent.
var passthroughKeys = map[string]string{
	"ovn-cms-options":                 "",
	"ovn-chassis-mac-mappings":        "",
	"ovn-enable-lflow-cache":          "true",
	"ovn-limit-lflow-cache":           "",
	"ovn-memlimit-lflow-cache-kb":     "",
	"ovn-trim-limit-lflow-cache":      "",
	"ovn-trim-wmark-perc-lflow-cache": "",
	"ovn-trim-timeout-ms":             "",
	"ovn-monitor-all":                 "false",
}

// ReadConfig reads the chassis configuration from the Open_vSwitch row
// as ovn-controller does. It reads systemIDFile only when external_ids
// has no system-id, and the host name only when external_ids has no
// hostname. Missing or malformed keys give an error naming the key.
func ReadConfig(ovs *vswitch.OpenvSwitch, systemIDFile string) (Config, error) {
	if ovs == nil {
		return Config{}, errors.New("no Open_vSwitch row")
	}
	ids := ovs.ExternalIDs
	cfg := Config{
		Remote:       strings.TrimSpace(ids["ovn-remote"]),
		Hostname:     ids["hostname"],
		Bridge:       ids["ovn-bridge"],
		DatapathType: ids["ovn-bridge-datapath-type"],
		EncapIP:      strings.TrimSpace(ids["ovn-encap-ip"]),
		Passthrough:  map[string]string{},
	}
	var err error
	if cfg.SystemID, err = readSystemID(ids["system-id"], systemIDFile); err != nil {
		return Config{}, err
	}
	if cfg.Hostname == "" {
		if cfg.Hostname, err = os.Hostname(); err != nil {
			return Config{}, fmt.Errorf("host name: %w", err)
		}
	}
	if cfg.Bridge == "" {
		cfg.Bridge = "br-int"
	}
	if cfg.Remote == "" {
		return Config{}, errors.New("external_ids:ovn-remote is not set")
	}
	if err := cfg.readEncap(ids); err != nil {
		return Config{}, err
	}
	if cfg.BridgeMappings, err = ParseBridgeMappings(ids["ovn-bridge-mappings"]); err != nil {
		return Config{}, err
	}
	if cfg.ProbeInterval, err = parseProbeInterval(ids); err != nil {
		return Config{}, err
	}
	cfg.TransportZones = splitList(ids["ovn-transport-zones"])
	for k, def := range passthroughKeys {
		cfg.Passthrough[k] = def
		if v, ok := ids[k]; ok {
			cfg.Passthrough[k] = v
		}
	}
	return cfg, nil
}

// readSystemID returns id, or else the first line of file.
func readSystemID(id, file string) (string, error) {
	if id = strings.TrimSpace(id); id != "" {
		return id, nil
	}
	if file == "" {
		return "", ErrNoSystemID
	}
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNoSystemID
	}
	if err != nil {
		return "", fmt.Errorf("system-id: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("system-id file %s is empty: %w", file, ErrNoSystemID)
	}
	return line, nil
}

func (cfg *Config) readEncap(ids map[string]string) error {
	cfg.EncapTypes = splitList(ids["ovn-encap-type"])
	if len(cfg.EncapTypes) == 0 {
		return errors.New("external_ids:ovn-encap-type is not set")
	}
	for _, t := range cfg.EncapTypes {
		if t != EncapGeneve && t != EncapVXLAN {
			return fmt.Errorf("external_ids:ovn-encap-type: unsupported type %q (want geneve or vxlan)", t)
		}
	}
	cfg.EncapTypes = slices.Compact(cfg.EncapTypes)
	if cfg.EncapIP == "" {
		return errors.New("external_ids:ovn-encap-ip is not set")
	}
	if net.ParseIP(cfg.EncapIP) == nil {
		return fmt.Errorf("external_ids:ovn-encap-ip: %q is not an IP address", cfg.EncapIP)
	}
	cfg.EncapTOS = strings.TrimSpace(ids["ovn-encap-tos"])
	if v, ok := ids["ovn-encap-df_default"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("external_ids:ovn-encap-df_default: %q is not true or false", v)
		}
		cfg.EncapDFDefault = strconv.FormatBool(b)
	}
	cfg.EncapCsum = true
	if v, ok := ids["ovn-encap-csum"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("external_ids:ovn-encap-csum: %q is not true or false", v)
		}
		cfg.EncapCsum = b
	}
	return nil
}

// ParseBridgeMappings parses ovn-bridge-mappings,
// "physnet1:br-eth0,physnet2:br-eth1". An empty string is no mappings.
func ParseBridgeMappings(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, item := range splitList(s) {
		network, bridge, ok := strings.Cut(item, ":")
		network, bridge = strings.TrimSpace(network), strings.TrimSpace(bridge)
		if !ok || network == "" || bridge == "" {
			return nil, fmt.Errorf("external_ids:ovn-bridge-mappings: %q is not network:bridge", item)
		}
		if prev, dup := m[network]; dup && prev != bridge {
			return nil, fmt.Errorf("external_ids:ovn-bridge-mappings: network %q mapped twice", network)
		}
		m[network] = bridge
	}
	return m, nil
}

func parseProbeInterval(ids map[string]string) (time.Duration, error) {
	v, ok := ids["ovn-remote-probe-interval"]
	if !ok {
		return DefaultProbeInterval, nil
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || ms < 0 {
		return 0, fmt.Errorf("external_ids:ovn-remote-probe-interval: %q is not a number of milliseconds", v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

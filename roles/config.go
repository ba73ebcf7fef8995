package roles

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultConfigPath is where `ovnd run` looks for its config without --config.
const DefaultConfigPath = "/etc/ovnd/ovnd.toml"

// ConfigVersion is the only config version this ovnd reads.
const ConfigVersion = 1

// Role names as they appear in the roles key, in start order: the database
// comes first because the other roles are its clients.
const (
	RoleDatabase   = "database"
	RoleNorthd     = "northd"
	RoleController = "controller"
)

var roleOrder = []string{RoleDatabase, RoleNorthd, RoleController}

// Config is ovnd.toml. The toml tags are the whole key set: a key is valid
// exactly when a field here carries it, and ovnd.toml.example documents each
// one (a test keeps them in sync).
type Config struct {
	Version    int              `toml:"version"`
	Roles      []string         `toml:"roles"`
	Log        LogConfig        `toml:"log"`
	Database   DatabaseConfig   `toml:"database"`
	TLS        TLSConfig        `toml:"tls"`
	Northd     NorthdConfig     `toml:"northd"`
	Controller ControllerConfig `toml:"controller"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	// Level is one of debug, info, warn, error.
	Level string `toml:"level"`
}

// DatabaseConfig is the [database] section: the embedded OVSDB server that
// serves OVN_Northbound and OVN_Southbound.
type DatabaseConfig struct {
	Dir       string   `toml:"dir"`
	NBRemotes []string `toml:"nb_remotes"`
	SBRemotes []string `toml:"sb_remotes"`
}

// TLSConfig is the [tls] section: PEM files for pssl: and ssl: remotes.
type TLSConfig struct {
	PrivateKey  string `toml:"private_key"`
	Certificate string `toml:"certificate"`
	CACert      string `toml:"ca_cert"`
}

// NorthdConfig is the [northd] section: the databases northd connects to.
type NorthdConfig struct {
	NB string `toml:"nb"`
	SB string `toml:"sb"`
}

// ControllerConfig is the [controller] section.
type ControllerConfig struct {
	// OVS is the local Open_vSwitch database.
	OVS string `toml:"ovs"`
}

// Default returns the config that an empty ovnd.toml means: the database
// role at OVN's default socket paths. Every call returns fresh slices.
func Default() *Config {
	return &Config{
		Version: ConfigVersion,
		Roles:   []string{RoleDatabase},
		Log:     LogConfig{Level: "info"},
		Database: DatabaseConfig{
			Dir:       "/var/lib/ovnd",
			NBRemotes: []string{"punix:/var/run/ovn/ovnnb_db.sock"},
			SBRemotes: []string{"punix:/var/run/ovn/ovnsb_db.sock"},
		},
		Northd: NorthdConfig{
			NB: "unix:/var/run/ovn/ovnnb_db.sock",
			SB: "unix:/var/run/ovn/ovnsb_db.sock",
		},
		Controller: ControllerConfig{OVS: "unix:/var/run/openvswitch/db.sock"},
	}
}

// SlogLevel returns the validated log level as a slog.Level.
func (c LogConfig) SlogLevel() slog.Level {
	return logLevels[c.Level]
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// ConfigError is one problem in a config file, located by key and line.
// Line is 0 when the key is not written in the file (a default value).
type ConfigError struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Load reads, defaults and validates the config file at path. Every problem
// found is returned, joined, as *ConfigError values.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load on a file already read; name is used in error messages.
// Nothing outside the config is touched except the TLS files, which must
// exist when named.
func Parse(name string, data []byte) (*Config, error) {
	lines := keyLines(data)
	locate := func(errs []*ConfigError) error {
		for _, e := range errs {
			e.File = name
			if e.Line == 0 {
				e.Line = lines.find(e.Key)
			}
		}
		return joinConfigErrors(errs)
	}
	var raw map[string]any
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, locate([]*ConfigError{syntaxError(err)})
	}
	if errs := checkKeys(md, raw); len(errs) > 0 {
		return nil, locate(errs)
	}
	cfg := Default()
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg); err != nil {
		// checkKeys has already vetted every key and type.
		return nil, fmt.Errorf("%s: decode: %w", name, err)
	}
	if errs := cfg.validate(); len(errs) > 0 {
		return nil, locate(errs)
	}
	return cfg, nil
}

func syntaxError(err error) *ConfigError {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &ConfigError{Line: pe.Position.Line, Err: errors.New(pe.Message)}
	}
	return &ConfigError{Err: err}
}

func joinConfigErrors(errs []*ConfigError) error {
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// configKeys returns every key a config file may contain, tables included, in
// the dotted form MetaData.Keys uses, mapped to the Go type it decodes to.
func configKeys() map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	addKeys(keys, "", reflect.TypeFor[Config]())
	return keys
}

func addKeys(keys map[string]reflect.Type, prefix string, t reflect.Type) {
	for f := range t.Fields() {
		key := f.Tag.Get("toml")
		if prefix != "" {
			key = prefix + "." + key
		}
		keys[key] = f.Type
		if f.Type.Kind() == reflect.Struct {
			addKeys(keys, key, f.Type)
		}
	}
}

package roles

import (
	"log/slog"

	"github.com/ovnd/ovnd/northd"
)

// newNorthd builds the northd role from the [northd] section. It does not
// connect: the role connects (and reconnects) to NB and SB as it serves.
func newNorthd(cfg *Config, log *slog.Logger) (role, error) {
	return northd.New(cfg.northdConfig(log)), nil
}

// northdConfig maps the [northd] section onto the role's own config.
func (c *Config) northdConfig(log *slog.Logger) northd.Config {
	return northd.Config{NB: c.Northd.NB, SB: c.Northd.SB, Logger: log}
}

package roles

import (
	"fmt"
	"log/slog"

	"github.com/ovnd/ovnd/embeddeddb"
)

// newDatabase starts the database role: the embedded OVSDB server serving
// OVN_Northbound and OVN_Southbound.
func newDatabase(cfg *Config, log *slog.Logger) (role, error) {
	srv, err := openDatabase(cfg.databaseConfig(log))
	if err != nil {
		return nil, fmt.Errorf("start role database: %w", err)
	}
	return srv, nil
}

// databaseConfig maps the [database] and [tls] sections onto the server's
// own config.
func (c *Config) databaseConfig(log *slog.Logger) embeddeddb.Config {
	return embeddeddb.Config{
		Dir:       c.Database.Dir,
		NBRemotes: c.Database.NBRemotes,
		SBRemotes: c.Database.SBRemotes,
		TLS: embeddeddb.TLSConfig{
			PrivateKey:  c.TLS.PrivateKey,
			Certificate: c.TLS.Certificate,
			CACert:      c.TLS.CACert,
		},
		Logger: log,
	}
}

// openDatabase is the single point where the embedded OVSDB server is
// wired in; tests replace it with a fake.
var openDatabase = func(c embeddeddb.Config) (role, error) {
	srv, err := embeddeddb.New(c)
	if err != nil {
		return nil, err
	}
	return srv, nil
}

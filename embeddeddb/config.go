package embeddeddb

import "log/slog"

// Config is what the database role needs to start. roles fills it from the
// [database] and [tls] sections of ovnd.toml after validating them.
type Config struct {
	// Dir holds the database files: ovnnb_db.db and ovnsb_db.db.
	Dir string
	// NBRemotes and SBRemotes are the passive remotes to listen on, in
	// ovsdb-server syntax (see ParseRemote). More listeners come and go at
	// run time from NB_Global.connections and SB_Global.connections.
	NBRemotes []string
	SBRemotes []string
	// TLS is used by pssl: remotes and by Connection rows with pssl: targets.
	TLS TLSConfig
	// Logger receives the role's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// TLSConfig names PEM files. All three are required for a pssl: remote.
type TLSConfig struct {
	PrivateKey  string
	Certificate string
	CACert      string
}

// File names inside Config.Dir, the same as OVN's defaults so that an
// ovsdb-server deployment's files can be copied in as they are.
const (
	NBFile = "ovnnb_db.db"
	SBFile = "ovnsb_db.db"
)

package roles

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ovnd/ovnd/embeddeddb"
)

// validate checks the decoded config. Errors carry keys; Parse adds lines.
func (c *Config) validate() []*ConfigError {
	var errs []*ConfigError
	add := func(key string, err error) {
		if err != nil {
			errs = append(errs, &ConfigError{Key: key, Err: err})
		}
	}
	if c.Version != ConfigVersion {
		add("version", fmt.Errorf("unsupported config version %d (this ovnd reads version %d)", c.Version, ConfigVersion))
	}
	if _, ok := logLevels[c.Log.Level]; !ok {
		add("log.level", fmt.Errorf("unknown level %q (want debug, info, warn or error)", c.Log.Level))
	}
	errs = append(errs, c.validateRoles()...)
	add("database.dir", nonEmpty(c.Database.Dir))
	seen := map[embeddeddb.Remote]string{}
	errs = append(errs, c.validatePassive("database.nb_remotes", c.Database.NBRemotes, seen)...)
	errs = append(errs, c.validatePassive("database.sb_remotes", c.Database.SBRemotes, seen)...)
	errs = append(errs, c.validateTLSFiles()...)
	add("northd.nb", c.validateActive(c.Northd.NB))
	add("northd.sb", c.validateActive(c.Northd.SB))
	add("controller.ovs", c.validateActive(c.Controller.OVS))
	return errs
}

func nonEmpty(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func (c *Config) validateRoles() []*ConfigError {
	if len(c.Roles) == 0 {
		return []*ConfigError{{Key: "roles", Err: fmt.Errorf("empty: name at least one of %s", strings.Join(roleOrder, ", "))}}
	}
	var errs []*ConfigError
	seen := map[string]bool{}
	for i, r := range c.Roles {
		key := fmt.Sprintf("roles[%d]", i)
		switch {
		case !isRole(r):
			errs = append(errs, &ConfigError{Key: key, Err: fmt.Errorf("unknown role %q (want one of %s)", r, strings.Join(roleOrder, ", "))})
		case seen[r]:
			errs = append(errs, &ConfigError{Key: key, Err: fmt.Errorf("duplicate role %q", r)})
		}
		seen[r] = true
	}
	return errs
}

func isRole(name string) bool {
	for _, r := range roleOrder {
		if r == name {
			return true
		}
	}
	return false
}

// HasRole reports whether the config names role.
func (c *Config) HasRole(role string) bool {
	for _, r := range c.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// validatePassive checks a list of listening remotes in ovsdb-server syntax.
// seen holds the remotes of lists already checked, so that two listeners
// cannot claim the same socket.
func (c *Config) validatePassive(key string, remotes []string, seen map[embeddeddb.Remote]string) []*ConfigError {
	if len(remotes) == 0 {
		return []*ConfigError{{Key: key, Err: errors.New("empty: name at least one remote, such as punix:PATH or ptcp:PORT")}}
	}
	var errs []*ConfigError
	for i, s := range remotes {
		elem := fmt.Sprintf("%s[%d]", key, i)
		r, err := embeddeddb.ParseRemote(s)
		if err == nil && r.Network == "ssl" {
			err = c.needTLS(s)
		}
		if other, dup := seen[r]; err == nil && dup {
			err = fmt.Errorf("remote %q: already used by %s", s, other)
		}
		if err != nil {
			errs = append(errs, &ConfigError{Key: elem, Err: err})
			continue
		}
		seen[r] = elem
	}
	return errs
}

// validateActive checks an OVSDB connection method as ovn-northd and
// ovn-controller take it: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT, several
// separated by commas.
func (c *Config) validateActive(s string) error {
	for _, one := range strings.Split(s, ",") {
		ssl, err := parseActiveRemote(one)
		if err == nil && ssl {
			err = c.needTLS(one)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) needTLS(remote string) error {
	var missing []string
	for _, f := range c.TLS.files() {
		if f.path == "" {
			missing = append(missing, f.key)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("remote %q: ssl needs the [tls] files; not set: %s", remote, strings.Join(missing, ", "))
	}
	return nil
}

type tlsFile struct{ key, path string }

func (t TLSConfig) files() []tlsFile {
	return []tlsFile{
		{"tls.private_key", t.PrivateKey},
		{"tls.certificate", t.Certificate},
		{"tls.ca_cert", t.CACert},
	}
}

// validateTLSFiles checks that every TLS file named can be opened now, so
// that a typo fails at start rather than at the first pssl: connection.
func (c *Config) validateTLSFiles() []*ConfigError {
	var errs []*ConfigError
	for _, f := range c.TLS.files() {
		if f.path == "" {
			continue
		}
		if err := readable(f.path); err != nil {
			errs = append(errs, &ConfigError{Key: f.key, Err: err})
		}
	}
	return errs
}

func readable(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	return nil
}

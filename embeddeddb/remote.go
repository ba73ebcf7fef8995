package embeddeddb

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Remote is a parsed passive remote: where the server listens.
type Remote struct {
	// Network is "unix", "tcp" or "ssl".
	Network string
	// Address is the socket path for unix, or host:port for tcp and ssl
	// (host empty means all addresses).
	Address string
}

// String renders r back in ovsdb-server syntax.
func (r Remote) String() string {
	switch r.Network {
	case "unix":
		return "punix:" + r.Address
	case "tcp", "ssl":
		host, port, _ := net.SplitHostPort(r.Address)
		prefix := "ptcp:"
		if r.Network == "ssl" {
			prefix = "pssl:"
		}
		if host == "" {
			return prefix + port
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return prefix + port + ":" + host
	}
	return r.Network + ":" + r.Address
}

// ParseRemote parses a passive remote as ovsdb-server accepts it:
// punix:PATH, ptcp:PORT[:IP] or pssl:PORT[:IP]. IPv6 addresses may be
// written in brackets. PORT 0 asks the kernel for a free port.
func ParseRemote(s string) (Remote, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Remote{}, fmt.Errorf("remote %q: want punix:PATH, ptcp:PORT[:IP] or pssl:PORT[:IP]", s)
	}
	switch kind {
	case "punix":
		if rest == "" {
			return Remote{}, fmt.Errorf("remote %q: empty socket path", s)
		}
		return Remote{Network: "unix", Address: rest}, nil
	case "ptcp", "pssl":
		addr, err := parsePortHost(rest)
		if err != nil {
			return Remote{}, fmt.Errorf("remote %q: %w", s, err)
		}
		network := "tcp"
		if kind == "pssl" {
			network = "ssl"
		}
		return Remote{Network: network, Address: addr}, nil
	}
	return Remote{}, fmt.Errorf("remote %q: unknown kind %q (want punix, ptcp or pssl)", s, kind)
}

func parsePortHost(s string) (string, error) {
	portStr, host, _ := strings.Cut(s, ":")
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", fmt.Errorf("bad port %q", portStr)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host != "" && net.ParseIP(host) == nil {
		return "", fmt.Errorf("bad IP address %q", host)
	}
	return net.JoinHostPort(host, strconv.FormatUint(port, 10)), nil
}

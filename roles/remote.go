package roles

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// parseActiveRemote checks one OVSDB connection method in the syntax OVN's
// clients take: unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT, with IPv6 hosts
// in brackets. It reports whether the method is ssl.
func parseActiveRemote(s string) (ssl bool, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		return false, fmt.Errorf("remote %q: want unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT", s)
	}
	switch kind {
	case "unix":
		if rest == "" {
			return false, fmt.Errorf("remote %q: empty socket path", s)
		}
		return false, nil
	case "tcp", "ssl":
		if err := checkHostPort(rest); err != nil {
			return false, fmt.Errorf("remote %q: %w", s, err)
		}
		return kind == "ssl", nil
	}
	return false, fmt.Errorf("remote %q: unknown kind %q (want unix, tcp or ssl)", s, kind)
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want HOST:PORT: %w", err)
	}
	if host == "" {
		return fmt.Errorf("empty host")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

package pinctrl

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/ovnd/ovnd/controller/lflowc"
	"github.com/ovnd/ovnd/controller/oftable"
	"github.com/ovnd/ovnd/controller/openflow"
)

// ACLLog is one log() of an ACL, as ovn-controller writes it to its
// log: "name=..., verdict=..., severity=..., direction=...: packet".
type ACLLog struct {
	Name, Verdict, Severity, Direction string
	Packet                             string
	Level                              slog.Level
}

func (l ACLLog) String() string {
	return fmt.Sprintf("name=%s, verdict=%s, severity=%s, direction=%s: %s",
		quoteName(l.Name), l.Verdict, l.Severity, l.Direction, l.Packet)
}

func quoteName(n string) string {
	if n == "" {
		return "<unnamed>"
	}
	return `"` + n + `"`
}

var (
	logVerdicts   = map[byte]string{0: "allow", 1: "drop", 2: "reject"}
	logSeverities = map[byte]string{0: "emergency", 1: "alert", 2: "critical", 3: "error", 4: "warning", 5: "notice",
		6: "info", 7: "debug"}
	logLevels = map[byte]slog.Level{0: slog.LevelError, 1: slog.LevelError, 2: slog.LevelError, 3: slog.LevelError,
		4: slog.LevelWarn, 5: slog.LevelInfo, 6: slog.LevelInfo, 7: slog.LevelDebug}
)

// aclLog decodes log(): the packet continues in the pipeline by itself;
// the controller only writes the line.
func aclLog(p *openflow.PacketIn2, u lflowc.Userdata) (*ACLLog, error) {
	verdict, severity, name, err := u.LogInfo()
	if err != nil {
		return nil, err
	}
	l := &ACLLog{Name: name, Verdict: logVerdicts[verdict], Severity: logSeverities[severity],
		Direction: "from-lport", Packet: packetSummary(p.Packet), Level: logLevels[severity]}
	if l.Verdict == "" || l.Severity == "" {
		return nil, fmt.Errorf("log() with verdict %d severity %d", verdict, severity)
	}
	if p.TableID >= oftable.EgressBase {
		l.Direction = "to-lport"
	}
	return l, nil
}

// packetSummary is a one-line description of a frame: addresses,
// protocol and ports.
func packetSummary(b []byte) string {
	if len(b) < 14 {
		return fmt.Sprintf("%d-byte frame", len(b))
	}
	s := fmt.Sprintf("dl_src=%s,dl_dst=%s", net.HardwareAddr(b[6:12]), net.HardwareAddr(b[0:6]))
	ip, err := parseIP(b)
	if err != nil {
		return s
	}
	src, _ := netip.AddrFromSlice(ip.src)
	dst, _ := netip.AddrFromSlice(ip.dst)
	proto := map[byte]string{protoICMP4: "icmp", protoTCP: "tcp", protoUDP: "udp", protoICMP6: "icmp6"}[ip.proto]
	if proto == "" {
		proto = fmt.Sprintf("proto=%d", ip.proto)
	}
	parts := []string{proto, s, "nw_src=" + src.String(), "nw_dst=" + dst.String()}
	if (ip.proto == protoTCP || ip.proto == protoUDP) && len(ip.l4) >= 4 {
		parts = append(parts, fmt.Sprintf("tp_src=%d,tp_dst=%d", int(ip.l4[0])<<8|int(ip.l4[1]), int(ip.l4[2])<<8|int(ip.l4[3])))
	}
	return strings.Join(parts, ",")
}

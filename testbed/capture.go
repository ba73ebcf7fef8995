package testbed

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Capture records the UDP traffic on a chassis's underlay link.
type Capture struct {
	tb   *Topology
	c    *Chassis
	d    *daemon
	file string
}

// CaptureUnderlay starts tcpdump on the underlay link of chassis c; it is
// stopped by Packets or when t's test ends.
func (tb *Topology) CaptureUnderlay(t testing.TB, c *Chassis) *Capture {
	t.Helper()
	tb.mu.Lock()
	tb.nextIf++
	file := filepath.Join(tb.Dir, fmt.Sprintf("capture-%s-%d.txt", c.Name, tb.nextIf))
	tb.mu.Unlock()
	d, err := startDaemon("tcpdump "+c.Name, file, tb.underlayNS, nil,
		"tcpdump", "--immediate-mode", "-l", "-nn", "-v", "-i", c.ulLink, "udp")
	if err != nil {
		tb.fail(t, "capture: %v", err)
	}
	cp := &Capture{tb: tb, c: c, d: d, file: file}
	t.Cleanup(func() { d.Stop(time.Second) })
	if err := poll(10*time.Second, func() error {
		if strings.Contains(readFile(file), "listening on") {
			return nil
		}
		return d.Alive()
	}); err != nil {
		tb.fail(t, "capture: tcpdump not listening: %v", err)
	}
	return cp
}

// Packet is one captured tunnel packet: outer UDP destination port and the
// decoded text of the whole packet, inner headers included.
type Packet struct {
	DstPort int
	Text    string
}

// outerUDP matches the outer header line of tcpdump -nn -v: "a.b.c.d.port > e.f.g.h.port: ".
var outerUDP = regexp.MustCompile(`^\s*\d+\.\d+\.\d+\.\d+\.\d+ > \d+\.\d+\.\d+\.\d+\.(\d+): `)

// Packets stops the capture and returns what it saw.
func (cp *Capture) Packets() []Packet {
	time.Sleep(300 * time.Millisecond) // let the last packets reach tcpdump
	cp.d.Stop(2 * time.Second)
	return parseCapture(readFile(cp.file))
}

// parseCapture splits tcpdump -nn -v output into tunnel packets: a line
// with the outer UDP header starts one, indented lines continue it.
func parseCapture(text string) []Packet {
	var pkts []Packet
	for _, line := range strings.Split(text, "\n") {
		if m := outerUDP.FindStringSubmatch(line); m != nil {
			port, _ := strconv.Atoi(m[1])
			pkts = append(pkts, Packet{DstPort: port, Text: line})
		} else if len(pkts) > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			pkts[len(pkts)-1].Text += "\n" + line
		}
	}
	return pkts
}

// MustSeeEncap stops the capture and fails unless it holds a packet sent
// to the encap's UDP port whose decoded text contains every string in
// inner (e.g. "10.0.0.1 > 10.0.0.2: ICMP echo request"), and no packet to
// the other encapsulation's port.
func (cp *Capture) MustSeeEncap(t testing.TB, encap Encap, inner ...string) {
	t.Helper()
	pkts := cp.Packets()
	other := Geneve
	if encap == Geneve {
		other = VXLAN
	}
	found, wrong := 0, 0
	for _, p := range pkts {
		switch {
		case p.DstPort == other.Port():
			wrong++
		case p.DstPort == encap.Port() && containsAll(p.Text, inner):
			found++
		}
	}
	raw := tail(readFile(cp.file), 20)
	if found == 0 || wrong > 0 {
		cp.tb.fail(t, "underlay of %s: want %s (UDP %d) packets containing %q: got %d, and %d %s packets; capture tail:\n%s",
			cp.c.Name, encap, encap.Port(), inner, found, wrong, other, raw)
	}
	t.Logf("underlay of %s: %d %s packets (UDP %d) carrying %q", cp.c.Name, found, encap, encap.Port(), inner)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// File is tcpdump's output.
func (cp *Capture) File() string { return cp.file }

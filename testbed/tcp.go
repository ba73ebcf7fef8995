package testbed

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a TCP listener inside a VIF. It answers every connection with
// one line, "<vif name> <client address>", and closes it: enough to tell
// which backend a load balancer picked and which source address NAT left.
type Server struct {
	ln   net.Listener
	name string
	wg   sync.WaitGroup
}

// Listen starts a Server on port in v; it stops when t's test ends.
func (v *VIF) Listen(t testing.TB, port int) *Server {
	t.Helper()
	s := &Server{name: v.Name}
	err := inNetns(v.NS, func() error {
		var err error
		s.ln, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
		return err
	})
	if err != nil {
		v.tb.fail(t, "%s listen on %d: %v", v.Name, port, err)
	}
	s.wg.Add(1)
	go s.routineAccept()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) routineAccept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "%s %s\n", s.name, c.RemoteAddr())
		_ = c.Close()
	}
}

// Close stops the listener and waits for its goroutine.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// Reply is what a Server answered.
type Reply struct {
	Server string // VIF name of the server
	Client string // client IP as the server saw it
}

// Connect opens a TCP connection from v to dst:port, with a 2 second
// deadline, and returns the server's reply.
func (v *VIF) Connect(dst Target, port int) (Reply, error) {
	var line string
	err := inNetns(v.NS, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(dst.Address(), strconv.Itoa(port)), 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, err = bufio.NewReader(c).ReadString('\n')
		return err
	})
	if err != nil {
		return Reply{}, fmt.Errorf("%s connect %s:%d: %w", v.Name, dst.Address(), port, err)
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		return Reply{}, fmt.Errorf("%s connect %s:%d: bad reply %q", v.Name, dst.Address(), port, line)
	}
	host, _, _ := net.SplitHostPort(f[1])
	return Reply{Server: f[0], Client: host}, nil
}

// MustConnect waits, up to 30 seconds, until a TCP connection from v to
// dst:port gets a reply, and returns it.
func (v *VIF) MustConnect(t testing.TB, dst Target, port int) Reply {
	t.Helper()
	var r Reply
	v.tb.WaitFor(t, fmt.Sprintf("%s connects to %s:%d", v.Name, dst.Address(), port), 30*time.Second,
		func() error {
			var err error
			r, err = v.Connect(dst, port)
			return err
		})
	return r
}

// MustNotConnect fails if a TCP connection from v to dst:port gets a
// reply within 2 seconds. Call Sync first when the NB just changed.
func (v *VIF) MustNotConnect(t testing.TB, dst Target, port int) {
	t.Helper()
	if r, err := v.Connect(dst, port); err == nil {
		v.tb.fail(t, "%s connects to %s:%d (answered by %s), but must not", v.Name, dst.Address(), port, r.Server)
	}
}

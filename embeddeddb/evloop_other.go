//go:build !linux

package embeddeddb

import "net"

// evLoops exists on Linux only; elsewhere every client has its own
// reader and writer goroutines.
type evLoops struct{}

func (s *Server) adopt(*conn, net.Conn) bool { return false }

func (ls *evLoops) stop() {}

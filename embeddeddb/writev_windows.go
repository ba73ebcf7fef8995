package embeddeddb

// maxParts bounds the pieces of one vectored message.
const maxParts = 8

// writev writes nothing on Windows, whose sockets Go drives through
// overlapped I/O: the caller queues parts for the connection's writer
// goroutine, which sends them through net.Conn.
func writev(uintptr, [][]byte) (int, error) { return 0, nil }

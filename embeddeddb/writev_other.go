//go:build !linux && !windows

package embeddeddb

import "syscall"

// maxParts bounds the pieces of one vectored message.
const maxParts = 8

// writev writes parts, joined, with one write(2) on the non-blocking
// socket fd and returns how many bytes went.
func writev(fd uintptr, parts [][]byte) (int, error) {
	var msg []byte
	for _, p := range parts {
		msg = append(msg, p...)
	}
	if len(msg) == 0 {
		return 0, nil
	}
	return syscall.Write(int(fd), msg)
}
